"""Real peers for the tests: free loopback ports and an Oxigraph SPARQL server.

One place for starting the `oxigraph` server (PyPI package `oxigraph`), found beside the
running Python first so a virtual environment works without being activated.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_binary() -> str:
    beside_python = Path(sys.executable).parent / "oxigraph"
    found = str(beside_python) if beside_python.exists() else shutil.which("oxigraph")
    if found is None:
        pytest.fail("the oxigraph server (PyPI package `oxigraph`) is not installed")
    return found


@contextmanager
def oxigraph_server(folder: Path, data: Path, union_default_graph: bool = True,
                    start_timeout: float = 30) -> Iterator[str]:
    """`oxigraph load` a file, then `oxigraph serve-read-only` on a loopback port.

    Yields the query URL; the server is stopped on exit.
    """
    binary = oxigraph_binary()
    subprocess.run([binary, "load", "--location", str(folder / "db"), "--file", str(data)],
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    command = [binary, "serve-read-only", "--location", str(folder / "db"),
               "--bind", f"127.0.0.1:{port}"]
    if union_default_graph:
        command.append("--union-default-graph")
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
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
