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

START_TIMEOUT = 240  # loading and validating the shipped data, on a busy CI machine


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
