"""CORS as a browser sees it (issue 11, item 1): a page on another origin (a second loopback
port) in Debian's headless Chromium fetches documents, dumps, the context, the ontology, VoID
and the endpoint with the Accept header Comunica sends. Over 128 characters an Accept header
is not "simple", so every fetch needs a preflight the server must answer."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from mmkg.formats import COMMON_ACCEPT
from realservers import chromium, threaded_server

pytestmark = pytest.mark.slow

# What Comunica's actor-http-fetch sends (Comunica 3, as its own debug log prints it): 324
# characters, so never a CORS-safelisted header.
COMUNICA_ACCEPT = COMMON_ACCEPT["comunica"]

PAGE = """<!doctype html><meta charset="utf-8"><title>another origin</title>
<script>
window.fetchAll = async function (base, accept, paths) {
  const out = {};
  for (const path of paths) {
    try {
      const response = await fetch(base + path, {headers: {"Accept": accept}});
      const body = await response.text();
      out[path] = {status: response.status, type: response.headers.get("Content-Type"),
                   etag: response.headers.get("ETag"), link: response.headers.get("Link"),
                   length: body.length, start: body.slice(0, 200)};
    } catch (error) {
      out[path] = {error: String(error)};
    }
  }
  return out;
};
</script>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def data_origin(shipped_app) -> Iterator[str]:
    with threaded_server(shipped_app) as url:
        yield url


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    """Another origin: a page on a second loopback port (a different origin by port)."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def fetch_all(driver, page: str, base: str, accept: str, paths: list[str]) -> dict:
    driver.get(page + "/")
    driver.set_script_timeout(120)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.fetchAll(arguments[0], arguments[1], arguments[2]).then(done);",
        base, accept, paths)


PATHS = ["/id/state/pl", "/doc/state/pl", "/doc/invocation/mm-2025-07-ua-pow",
         "/graph/states", "/context.jsonld", "/dump/mmkg.nt", "/dump/mmkg.ttl", "/ontology",
         "/.well-known/void", "/sparql?query=ASK%7B%7D"]


def test_comunicas_accept_is_not_a_simple_header():
    assert len(COMUNICA_ACCEPT) == 324


def test_a_page_on_another_origin_reads_everything_with_comunicas_accept(
        browser, page_origin, data_origin):
    assert page_origin != data_origin
    got = fetch_all(browser, page_origin, data_origin, COMUNICA_ACCEPT, PATHS)
    for path in PATHS:
        answer = got[path]
        assert "error" not in answer, (path, answer)  # "TypeError: Failed to fetch" before
        assert answer["status"] == 200, (path, answer)
        assert answer["length"] > 0, path
    # Comunica's first choice is N-Quads; the 303 from /id/ was followed across the origin.
    assert got["/id/state/pl"]["type"] == "application/n-quads"
    assert got["/doc/state/pl"]["type"] == "application/n-quads"
    assert got["/dump/mmkg.nt"]["type"] == "application/n-triples"
    assert got["/context.jsonld"]["type"].startswith("application/ld+json")
    # Exposed headers reach the script: the validator and the alternates.
    assert got["/doc/state/pl"]["etag"]
    assert "rel=\"alternate\"" in got["/doc/state/pl"]["link"]


def test_the_browser_refuses_when_the_server_does_not_allow(browser, page_origin, data_origin):
    """Guards the test above: a route that does not exist answers the preflight with 404,
    and the browser reports the failure the issue saw."""
    got = fetch_all(browser, page_origin, data_origin, COMUNICA_ACCEPT, ["/no/such/route"])
    assert "Failed to fetch" in got["/no/such/route"].get("error", "")
