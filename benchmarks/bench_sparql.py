"""SPARQL engines on the shipped data, in one run: medians and ratios, no pass/fail.

    python benchmarks/bench_sparql.py [--repeat 20] [--data extra.ttl ...]

Compares, for each competency query (server/mmkg/queries/*.rq, or a built-in set while none ship):
  - embedded pyoxigraph, in process (the engine alone);
  - our /sparql endpoint in embedded mode (Flask test client: parse and safety checks, a
    forked worker, serialization to SPARQL JSON);
  - rdflib's SPARQL engine on the same quads (Dataset with the union as default graph);
  - a real Oxigraph server (`oxigraph serve-read-only`) over HTTP, results as SPARQL JSON.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.store import load_graph, served_files
from mmkg.sparql.views import examples
from mmkg.state import get_state

FALLBACK_QUERIES = {
    "count-by-class": "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)",
    "labels": "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
    "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "invocations": (
        "PREFIX mm: <https://w3id.org/mmkg/ontology#>\n"
        "SELECT ?i ?d (COUNT(?st) AS ?n) WHERE { ?i a mm:Invocation ; mm:date ?d . "
        "OPTIONAL { ?i mm:invokedBy ?st } } GROUP BY ?i ?d ORDER BY ?d"),
}


def median_ms(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up: caches, first fork, connection set-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: ox.Store, folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    dump = folder / "dump.nq"
    store.dump(str(dump), ox.RdfFormat.N_QUADS)
    subprocess.run([binary, "load", "--location", str(folder / "db"), "--file", str(dump)],
                   check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([binary, "serve-read-only", "--location", str(folder / "db"),
                                "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("oxigraph server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--data", nargs="*", default=[], help="extra RDF files to serve")
    args = parser.parse_args(argv)

    settings = Settings(data=tuple(Path(d) for d in args.data), max_results=10**9,
                        query_timeout=120)
    graph = load_graph(served_files(settings))
    store = graph.store
    dataset = Dataset(default_union=True)
    dataset.parse(data=store.dump(format=ox.RdfFormat.N_QUADS).decode(), format="nquads")
    app = create_app(settings, graph=graph)
    client = app.test_client()
    queries = {e.name: e.query for e in examples()} or FALLBACK_QUERIES
    source = "server/mmkg/queries/*.rq" if examples() else "built-in fallback set"

    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(store, Path(tmp))
        try:
            print(f"{len(store)} quads, {len(queries)} queries ({source}), median of "
                  f"{args.repeat} runs, milliseconds\n")
            header = (f"{'query':<32} {'pyoxigraph':>10} {'/sparql':>9} {'rdflib':>9} "
                      f"{'ox server':>9} {'rdflib/ox':>9} {'endpt/ox':>9} {'srv/ox':>8}")
            print(header)
            print("-" * len(header))
            for name, query in queries.items():
                def embedded(q: str = query) -> object:
                    result = store.query(q)
                    return bool(result) if isinstance(result, ox.QueryBoolean) else list(result)

                def endpoint(q: str = query) -> object:
                    response = client.get("/sparql", query_string={"query": q},
                                          headers={"Accept": "application/sparql-results+json,"
                                                             "application/n-triples"})
                    assert response.status_code == 200, response.get_data(as_text=True)
                    return response.data

                def with_rdflib(q: str = query) -> object:
                    result = dataset.query(q)
                    return list(result) if result.type != "ASK" else result.askAnswer

                def over_http(q: str = query) -> object:
                    request = urllib.request.Request(
                        url + "?" + urllib.parse.urlencode({"query": q}),
                        headers={"Accept": "application/sparql-results+json,"
                                           "application/n-triples"})
                    with urllib.request.urlopen(request, timeout=120) as response:
                        return response.read()

                ox_ms = median_ms(embedded, args.repeat)
                endpoint_ms = median_ms(endpoint, args.repeat)
                rdflib_ms = median_ms(with_rdflib, args.repeat)
                http_ms = median_ms(over_http, args.repeat)
                print(f"{name[:32]:<32} {ox_ms:>10.2f} {endpoint_ms:>9.2f} {rdflib_ms:>9.2f} "
                      f"{http_ms:>9.2f} {rdflib_ms / ox_ms:>9.0f} {endpoint_ms / ox_ms:>9.1f} "
                      f"{http_ms / ox_ms:>8.1f}")
        finally:
            process.terminate()
            process.wait(10)
            get_state(app).backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
