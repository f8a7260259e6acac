"""`mmkg serve` as a real process, started twice on the same cache directory: the first
start validates and builds every document (saying so on stderr), the second reuses both and
answers the same bytes. (That other data, shapes, code or settings mean another store is
tested in process: tests/web/test_prebuilt.py, tests/kg/test_verdict.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from realservers import free_port, serving

pytestmark = pytest.mark.slow

BUILDING = "building every document and page"
VALIDATING = "validating"
ASKED = (("/doc/state/pl", "text/turtle"), ("/doc/state/pl", "application/n-quads"),
         ("/ontology", "text/html"), ("/id/state/pl", "*/*"), ("/", "text/html"))


def test_a_warm_start_reuses_the_verdict_and_the_documents(tmp_path: Path) -> None:
    cache, port = tmp_path / "cache", free_port()
    answers: dict[str, list[tuple[int, bytes]]] = {}
    for start in ("cold", "warm"):
        (tmp_path / start).mkdir()
        with serving(tmp_path / start, "--cache-dir", str(cache), port=port) as server:
            for path, accept in ASKED:
                response = server.request(path, {"Accept": accept})
                assert response.status in (200, 303), (start, path)
                answers.setdefault(f"{path} {accept}", []).append(
                    (response.status, response.body))  # type: ignore[attr-defined]
            log = server.output()
        if start == "cold":
            assert VALIDATING in log and BUILDING in log, log
        else:
            assert VALIDATING not in log and BUILDING not in log, log
    for asked, (cold, warm) in answers.items():
        assert cold == warm, asked  # the same answers, from the same store
    assert len(list((cache / "responses").glob("*.sqlite"))) == 1
    assert len(list((cache / "verdicts").glob("*.json"))) == 1
