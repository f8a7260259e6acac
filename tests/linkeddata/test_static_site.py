"""`mmkg publish`: the folder served by a real nginx (Debian's) answers as the app does for
the declared common Accept headers: status, Location, Content-Type and the body as triples;
gzip from the precompressed files; the configuration itself is never served; pages link to
the app's query page only when --public-url names one."""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from rdflib import Graph

from helpers import Page, assert_isomorphic, ld_fixture_settings, quads_of, union_graph
from mmkg.app import create_app
from mmkg.formats import COMMON_ACCEPT, DOCUMENT_FORMATS, HTML, JSON_LD, Format
from mmkg.kg.store import load_graph, served_files
from mmkg.linkeddata.kinds import APP_ONLY
from mmkg.linkeddata.static_site import CONFIG_DIR, publish
from mmkg.state import get_state
from realservers import free_port, nginx_server

pytestmark = pytest.mark.slow

ACCEPTS = {"none": None, **COMMON_ACCEPT}
BY_MEDIA = {f.media_type: f for f in DOCUMENT_FORMATS}
RESOURCES = ["state/pl", "invocation/mm-2025-07-ua-pow", "category/prisoners-of-war"]


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    settings = replace(ld_fixture_settings(), cache_dir=tmp_path_factory.mktemp("cache"))
    made = create_app(settings, load_graph(served_files(settings)))
    # Identifiers renamed in a release, as graph/redirects.csv gives them for the shipped data.
    get_state(made).site.redirects.update(RENAMED)
    yield made
    get_state(made).backend.close()


RENAMED = {"id/state/renamed-pl": "id/state/pl", "graph/renamed-fixture": "graph/fixture"}


