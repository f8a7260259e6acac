"""HTTP behaviour every view shares (web/): 303 on the serving host, 404, 406 naming the
offer, 400 for a malformed Accept or a hostile path, caching headers, conditional GET,
HEAD, gzip, CORS on every response, and paths under a script root."""

from __future__ import annotations

import gzip

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from helpers import Page
from mmkg.formats import DOCUMENT_FORMATS
from mmkg.uris import BASE, MM


def test_303_keeps_the_serving_host_and_canonical_iris_stay_in_the_data(ld_client):
    response = ld_client.get("/id/state/pl", base_url="http://example.test:8000")
    assert response.status_code == 303
    assert response.headers["Location"] in ("/doc/state/pl", "http://example.test:8000/doc/state/pl")
    followed = ld_client.get("/doc/state/pl", headers={"Accept": "*/*"})
    graph = Graph().parse(data=followed.data, format="turtle")
    assert (URIRef(BASE + "id/state/pl"), None, None) in graph
    assert not any("localhost" in str(t) for triple in graph for t in triple)


def test_following_the_303_with_star_star_gives_turtle_like_curl(ld_client):
    response = ld_client.get("/id/invocation/mm-2025-07-ua-pow", headers={"Accept": "*/*"},
                          follow_redirects=True)
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.data, format="turtle")
    assert (URIRef(BASE + "id/invocation/mm-2025-07-ua-pow"), RDF.type, MM.Invocation) in graph


@pytest.mark.parametrize("path", [
    "/id/state/zz", "/doc/state/zz", "/doc/state/zz.ttl", "/id/nonsense/pl", "/doc/state/pl.exe",
    "/id/state/PL", "/doc/state/pl.ttl.ttl", "/id/state", "/doc/", "/ontology.exe",
    "/.well-known/void.txt", "/dump/other.ttl", "/ontology/9.9.9",
], ids=lambda p: p)
def test_unknown_uris_are_404(ld_client, path):
    assert ld_client.get(path).status_code == 404


def test_406_names_what_is_offered(ld_client):
    response = ld_client.get("/doc/state/pl", headers={"Accept": "image/png"})
    assert response.status_code == 406
    for fmt in DOCUMENT_FORMATS:
        assert fmt.media_type in response.text


@pytest.mark.parametrize("accept", [
    "text/turtle;q=high", "garbage", "text/", "/turtle", "text/turtle;q=2", "*/turtle",
    "text/turtle;;q", "x" * 5000,
], ids=["bad-q", "no-slash", "no-subtype", "no-type", "q-above-1", "star-subtype",
        "broken-params", "too-long"])
def test_malformed_accept_is_400(ld_client, accept):
    response = ld_client.get("/doc/state/pl", headers={"Accept": accept})
    assert response.status_code == 400


@pytest.mark.parametrize("path", [
    "/doc/state/..%2f..%2fetc%2fpasswd", "/doc/state/%2e%2e", "/doc/../../etc/passwd",
    "/id/state/pl%00", "/doc/state/pl%00.ttl", "/doc/state%2fpl", "/doc/state/a%5c..%5cb",
    "/static/..%2f..%2fpyproject.toml", "/doc/state/" + "a" * 5000, "/id/" + "x/" * 700,
    "/.well-known/void/..", "/dump/..%2fmmkg.ttl",
], ids=["encoded-dotdot", "encoded-dots", "dotdot", "nul", "nul-ext", "encoded-slash",
        "encoded-backslash", "static-escape", "long-local", "long-path", "trailing-dotdot",
        "dump-escape"])
def test_hostile_paths_are_4xx_and_never_a_file(ld_client, path):
    response = ld_client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert b"[project]" not in response.data and b"root:" not in response.data


def test_data_responses_carry_http_headers(ld_client, ld_backend):
    response = ld_client.get("/doc/state/pl", headers={"Accept": "text/turtle"})
    assert response.headers["Vary"].startswith("Accept")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers["ETag"]
    assert response.last_modified is not None
    links = response.headers["Link"]
    for fmt in DOCUMENT_FORMATS:
        assert f'</doc/state/pl.{fmt.extension}>; rel="alternate"; type="{fmt.media_type}"' \
            in links


