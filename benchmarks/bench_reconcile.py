"""Reconciliation speed: batches of 10 queries (OpenRefine's batch size) through the real
endpoint (Flask's test client), with the name index against a scan of every name.

    python benchmarks/bench_reconcile.py            # 30 batches of 10 State names and dates
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from difflib import SequenceMatcher

from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg import files as package_data
from mmkg.kg.store import load_graph
from mmkg.state import get_state
from mmkg.wikidata.reconcile import Reconciler

NAMES = ["Poland", "Moldova, Republic of", "USA", "Turkey", "24 July 2025", "Rusia",
         "Unitd Kingdom", "Belarus", "Georgia", "Vienna Mechanism", "Germany", "France",
         "Sweden", "Norway", "Lithuania", "Latvia", "Estonia", "Canada", "Iceland", "Denmark",
         "Ukraine", "Russian Federation", "Turkmenistan", "Serbia", "Croatia", "Albania",
         "Greece", "Czechia", "Holy See", "Netherlands"]


def scan_score(reconciler: Reconciler, entity, query: str) -> float:  # type: ignore[no-untyped-def]
    """The former name score: every fuzzy name of every entity compared (for the ratio)."""
    from mmkg.wikidata.reconcile import normalise

    key = normalise(query)
    if key in entity.keys:
        return float(entity.keys[key])
    best = 0.0
    for candidate in entity.keys:
        if len(candidate) > 3:
            best = max(best, SequenceMatcher(None, key, candidate).ratio())
    return round(best * 90, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()
    app = create_app(Settings(), load_graph(package_data.default_data_files()))
    client = app.test_client()
    timings = []
    for i in range(args.batches):
        names = [NAMES[(i * 10 + j) % len(NAMES)] + ("" if i < 3 else f" {i}") for j in range(10)]
        queries = {f"q{j}": {"query": name} for j, name in enumerate(names)}
        began = time.perf_counter()
        response = client.post("/reconcile", data={"queries": json.dumps(queries)})
        timings.append(time.perf_counter() - began)
        assert response.status_code == 200
    reconciler = get_state(app).wikidata.reconciler
    began = time.perf_counter()
    for entity in reconciler.entities.values():
        for name in NAMES[:10]:
            scan_score(reconciler, entity, name)
    scan = time.perf_counter() - began
    get_state(app).backend.close()
    print(f"endpoint, batch of 10: median {statistics.median(timings) * 1000:.1f} ms, "
          f"max {max(timings) * 1000:.1f} ms ({args.batches} batches, distinct names)")
    print(f"scanning every name instead, 10 queries: {scan * 1000:.0f} ms")


if __name__ == "__main__":
    main()
