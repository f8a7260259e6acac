"""The HTTP workloads of issue 12, against the peers a user would pick instead, in one run per
size: measurements, not tests (nothing here passes or fails).

    python benchmarks/bench_http.py                          # the shipped data
    python benchmarks/bench_http.py --sizes shipped 1e5 1e6 --duration 10
    python benchmarks/bench_http.py --report benchmarks/results/http-run.json

Peers, all on this machine's loopback, measured with wrk (Debian) in the same run:
  - `mmkg serve --workers 2` (gunicorn, pre-built responses warm in the cache directory);
  - Flask "hello" under the same gunicorn with the same options (benchmarks/hello_app.py):
    the ceiling of the Python stack;
  - Oxigraph server (`oxigraph serve-read-only`, PyPI package `oxigraph`) loaded with our own
    N-Triples dump (/dump/mmkg.nt.gz): DESCRIBE of the same resources, the same queries;
  - nginx (Debian) serving `mmkg publish` of the same data.

Sizes: the shipped data, and synthetic data of our shape at 10^5 and 10^6 triples
(benchmarks/bench_scale.py's generator). SHACL runs on the shipped data and at 10^5 (RULINGS:
scale benchmarks); at 10^6 a passing verdict is written for the synthetic data instead of
running pyshacl, which the rulings leave out at that size.

Every figure goes to the JSON file with the `uptime` load beside it; `--report` prints the
tables of benchmarks/RESULTS.md and writes the plot (SVG) from a JSON file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' real-server helpers
sys.path.insert(0, str(HERE))

from bench_scale import synthetic_file  # noqa: E402

from mmkg.config import Settings  # noqa: E402
from mmkg.kg.validate import verdict_path  # noqa: E402
from realservers import free_port, nginx_server, oxigraph_binary, stop  # noqa: E402

PYTHON = sys.executable
BASE = "https://w3id.org/mmkg/"
ONE_DOCUMENT = "/doc/state/pl"
DOCUMENTS = 400
AGGREGATE = ("SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)")
# Differs every time: another HAVING bound and LIMIT for each request (never a cache hit).
VARIED = ("SELECT ?c (COUNT(?s) AS ?n) WHERE {{ ?s a ?c }} GROUP BY ?c "
          "HAVING (COUNT(?s) >= {k}) ORDER BY DESC(?n) LIMIT {n}")
RESULTS_JSON = "application/sparql-results+json"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# --- servers -----------------------------------------------------------------------------------

def wait_for(url: str, process: subprocess.Popen, headers: dict[str, str] | None = None,
             timeout: float = 3600) -> float:
    """Seconds until `url` answers 200 (polled every 10 ms)."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers=headers or {})
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    response.read()
                    return time.monotonic() - started
        except OSError:
            pass
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{url} did not answer within {timeout} s")
        time.sleep(0.01)


@contextmanager
def running(command: list[str], url: str, log: Path, headers: dict[str, str] | None = None,
            env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, float]]:
    """A server process and the seconds from its start to its first answer at `url`."""
    with log.open("ab") as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
    try:
        wait_for(url, process, headers)
        yield process, time.monotonic() - started
    finally:
        stop(process)


def mmkg_command(data_args: list[str], port: int, cache: Path, workers: int = 2) -> list[str]:
    return [PYTHON, "-m", "mmkg.cli", "serve", "--workers", str(workers), "--port", str(port),
            "--cache-dir", str(cache), *data_args]


# --- wrk ---------------------------------------------------------------------------------------

LUA_PATHS = """
local paths = {%s}
local i = 0
%s
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""

LUA_VARIED = """
local counter = 0
%s
request = function()
  counter = counter + 1
  local n = counter * 2 + (tid or 0)
  return wrk.format("GET", "%s?query=%s" .. (n %% 7) .. "%s" .. (1000 + n) .. "%s")
