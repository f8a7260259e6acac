"""Scale benchmark: load, memory, query speed (and SHACL at 10^5) on synthetic data.

The synthetic data clones the shipped invocations, missions, reports, claims, allegations,
meetings and sources under new identifiers, so it has the real shape and still conforms to
the shapes (States, organisations and vocabularies stay shared). Each size runs in its own
process so its memory is measured alone. Peers in the same run: pyoxigraph (our engine)
against rdflib (the engine pyshacl and most Python tools use), reported as ratios.

    python benchmarks/bench_scale.py                 # 10^5 and 10^6
    python benchmarks/bench_scale.py --sizes 1e5 1e6 1e7 --rdflib-max 1e6
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import resource
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from mmkg.kg import competency
from mmkg.kg import files as package_data
from mmkg.kg.loader import load_store

# Resources of these kinds are cloned; everything else (States, vocabularies...) is shared.
CLONED = re.compile(
    r"^(https://w3id\.org/mmkg/id/(?:invocation|mission|report|claim|allegation)"
    r"/[a-z0-9-]+)$")


def _clone_term(term: object, n: int) -> object:
    if isinstance(term, ox.NamedNode) and CLONED.match(term.value):
        return ox.NamedNode(f"{term.value}-s{n}")
    return term


def synthetic_file(target_triples: int, directory: Path,
                   named_only: bool = False) -> tuple[Path, int]:
    """Write an N-Quads file of about `target_triples` (shipped data + clones); return its size.

    With `named_only` the file holds each file's named graph only, as `mmkg serve --data`
    expects (its loader adds the union as the default graph itself).
    """
    store = load_store(package_data.default_data_files())
    base = [q for q in store if not (named_only and isinstance(q.graph_name, ox.DefaultGraph))]
    cloneable = [q for q in base if isinstance(q.subject, ox.NamedNode)
                 and CLONED.match(q.subject.value)]
    path = directory / f"synthetic-{target_triples}.nq"
    count = 0
    with path.open("wb") as out:
        out.write(ox.serialize(base, format=ox.RdfFormat.N_QUADS) or b"")
        count += len(base)
        n = 0
        while count < target_triples:
            n += 1
            clones = [ox.Quad(_clone_term(q.subject, n), q.predicate,
                              _clone_term(q.object, n), q.graph_name) for q in cloneable]
            out.write(ox.serialize(clones, format=ox.RdfFormat.N_QUADS) or b"")
            count += len(clones)
    return path, count


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median_ms(run, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _measure_oxigraph(path: str, queries: dict[str, str], out: mp.Queue) -> None:
    start = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    load_s = time.perf_counter() - start
    timings = {name: _median_ms(lambda q=q: list(store.query(q)))
               for name, q in queries.items()}
    out.put({"engine": "pyoxigraph", "load_s": load_s, "rss_mib": _rss_mib(),
             "queries_ms": timings})


def _measure_rdflib(path: str, queries: dict[str, str], out: mp.Queue) -> None:
    from rdflib import Dataset

    start = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(path, format="nquads")
    load_s = time.perf_counter() - start
    timings = {name: _median_ms(lambda q=q: list(ds.query(q)), repeat=3)
               for name, q in queries.items()}
    out.put({"engine": "rdflib", "load_s": load_s, "rss_mib": _rss_mib(), "queries_ms": timings})


def _measure_shacl(path: str, out: mp.Queue) -> None:
    from mmkg.kg.store import KnowledgeGraph
    from mmkg.kg.validate import validate_graph

    store = ox.Store()
    store.load(path=path, format=ox.RdfFormat.N_QUADS)
    graph = KnowledgeGraph(store, (Path(path),), "bench", None)  # type: ignore[arg-type]
    start = time.perf_counter()
    report = validate_graph(graph)
    out.put({"shacl_s": time.perf_counter() - start, "conforms": report.conforms,
             "violations": len(report.violations)})


def _in_process(target, *args) -> dict:
    queue: mp.Queue = mp.Queue()
    proc = mp.get_context("fork").Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1e5", "1e6"])
    parser.add_argument("--rdflib-max", default="1e6", help="largest size rdflib is run on")
    parser.add_argument("--shacl-max", default="1e5", help="largest size SHACL is run on")
    args = parser.parse_args()
    queries = {q.name: q.sparql for q in competency.questions()}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(float(s)) for s in args.sizes):
            path, count = synthetic_file(size, Path(tmp))
            row: dict = {"target": size, "triples": count}
            row["pyoxigraph"] = _in_process(_measure_oxigraph, str(path), queries)
            if size <= float(args.rdflib_max):
                row["rdflib"] = _in_process(_measure_rdflib, str(path), queries)
                ox_q, rd_q = row["pyoxigraph"]["queries_ms"], row["rdflib"]["queries_ms"]
                row["ratios_rdflib_over_pyoxigraph"] = {
                    "load": row["rdflib"]["load_s"] / row["pyoxigraph"]["load_s"],
                    "rss": row["rdflib"]["rss_mib"] / row["pyoxigraph"]["rss_mib"],
                    **{k: rd_q[k] / max(ox_q[k], 1e-6) for k in ox_q},
                }
            if size <= float(args.shacl_max):
                row["shacl"] = _in_process(_measure_shacl, str(path))
            results.append(row)
            print(json.dumps(row, indent=2), flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
