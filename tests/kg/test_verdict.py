"""Start-up validates once per data version: the verdict is kept in the cache directory under
a hash of the data, the shapes and the code, and reused at the next start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmkg.config import Settings
from mmkg.kg.store import served_files
from mmkg.kg.validate import DataNotValid, load_validated, verdict_path

ID = "https://w3id.org/mmkg/id/"
MM = "https://w3id.org/mmkg/ontology#"


def test_the_verdict_is_kept_and_reused(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    kept = verdict_path(settings, served_files(settings))
    assert not kept.exists()
    assert load_validated(settings).triple_count() > 0
    verdict = json.loads(kept.read_text(encoding="utf-8"))
    assert verdict["passes"] is True
    assert "1 warning(s)" in verdict["report"]  # the known source disagreement
    # The next start reads the kept verdict instead of validating: a verdict planted under
    # the same key is what it acts on.
    kept.write_text(json.dumps({"passes": False, "report": "planted verdict"}),
                    encoding="utf-8")
    with pytest.raises(DataNotValid, match="planted verdict"):
        load_validated(settings)


def test_other_data_is_validated_again(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    load_validated(settings)
    unsourced = tmp_path / "unsourced.ttl"
    unsourced.write_text(f"<{ID}invocation/mm-2011-unsourced> a <{MM}Invocation> .\n",
                         encoding="utf-8")
    other = Settings(cache_dir=tmp_path / "cache", data=(unsourced,))
    assert verdict_path(other, served_files(other)) != verdict_path(settings,
                                                                     served_files(settings))
    with pytest.raises(DataNotValid, match="fails: there are violations"):
        load_validated(other)
    # The refusal is kept too: the same data is refused at once, with the same report.
    kept = json.loads(verdict_path(other, served_files(other)).read_text(encoding="utf-8"))
    assert kept["passes"] is False and "mm-2011-unsourced" in kept["report"]


def test_a_damaged_verdict_means_validating_again(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    kept = verdict_path(settings, served_files(settings))
    kept.parent.mkdir(parents=True)
    kept.write_text("{not json", encoding="utf-8")
    assert load_validated(settings).triple_count() > 0
    assert json.loads(kept.read_text(encoding="utf-8"))["passes"] is True