end
"""

LUA_THREADS = """
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
"""


def lua_headers(headers: dict[str, str]) -> str:
    return "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())


def wrk(url: str, duration: int, connections: int, script: str | None = None,
        folder: Path | None = None) -> dict[str, Any]:
    """Requests per second, latency percentiles and non-2xx/3xx count of one wrk run."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        assert folder is not None
        path = folder / f"script-{time.monotonic_ns()}.lua"
        path.write_text(script, encoding="utf-8")
        command += ["-s", str(path)]
    load = uptime()
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    latency = {}
    for pct in ("50", "90", "99"):
        found = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if found:
            factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
            latency[f"p{pct}_ms"] = float(found.group(1)) * factor
    return {"rps": rate, **latency, "non_2xx_3xx": int(bad.group(1)) if bad else 0,
            "uptime_before": load, "command": " ".join(command + [url])}


def palindrome(group: str, runs: list[tuple[str, str, str | None, str]], duration: int,
               connections: int, folder: Path) -> dict[str, dict[str, Any]]:
    """Each run twice, in the order given and then reversed (A B C C B A): on a shared
    machine whose load drifts, every pair of workloads is then measured at the same mean
    load. Each run lasts half of `duration`; rates are the mean of the two."""
    half = max(1, duration // 2)
    found: dict[str, list[dict[str, Any]]] = {}
    for name, base, script, path in [*runs, *reversed(runs)]:
        found.setdefault(name, []).append(wrk(base + path, half, connections, script, folder))
    merged = {}
    for name, results in found.items():
        key = f"{group}:hello" if name == "hello" else name
        merged[key] = {**results[0], "rps": sum(r["rps"] for r in results) / len(results),
                       "runs": results}
    return merged


def paths_script(paths: list[str], headers: dict[str, str]) -> str:
    quoted = ", ".join(json.dumps(p) for p in paths)
    return LUA_PATHS % (quoted, lua_headers(headers))


def varied_script(endpoint_path: str, headers: dict[str, str]) -> str:
    """Each request another query: VARIED with k and n from the request counter."""
    before, rest = VARIED.split("{k}")
    middle, after = rest.split("{n}")
    parts = [urllib.parse.quote(t.replace("{{", "{").replace("}}", "}"), safe="")
             for t in (before, middle, after)]
    return LUA_THREADS + LUA_VARIED % (lua_headers(headers), endpoint_path, *parts)


# --- data ---------------------------------------------------------------------------------------

def prepare(size: str, folder: Path, cache: Path) -> tuple[list[str], int]:
    """`mmkg serve` data arguments for a size, and its target triple count (0: shipped)."""
    if size == "shipped":
        return [], 0
    target = int(float(size))
    path, _ = synthetic_file(target, folder, named_only=True)
    args = ["--no-default-data", "--data", str(path)]
    if target > 10**5:  # RULINGS: SHACL at 10^5 at most; the synthetic data keeps the shapes
        settings = Settings(no_default_data=True, data=(path,), cache_dir=cache)
        from mmkg.kg.store import served_files
        verdict = verdict_path(settings, served_files(settings))
        verdict.parent.mkdir(parents=True, exist_ok=True)
        verdict.write_text(json.dumps({"passes": True, "report": "not validated: a synthetic "
                                       "sample above 10^5 triples (benchmark)"}))
    return args, target


def sample_documents(oxigraph: str, count: int) -> list[str]:
    """`count` resource documents, a fixed random sample of every resource (asked of the
    Oxigraph server, which caps no answer)."""
    query = ("SELECT DISTINCT ?r WHERE { ?r ?p ?o . "
             f'FILTER(STRSTARTS(STR(?r), "{BASE}id/")) }} ORDER BY ?r')
    request = urllib.request.Request(oxigraph + "/query?query=" + urllib.parse.quote(query),
                                     headers={"Accept": RESULTS_JSON})
    with urllib.request.urlopen(request) as response:
        bindings = json.load(response)["results"]["bindings"]
    docs = [b["r"]["value"].replace(f"{BASE}id/", "/doc/") for b in bindings]
    return random.Random(12).sample(docs, min(count, len(docs)))


def describe(iri_path: str) -> str:
    query = f"DESCRIBE <{BASE}id/{iri_path.removeprefix('/doc/')}>"
    return "/query?query=" + urllib.parse.quote(query, safe="")


# --- one size ----------------------------------------------------------------------------------

def run_size(size: str, duration: int, connections: int, work: Path, prebuilt: bool,
             published: bool) -> dict[str, Any]:
    folder = work / f"size-{size}"
    folder.mkdir()
    cache = folder / "cache"
    log = folder / "servers.log"
    data_args, target = prepare(size, folder, cache)
    if not prebuilt:
        data_args.append("--no-prebuilt")
    row: dict[str, Any] = {"size": size, "target_triples": target, "uptime_start": uptime(),
                           "prebuilt": prebuilt, "published": published}
    turtle = {"Accept": "text/turtle"}
    results_json = {"Accept": RESULTS_JSON}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = url + ONE_DOCUMENT + ".ttl"
    # Cold: validates (once per data version) and builds every document and page.
    with running(mmkg_command(data_args, port, cache), first, log) as (_, cold):
        row["start_cold_s"] = cold
        with urllib.request.urlopen(url + "/dump/mmkg.nt.gz") as response:
            dump = gzip.decompress(response.read())
        with urllib.request.urlopen(urllib.request.Request(
                url + "/sparql?query=" + urllib.parse.quote(
                    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), headers=results_json)) as r:
            row["triples"] = int(json.load(r)["results"]["bindings"][0]["n"]["value"])
    (folder / "dump.nt").write_bytes(dump)
    del dump

    with ExitStack() as stack:
        binary = oxigraph_binary()
        subprocess.run([binary, "load", "--location", str(folder / "oxigraph"),
                        "--file", str(folder / "dump.nt")], check=True, capture_output=True)
        ox_port = free_port()
        ox = f"http://127.0.0.1:{ox_port}"
        _, ox_start = stack.enter_context(running(
            [binary, "serve-read-only", "--location", str(folder / "oxigraph"),
             "--bind", f"127.0.0.1:{ox_port}"], ox + "/query?query=ASK%7B%7D", log))
        row["start_oxigraph_s"] = ox_start
        documents = sample_documents(ox, DOCUMENTS)
        row["documents_sampled"] = len(documents)
        # Warm start: the verdict and the pre-built responses are in the cache directory.
        _, warm = stack.enter_context(running(mmkg_command(data_args, port, cache), first, log))
        row["start_warm_s"] = warm
        hello_port = free_port()
        hello = f"http://127.0.0.1:{hello_port}"
        stack.enter_context(running([PYTHON, str(HERE / "hello_app.py"), str(hello_port)],
                                    hello + "/", log))
        nginx = ""
        if published:
            site = folder / "site"
            nginx_port = free_port()
            started = time.monotonic()
            subprocess.run([PYTHON, "-m", "mmkg.cli", "publish", str(site), "--listen",
                            f"127.0.0.1:{nginx_port}", "--cache-dir", str(cache), *data_args],
                           check=True, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
            row["publish_s"] = time.monotonic() - started
            nginx = stack.enter_context(nginx_server(folder / "nginx", site / ".config" /
                                                     "nginx.conf", nginx_port, workers=2))
        if not prebuilt:  # documents are made on first request: make them before measuring
            wrk(url, max(duration, 10), connections, paths_script(documents, turtle), folder)

        # Every workload, the ceiling's included, goes through the same kind of wrk script:
        # a script costs wrk some CPU, on the cores the servers share.
        docs = [("hello", hello, paths_script(["/"], {}), ""),
                ("one_doc/mmkg", url, paths_script([ONE_DOCUMENT], turtle), ""),
                ("many_docs/mmkg", url, paths_script(documents, turtle), ""),
                ("many_docs/oxigraph", ox,
                 paths_script([describe(p) for p in documents], turtle), ""),
                ("many_docs/nginx", nginx, paths_script(documents, turtle), ""),
                ("one_doc/oxigraph", ox, paths_script([describe(ONE_DOCUMENT)], turtle), ""),
                ("one_doc/nginx", nginx, paths_script([ONE_DOCUMENT], turtle), "")]
        docs = [run for run in docs if run[1]]  # no nginx where nothing was published
        aggregate = "?query=" + urllib.parse.quote(AGGREGATE, safe="")
        queries = [("hello", hello, paths_script(["/"], {}), ""),
                   ("same_query/mmkg", url, paths_script(["/sparql" + aggregate], results_json),
                    ""),
                   ("same_query/oxigraph", ox, paths_script(["/query" + aggregate],
                                                            results_json), ""),
                   ("varied_queries/mmkg", url, varied_script("/sparql", results_json), ""),
                   ("varied_queries/oxigraph", ox, varied_script("/query", results_json), "")]
        row["workloads"] = {}
        for group, runs in (("documents", docs), ("queries", queries)):
            measured = palindrome(group, runs, duration, connections, folder)
            row["workloads"].update(measured)
            print(f"  {size} {group}: " + ", ".join(
                f"{name} {result['rps']:.0f}" for name, result in measured.items()), flush=True)
    row["uptime_end"] = uptime()
    return row


# --- report ------------------------------------------------------------------------------------

def ratios(row: dict[str, Any]) -> dict[str, float]:
    """Every figure against the peer measured in the same group of runs."""
    w = {k: v["rps"] for k, v in row["workloads"].items()}
    ceiling, query_ceiling = w["documents:hello"], w["queries:hello"]
    limit = 1 / (1 / query_ceiling + 1 / w["varied_queries/oxigraph"])
    return {
        "ceiling": ceiling,
        "query_ceiling": query_ceiling,
        "one_doc": w["one_doc/mmkg"] / ceiling,
        "many_docs": w["many_docs/mmkg"] / ceiling,
        "many_docs_vs_oxigraph": w["many_docs/mmkg"] / w["many_docs/oxigraph"],
        "nginx_vs_oxigraph": (w["many_docs/nginx"] / w["many_docs/oxigraph"]
                              if "many_docs/nginx" in w else math.nan),
        "same_query": w["same_query/mmkg"] / query_ceiling,
        "varied_limit": limit,
        "varied_queries": w["varied_queries/mmkg"] / limit,
    }


def report(results: list[dict[str, Any]], svg: Path) -> str:
    lines = []
    for row in results:
        r = ratios(row)
        w = {k: v for k, v in row["workloads"].items()}
        lines += [f"### {row['size']}: {row['triples']:,} triples", "",
                  f"Load at the start: `{row['uptime_start']}`; at the end: "
                  f"`{row['uptime_end']}`.", "",
                  "| workload | mmkg | peer | ratio | target |", "|---|---|---|---|---|"]

        def rps(key: str, w: dict[str, Any] = w) -> str:
            return f"{w[key]['rps']:,.0f} req/s"

        served = "pre-built" if row["prebuilt"] else "made on first request (--no-prebuilt)"
        lines += [
            f"| one document, repeated (Turtle; {served}) | {rps('one_doc/mmkg')} | Flask "
            f"hello {r['ceiling']:,.0f} req/s (ceiling) | **{r['one_doc']:.2f}** | ≥ 0.9 |",
            f"| {row['documents_sampled']} different documents in turn (Turtle) | "
            f"{rps('many_docs/mmkg')}, p50 {w['many_docs/mmkg']['p50_ms']:.2f} ms | ceiling "
            f"{r['ceiling']:,.0f} req/s | **{r['many_docs']:.2f}** | ≥ 0.9 |",
            f"| the same, against Oxigraph server DESCRIBE | {rps('many_docs/mmkg')} | "
            f"Oxigraph {rps('many_docs/oxigraph')} | **{r['many_docs_vs_oxigraph']:.2f}** | |"]
        if "many_docs/nginx" in w:
            lines.append(
                f"| the same documents from nginx (`mmkg publish`) | nginx "
                f"{rps('many_docs/nginx')} | Oxigraph {rps('many_docs/oxigraph')} | "
                f"**{r['nginx_vs_oxigraph']:.2f}** | ≥ 2 |")
        lines += [
            f"| the same aggregate query, repeated | {rps('same_query/mmkg')} | ceiling "
            f"{r['query_ceiling']:,.0f} req/s (Oxigraph {rps('same_query/oxigraph')}) | "
            f"**{r['same_query']:.2f}** | ≥ 0.8 |",
            f"| aggregate queries that differ every time | {rps('varied_queries/mmkg')} | "
            f"limit 1/(1/ceiling + 1/Oxigraph) = {r['varied_limit']:,.0f} req/s (Oxigraph "
            f"{rps('varied_queries/oxigraph')}) | **{r['varied_queries']:.2f}** | ≥ 0.8 |",
            f"| start-up to the first answer, warm cache | {row['start_warm_s']:.2f} s | "
            f"Oxigraph server {row['start_oxigraph_s']:.2f} s | | < 2 s |",
            f"| start-up, cold (validate, build every document) | {row['start_cold_s']:.1f} s | "
            f"| | |"]
        if "publish_s" in row:
            lines.append(f"| `mmkg publish` (every file, nginx and Apache configuration) | "
                         f"{row['publish_s']:.1f} s | | | |")
        lines.append("")
    svg.write_text(plot(results), encoding="utf-8")
    return "\n".join(lines)


SERIES = (("one_doc/mmkg", "mmkg, one document", "#1f77b4", ""),
          ("many_docs/mmkg", "mmkg, 400 documents", "#1f77b4", "6,3"),
          ("many_docs/oxigraph", "Oxigraph DESCRIBE, 400 documents", "#d62728", "6,3"),
          ("many_docs/nginx", "nginx (mmkg publish), 400 documents", "#2ca02c", "6,3"),
          ("same_query/mmkg", "mmkg, same aggregate query", "#9467bd", ""),
          ("varied_queries/mmkg", "mmkg, varied aggregate queries", "#ff7f0e", ""),
          ("varied_queries/oxigraph", "Oxigraph, varied aggregate queries", "#d62728", ""),
          ("documents:hello", "Flask hello (ceiling)", "#7f7f7f", "2,3"))


def plot(results: list[dict[str, Any]]) -> str:
    """Cost per request (ms of wall time per request at 8 connections: 1000 / req/s)
    against the number of triples, both on log scales, as an SVG of our own."""
    width, height, left, top, right, bottom = 760, 420, 70, 20, 250, 50
    xs = [math.log10(r["triples"]) for r in results]
    costs = [1000 / v["rps"] for r in results for v in r["workloads"].values()]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    y0, y1 = math.floor(math.log10(min(costs))), math.ceil(math.log10(max(costs)))
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / max(x1 - x0, 1) * plot_w

    def py(cost: float) -> float:
        return top + plot_h - (math.log10(cost) - y0) / max(y1 - y0, 1) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for e in range(x0, x1 + 1):
        out.append(f'<line x1="{px(e):.1f}" y1="{top}" x2="{px(e):.1f}" y2="{top + plot_h}" '
                   f'stroke="#ddd"/><text x="{px(e):.1f}" y="{top + plot_h + 15}" '
                   f'text-anchor="middle">10^{e}</text>')
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   f'stroke="#ddd"/><text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{10 ** e:g} ms</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">'
               'triples served (log)</text>')
    out.append(f'<text x="15" y="{top + plot_h / 2}" transform="rotate(-90 15 '
               f'{top + plot_h / 2})" text-anchor="middle">ms per request at 8 connections '
               '(log)</text>')
    for n, (key, label, colour, dash) in enumerate(SERIES):
        points = [(px(x), py(1000 / r["workloads"][key]["rps"]))
                  for x, r in zip(xs, results, strict=True) if key in r["workloads"]]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" '
                   f'stroke-dasharray="{dash}"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        ly = top + 10 + n * 18
        out.append(f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 40}" '
                   f'y2="{ly}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
                   f'<text x="{width - right + 45}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["shipped"])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--prebuilt-max", default="1e5",
                        help="largest size served from pre-built documents (above: "
                             "--no-prebuilt, documents made on first request)")
    parser.add_argument("--publish-max", default="1e5",
                        help="largest size published for nginx")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "http-run.json")
    parser.add_argument("--report", type=Path, help="print the tables of a JSON file")
    parser.add_argument("--svg", type=Path, default=HERE / "results" / "http-cost.svg")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(args.report.read_text()), args.svg))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="mmkg-bench-") as tmp:
        for size in args.sizes:
            print(f"size {size}: {uptime()}", flush=True)
            triples = 0 if size == "shipped" else float(size)
            results.append(run_size(size, args.duration, args.connections, Path(tmp),
                                    prebuilt=triples <= float(args.prebuilt_max),
                                    published=triples <= float(args.publish_max)))
            args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(report(results, args.svg))


if __name__ == "__main__":
    main()
