"""Real peers for the tests: free loopback ports, an app served over real HTTP in this
process, requests from distinct loopback addresses, and an Oxigraph SPARQL server.

One place for starting `mmkg serve` as a process and the `oxigraph` server (PyPI package
`oxigraph`, found beside the running Python first so a virtual environment works without being
activated).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

START_TIMEOUT = 600  # a cold start validates and pre-builds every document, on a busy machine


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def app_server(app: Any) -> Iterator[str]:
    """The app behind Werkzeug's threaded server on a loopback port; yields its root URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def get_from(source: str, port: int, path: str, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None,
             timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """GET from a chosen loopback address (127.0.0.0/8 is all loopback on Linux), so that a
    server sees distinct clients: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path + ("?" + urlencode(params) if params else ""),
                     headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def oxigraph_binary() -> str:
    beside_python = Path(sys.executable).parent / "oxigraph"
    found = str(beside_python) if beside_python.exists() else shutil.which("oxigraph")
    if found is None:
        pytest.fail("the oxigraph server (PyPI package `oxigraph`) is not installed")
    return found


@contextmanager
def oxigraph_server(folder: Path, data: Path, start_timeout: float = 30) -> Iterator[str]:
    """`oxigraph load` a file, then `oxigraph serve-read-only` on a loopback port.

    No --union-default-graph: our store dumps carry the union (a set) as their default graph.

    Yields the query URL; the server is stopped on exit.
    """
    binary = oxigraph_binary()
    subprocess.run([binary, "load", "--location", str(folder / "db"), "--file", str(data)],
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    command = [binary, "serve-read-only", "--location", str(folder / "db"),
               "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    message = process.stderr.read() if process.poll() is not None else b""
                    raise RuntimeError(f"oxigraph did not start: {message!r}") from None
                time.sleep(0.1)
        yield url
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a server process, killing it if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mmkg.cli", "serve", *args]


class Server:
    """A started `mmkg serve` process and how to talk to it."""

    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, path: str, headers: dict[str, str] | None = None,
                method: str = "GET", body: bytes | None = None) -> http.client.HTTPResponse:
        """One request, redirects not followed (so 303 can be seen)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        conn.close()
        return response

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def output_with(self, text: str, count: int = 1) -> str:
        """The log once it holds `text` `count` times (gunicorn's workers boot apart, and one
        answering does not mean the others have booted), or as it is at the start timeout."""
        deadline = time.monotonic() + START_TIMEOUT
        while self.output().count(text) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.output()


@contextmanager
def serving(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
            port: int | None = None) -> Iterator[Server]:
    """Start the server, wait until it answers, stop it (by its own pid) afterwards."""
    port = port or free_port()
    if "MMKG_PORT" not in (env or {}):
        args = (*args, "--port", str(port))
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command(*args), stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})})
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{server.output()}")
            try:
                if server.request("/favicon.ico").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer within {START_TIMEOUT}s:\n{server.output()}")
            time.sleep(0.3)
        yield server
    finally:
        stop(process)


@contextmanager
def threaded_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A WSGI app on a free loopback port in a thread (threaded, like a deployment); yields
    its root URL and shuts it down afterwards. For clients that need real HTTP but not a
    separate process."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium driven by its chromedriver (RULINGS: no browser that
    downloads itself), with a throw-away profile; quit afterwards."""
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or "/usr/bin/chromium"
    driver_binary = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(binary) and os.path.exists(driver_binary)):
        pytest.fail("Debian's chromium and chromium-driver are required (installed by .ci/run)")
    profile = tempfile.mkdtemp(prefix="mmkg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_binary), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def nginx_server(folder: Path, site_conf: Path, port: int, workers: int = 1) -> Iterator[str]:
    """Debian's nginx in the foreground, on its own prefix in `folder`, including the server
    block `site_conf` (which listens on the loopback `port`). Yields its URL once it answers;
    stopped on exit."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is not installed (Debian package nginx-light; .ci/run installs it)")
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
        (folder / temp).mkdir(parents=True, exist_ok=True)
    # As root, nginx's workers would switch to nobody, who cannot read pytest's private
    # temporary folders.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes {workers};\ndaemon off;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/logs/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n  fastcgi_temp_path {folder}/fastcgi;\n"
        f"  uwsgi_temp_path {folder}/uwsgi;\n  scgi_temp_path {folder}/scgi;\n"
        f"  include {site_conf};\n}}\n", encoding="utf-8")
    check = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(conf)],
                           capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        pytest.fail(f"nginx refuses the configuration:\n{check.stderr}")
    process = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {process.stderr.read()!r}"
                                       ) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextmanager
def virtuoso_server(folder: Path, files: dict[str, str], max_rows: int,
                    sorted_rows: int | None = None) -> Iterator[str]:
    """Debian's Virtuoso open source 7 (`virtuoso-t`) on two loopback ports, its database in
    `folder`, configured from the packaged virtuoso.ini as a deployer would: the result-row
    cap (ResultSetMaxRows) at `max_rows`, and MaxSortedTopRows at `sorted_rows` when given.
    `files` maps data files in `folder` to the graph each is loaded into (N-Quads keep their
    own graphs), with ld_dir and rdf_loader_run through isql-vt. Yields the SPARQL URL."""
    import re

    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        pytest.fail("Virtuoso is not installed (Debian package virtuoso-opensource-7; "
                    ".ci/run installs it)")
    sql_port, http_port = free_port(), free_port()
    ini = Path("/etc/virtuoso-opensource-7/virtuoso.ini").read_text(encoding="utf-8")
    ini = ini.replace("/var/lib/virtuoso-opensource-7/db/", f"{folder}/")
    ini = re.sub(r"(?m)^ServerPort\s*=\s*1111\b.*$", f"ServerPort = 127.0.0.1:{sql_port}", ini)
    ini = re.sub(r"(?m)^ServerPort\s*=\s*8890\b.*$", f"ServerPort = 127.0.0.1:{http_port}",
                 ini)
    ini = re.sub(r"(?m)^DirsAllowed\s*=.*$",
                 f"DirsAllowed = ., /usr/share/virtuoso-opensource-7/vad, {folder}", ini)
    ini = re.sub(r"(?m)^ResultSetMaxRows\s*=.*$", f"ResultSetMaxRows = {max_rows}", ini)
    if sorted_rows is not None:
        ini = re.sub(r"(?m)^\[Parameters\]$", f"[Parameters]\nMaxSortedTopRows = {sorted_rows}",
                     ini)
    conf = folder / "virtuoso.ini"
    conf.write_text(ini, encoding="utf-8")
    log = folder / "virtuoso.out"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "-c", str(conf), "+foreground"], cwd=folder,
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}/sparql"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Virtuoso did not start:\n"
                                       f"{log.read_text(errors='replace')}") from None
                time.sleep(0.2)
        load = "".join(f"ld_dir('{folder}', '{name}', '{graph}');"
                       for name, graph in files.items())
        loaded = subprocess.run(
            [isql, str(sql_port), "dba", "dba",
             f"exec={load} rdf_loader_run(); checkpoint; "
             "SELECT ll_file, ll_error FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;"],
            capture_output=True, text=True, timeout=300)
        if loaded.returncode != 0 or "0 Rows." not in loaded.stdout:
            raise RuntimeError(f"Virtuoso did not load the data:\n{loaded.stdout}\n"
                               f"{loaded.stderr}")
        yield url
    finally:
        subprocess.run([isql, str(sql_port), "dba", "dba", "exec=shutdown;"],
                       capture_output=True, timeout=60)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop(process)
