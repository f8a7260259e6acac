"""Replicas send the same bytes under the same ETag: two server processes with different
hash seeds (Python orders sets differently in each) answer a sample of every published path,
in every format, and wherever their ETags agree their bodies agree. A download resumed from
another replica (Range with If-Range) must join up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

# Run in each process: every non-resource path and every 20th resource, in each format it
# offers, answered by the app as a client would ask for it.
ANSWERS = r"""
import hashlib, json
from mmkg.app import create_app
from mmkg.linkeddata.publication import published
from mmkg.state import get_state
app = create_app()
client = app.test_client()
items = published(get_state(app))
chosen = [p for p in items if not p.path.startswith(("/doc/", "/id/"))]
chosen += [p for p in items if p.path.startswith("/doc/")][::20]
out = {}
for item in chosen:
    for fmt in item.offered or (None,):
        headers = {"Accept-Encoding": "identity"}
        if fmt is not None:
            headers["Accept"] = fmt.media_type
        r = client.get(item.path, headers=headers)
        key = f"{item.path} {fmt.key if fmt else '-'}"
        out[key] = [r.status_code, r.headers.get("ETag"), hashlib.sha256(r.data).hexdigest()]
print(json.dumps(out))
"""


def answers(seed: str) -> dict[str, list[object]]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", ANSWERS], capture_output=True, text=True,
                          env=env, timeout=600, check=True)
    result: dict[str, list[object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_one_etag_means_one_body_across_processes() -> None:
    first, second = answers("1"), answers("2")
    assert first.keys() == second.keys()
    assert len(first) > 200  # dumps, VoID, ontology, pages and a sample of every kind
    for key, (status, etag, digest) in first.items():
        other_status, other_etag, other_digest = second[key]
        assert status == other_status, key
        if status != 200:
            continue  # a redirect (/dataset): no body to compare
        if etag == other_etag:  # (or both have none)
            assert digest == other_digest, f"{key}: one ETag {etag}, two bodies"
    # Determinism, not only honest ETags: every body is byte-identical, but for pyLODE's
    # ontology page, which orders some lists as Python's sets do (its ETag names its bytes).
    differing = {key for key in first if first[key][2] != second[key][2]}
    assert differing <= {"/ontology html", "/ontology.html -"}, sorted(differing)
    for key in differing:
        assert first[key][1] != second[key][1], key