def test_conditional_get_gives_304(ld_client):
    first = ld_client.get("/doc/state/pl.ttl")
    etag = first.headers["ETag"]
    again = ld_client.get("/doc/state/pl.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    since = ld_client.get("/doc/state/pl.ttl",
                       headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    other = ld_client.get("/doc/state/pl.ttl", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    # The ETag names the representation: another format does not match it.
    assert ld_client.get("/doc/state/pl.nt", headers={"If-None-Match": etag}).status_code == 200


def test_jsonld_bodies_and_validators_do_not_depend_on_the_host(ld_client):
    """RULINGS (host-independent bodies): a JSON-LD document names the context root-relative,
    so every host gets the same bytes and the same ETag; a sub-path deployment names its own."""
    here = ld_client.get("/doc/state/pl.jsonld", base_url="http://one.example")
    there = ld_client.get("/doc/state/pl.jsonld", base_url="http://two.example")
    assert here.json["@context"] == there.json["@context"] == "/context.jsonld"
    assert here.data == there.data
    assert here.headers["ETag"] == there.headers["ETag"]
    again = ld_client.get("/doc/state/pl.jsonld", base_url="http://two.example",
                          headers={"If-None-Match": here.headers["ETag"]})
    assert again.status_code == 304
    under = ld_client.get("/doc/state/pl.jsonld", base_url="http://one.example/mmkg/")
    assert under.json["@context"] == "/mmkg/context.jsonld"
    assert under.headers["ETag"] != here.headers["ETag"]


def test_the_jsonld_dump_carries_its_context_inline(ld_client):
    dump = ld_client.get("/dump/mmkg.jsonld", base_url="http://one.example")
    assert isinstance(dump.json["@context"], dict)
    assert dump.data == ld_client.get("/dump/mmkg.jsonld", base_url="http://two.example").data


def test_head_gives_the_headers_without_a_body(ld_client):
    get = ld_client.get("/doc/state/pl", headers={"Accept": "text/turtle"})
    head = ld_client.head("/doc/state/pl", headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_large_bodies_are_gzipped_when_the_client_allows(ld_client):
    plain = ld_client.get("/dump/mmkg.ttl")
    zipped = ld_client.get("/dump/mmkg.ttl", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["ETag"] != plain.headers["ETag"]


@pytest.mark.parametrize("path", [
    "/doc/state/pl.ttl", "/", "/sparql?query=ASK%7B%7D", "/identifiers", "/reconcile",
    "/export/mixnmatch.tsv", "/wikidata/Q36", "/no/such/thing", "/doc/..%2f",
])
def test_every_response_may_be_read_cross_origin(shipped_client, path):
    response = shipped_client.get(path)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "MMKG-Results-Truncated" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("path", ["/sparql", "/reconcile"])
def test_preflight_names_the_methods_of_the_route(shipped_client, path):
    preflight = shipped_client.options(path, headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_links_and_redirects_stay_under_the_script_root(shipped_client):
    """Mounted under a sub-path (SCRIPT_NAME /kg), every IRI maps to a path under it."""
    under = {"base_url": "http://example.test/kg/"}
    thing = shipped_client.get("/id/state/ua", **under)
    assert thing.status_code == 303
    assert thing.headers["Location"] in ("/kg/doc/state/ua", "http://example.test/kg/doc/state/ua")
    page = Page.parse(shipped_client.get("/doc/state/ua.html", **under).text)
    assert "/kg/doc/invocation/mm-2025-07-ua-pow" in page.links
    assert "/kg/sparql" in page.links and "/kg/ontology" in page.links
    landing = Page.parse(shipped_client.get("/", **under).text)
    assert any(link.startswith("/kg/doc/invocation/") for link in landing.links)
    table = Page.parse(shipped_client.get(
        "/sparql", query_string={"query": f"SELECT ?s WHERE {{ BIND(<{BASE}id/state/pl> AS ?s) }}"},
        headers={"Accept": "text/html"}, **under).text)
    assert table.link_texts[f"{BASE}id/state/pl"] == "/kg/id/state/pl"
    assert shipped_client.get("/wikidata/Q36", **under).headers["Location"] == "/kg/id/state/pl"