@pytest.fixture(scope="module")
def site(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The published folder, served by nginx on a loopback port."""
    folder = tmp_path_factory.mktemp("site")
    port = free_port()
    publish(app, folder, f"127.0.0.1:{port}")
    get_state(app).static = False  # the app itself answers below, as it does when serving
    with nginx_server(tmp_path_factory.mktemp("nginx"), folder / CONFIG_DIR / "nginx.conf",
                      port) as url:
        yield url, folder


def from_nginx(url: str, path: str, headers: dict[str, str], method: str = "GET") -> Answer:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request(method, path, headers=headers)
    response = conn.getresponse()
    answer = Answer(response.status, {k: v for k, v in response.getheaders()}, response.read())
    conn.close()
    return answer


def from_app(app: Flask, path: str, headers: dict[str, str]) -> Answer:
    response = app.test_client().get(path, headers=headers)
    return Answer(response.status_code, dict(response.headers), response.get_data())


def as_graph(answer: Answer, fmt: Format, context: object) -> Graph:
    data = answer.body
    if fmt is JSON_LD:  # the context is named root-relative: read it as published
        doc = json.loads(data)
        assert doc["@context"] == "/context.jsonld"
        doc["@context"] = context
        return Graph().parse(data=json.dumps(doc), format="json-ld")
    return union_graph(data, fmt)


def graph_names(answer: Answer, fmt: Format) -> set[str]:
    return {str(q.graph_name) for q in quads_of(answer.body, fmt)} if fmt.quads else set()


def assert_same(app: Flask, url: str, path: str, headers: dict[str, str]) -> None:
    ours, theirs = from_app(app, path, headers), from_nginx(url, path, headers)
    what = f"{path} {headers}"
    assert theirs.status == ours.status, what
    if ours.status in (301, 302, 303, 307, 308):
        assert theirs.headers["Location"] == ours.headers["Location"], what
        return
    if ours.status != 200:
        return
    assert theirs.headers["Content-Type"] == ours.headers["Content-Type"], what
    assert theirs.headers["Access-Control-Allow-Origin"] == "*"
    fmt = BY_MEDIA[ours.headers["Content-Type"].split(";")[0]]
    if fmt is HTML:
        assert Page.parse(theirs.body.decode()).h1 == Page.parse(ours.body.decode()).h1, what
        return
    context = app.test_client().get("/context.jsonld").get_json()["@context"]
    assert_isomorphic(as_graph(ours, fmt, context), as_graph(theirs, fmt, context), what)
    assert graph_names(theirs, fmt) == graph_names(ours, fmt), what


@pytest.mark.parametrize("client", list(ACCEPTS))
def test_identifiers_and_documents_as_the_app_answers(app, site, client) -> None:
    url, _ = site
    headers = {"Accept": ACCEPTS[client]} if ACCEPTS[client] else {}
    for resource in RESOURCES:
        assert_same(app, url, f"/id/{resource}", headers)
        assert_same(app, url, f"/doc/{resource}", headers)
    for path in ("/ontology", "/.well-known/void", "/dataset", "/graph/fixture"):
        assert_same(app, url, path, headers)


@pytest.mark.parametrize("fmt", DOCUMENT_FORMATS, ids=lambda f: f.key)
def test_each_format_by_its_own_url_and_media_type(app, site, fmt: Format) -> None:
    url, _ = site
    for resource in RESOURCES:
        assert_same(app, url, f"/doc/{resource}.{fmt.extension}", {})
        assert_same(app, url, f"/doc/{resource}", {"Accept": fmt.media_type})
    assert_same(app, url, f"/ontology.{fmt.extension}", {})


@pytest.mark.parametrize("path", ["/id/state/zz", "/doc/state/zz", "/doc/state/zz.ttl",
                                  "/id/nonsense/pl"])
def test_unknown_resources_are_not_found_on_both(app, site, path: str) -> None:
    url, _ = site
    assert from_nginx(url, path, {}).status == from_app(app, path, {}).status == 404


def test_dumps_and_context_as_the_app_serves_them(app, site) -> None:
    url, _ = site
    context = from_nginx(url, "/context.jsonld", {})
    assert context.headers["Content-Type"] == from_app(app, "/context.jsonld", {}).headers[
        "Content-Type"]
    assert json.loads(context.body) == json.loads(from_app(app, "/context.jsonld", {}).body)
    dump = from_nginx(url, "/dump/mmkg.nt.gz", {})
    assert dump.status == 200 and dump.headers["Content-Type"] == "application/gzip"
    ours = Graph().parse(data=gzip.decompress(from_app(app, "/dump/mmkg.nt.gz", {}).body),
                         format="nt")
    assert_isomorphic(ours, Graph().parse(data=gzip.decompress(dump.body), format="nt"),
                      "N-Triples dump")


def test_gzip_comes_from_the_precompressed_file(site) -> None:
    url, folder = site
    zipped = from_nginx(url, "/ontology.ttl", {"Accept-Encoding": "gzip"})
    assert zipped.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.body) == (folder / "ontology.ttl").read_bytes()


@pytest.mark.parametrize("path", ["/id/state/renamed-pl", "/doc/state/renamed-pl",
                                  "/doc/state/renamed-pl.ttl", "/graph/renamed-fixture",
                                  "/graph/renamed-fixture.nt"])
def test_renamed_identifiers_move_permanently_as_in_the_app(app, site, path: str) -> None:
    url, _ = site
    expected, answer = from_app(app, path, {}), from_nginx(url, path, {})
    assert expected.status == answer.status == 301, (path, answer.status)
    assert answer.headers["Location"] == expected.headers["Location"]
    assert "renamed" not in answer.headers["Location"]


PREFLIGHT = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "GET"}
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers", "Access-Control-Max-Age",
                "Access-Control-Expose-Headers")


@pytest.mark.parametrize("path", ["/doc/state/pl", "/doc/state/pl.ttl", "/id/state/pl",
                                  "/dump/mmkg.nt", "/ontology", "/.well-known/void",
                                  "/context.jsonld", "/states"])
@pytest.mark.parametrize("asked", ["", "accept", "Accept, If-None-Match", "x y"])
def test_cors_preflights_as_the_app_answers_them(app, site, path: str, asked: str) -> None:
    """A page on another origin that sends a long Accept asks first (OPTIONS); nginx answers
    as the app does."""
    url, _ = site
    headers = {**PREFLIGHT, **({"Access-Control-Request-Headers": asked} if asked else {})}
    expected = app.test_client().options(path, headers=headers)
    answer = from_nginx(url, path, headers, method="OPTIONS")
    assert expected.status_code == answer.status == 204, (path, answer.status)
    for name in CORS_HEADERS:
        assert answer.headers.get(name) == expected.headers.get(name), (path, name)


@pytest.mark.parametrize("path, accept", [("/doc/state/pl", "application/ld+json"),
                                          ("/doc/state/pl.jsonld", ""),
                                          ("/.well-known/void.jsonld", ""),
                                          ("/dump/mmkg.jsonld", ""), ("/context.jsonld", ""),
                                          ("/doc/state/pl.ttl", "")])
def test_json_ld_names_its_context_as_the_app_does(app, site, path: str, accept: str) -> None:
    url, _ = site
    headers = {"Accept": accept} if accept else {}
    expected, answer = from_app(app, path, headers), from_nginx(url, path, headers)
    assert expected.status == answer.status == 200, path
    assert answer.headers.get("Link") == expected.headers.get("Link") or (
        # the app's other formats also list their alternates; nginx adds no Link to those
        "json-ld#context" not in expected.headers.get("Link", "")
        and answer.headers.get("Link") is None), path


def test_index_pages_are_pages(app, site) -> None:
    """The index pages have no extension: nginx must still call them HTML, not a download."""
    url, _ = site
    for path in ("/states", "/invocations", "/corrections"):
        expected, answer = from_app(app, path, {"Accept": "text/html"}), from_nginx(url, path, {})
        assert expected.status == answer.status == 200, path
        assert answer.headers["Content-Type"] == expected.headers["Content-Type"], path
        assert answer.headers["Content-Type"].startswith("text/html"), path


@pytest.mark.parametrize("path", [f"/{CONFIG_DIR}/nginx.conf", "/.htaccess"])
def test_the_configuration_is_not_served(site, path: str) -> None:
    url, _ = site
    assert from_nginx(url, path, {}).status == 404


def app_links(page: Page, root: str = "") -> list[str]:
    """Links (and form actions) under `root` (this host's paths when "") to what only the
    app answers; canonical IRIs of the data (https://w3id.org/mmkg/sparql) are not links to
    a host and stay."""
    targets = [*page.links, *(action or "" for action, _ in page.forms.values())]
    return [t for t in targets if t.startswith(root or "/") and not t.startswith("//")
            and any(t.split("?")[0].rstrip("/").endswith(path) for path in APP_ONLY)]


def test_static_pages_link_to_the_app_only_when_named(app, site, tmp_path: Path) -> None:
    url, folder = site
    pages = sorted(folder.rglob("*.html"))
    assert len(pages) > 50
    for path in pages:  # every published page: no link to search, /sparql, /reconcile...
        assert app_links(Page.parse(path.read_text(encoding="utf-8"))) == [], path
    named = create_app(replace(get_state(app).settings, public_url="https://app.example/"),
                       get_state(app).backend)
    try:
        publish(named, tmp_path / "named")
    finally:
        get_state(named).backend.close()
    page = Page.parse((tmp_path / "named" / "doc" / "state" / "pl.html").read_text("utf-8"))
    assert "https://app.example/sparql" in page.links
    landing = Page.parse((tmp_path / "named" / "index.html").read_text("utf-8"))
    assert {"https://app.example/sparql", "https://app.example/wikidata"} <= set(landing.links)
    assert app_links(landing) == []  # none left on the static host itself
    assert app_links(landing, "https://app.example/")
