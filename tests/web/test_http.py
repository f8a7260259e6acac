"""HTTP behaviour every view shares (web/): 303 on the serving host, 404, 406 naming the
offer, 400 for a malformed Accept or a hostile path, caching headers, conditional GET,
HEAD, gzip, CORS on every response, and paths under a script root."""

from __future__ import annotations

import gzip

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from helpers import Page
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.formats import DOCUMENT_FORMATS
from mmkg.state import get_state
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


@pytest.mark.parametrize("path", [
    "/doc/state/pl.jsonld", "/doc/state/pl", "/dump/mmkg.jsonld", "/", "/context.jsonld",
    "/reconcile", "/identifiers",
])
def test_no_body_or_validator_depends_on_the_host_header(shipped_client, path):
    """RULINGS "Host-independent bodies": a client chooses its Host header, so a shared
    cache would hand one client's host to everyone (issue 13, item 8)."""
    headers = {"Accept": "application/ld+json, text/html;q=0.9"}
    here = shipped_client.get(path, base_url="http://one.example", headers=headers)
    there = shipped_client.get(path, base_url="http://evil.example:666", headers=headers)
    assert here.status_code == there.status_code == 200
    assert here.data == there.data
    assert b"evil.example" not in there.data and b"one.example" not in here.data
    assert here.headers.get("ETag") == there.headers.get("ETag")


def test_the_service_description_names_no_client_chosen_host(shipped_client):
    """Its blank nodes are new on each request, so it is compared as text for the host."""
    for accept in ("text/turtle", "application/ld+json"):
        body = shipped_client.get("/sparql", base_url="http://evil.example:666",
                                  headers={"Accept": accept}).get_data(as_text=True)
        assert "evil.example" not in body and "http://127.0.0.1:8080/sparql" in body


def test_jsonld_documents_name_the_context_root_relative_and_canonically(ld_client):
    response = ld_client.get("/doc/state/pl.jsonld")
    assert response.json["@context"] == "/context.jsonld"
    link = response.headers["Link"]
    assert (f'<{BASE}context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; '
            'type="application/ld+json"') in link


@pytest.mark.parametrize("path", ["/doc/state/pl", "/dump/mmkg.ttl", "/dump/mmkg.nt",
                                  "/context.jsonld", "/ontology", "/"])
@pytest.mark.parametrize("encoding", ["gzip", "gzip, deflate, br", "identity", None])
def test_every_representation_revalidates_to_304(ld_client, path, encoding):
    """Issue 11, item 2: the ETag a client got (gzip or not) gives 304 when sent back with the
    same request headers, and names its coding: the two bodies never share a validator."""
    headers = {"Accept": "text/turtle, text/html;q=0.5"}
    if encoding:
        headers["Accept-Encoding"] = encoding
    first = ld_client.get(path, headers=headers)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "Accept-Encoding" in first.headers["Vary"]
    zipped = encoding is not None and "gzip" in encoding
    assert (first.headers.get("Content-Encoding") == "gzip") is zipped
    assert etag.endswith('-gzip"') is zipped
    again = ld_client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304, (path, encoding)
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Vary"] == first.headers["Vary"]
    assert "Content-Length" not in again.headers or again.headers["Content-Length"] == \
        first.headers["Content-Length"]
    # The other coding's body is another representation: its validator does not match.
    other = {**headers, "Accept-Encoding": "identity" if zipped else "gzip"}
    assert ld_client.get(path, headers={**other, "If-None-Match": etag}).status_code == 200


def test_gzip_is_refused_by_q_zero(ld_client):
    response = ld_client.get("/dump/mmkg.ttl", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers
    Graph().parse(data=response.data, format="turtle")


@pytest.mark.parametrize("name", ["mmkg.ttl", "mmkg.nt", "mmkg.nt.gz", "mmkg.nq"])
def test_dumps_answer_byte_ranges(ld_client, name):
    whole = ld_client.get(f"/dump/{name}")
    assert whole.headers["Accept-Ranges"] == "bytes"
    size = len(whole.data)
    part = ld_client.get(f"/dump/{name}", headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.data == whole.data[10:100]
    assert part.headers["Content-Range"] == f"bytes 10-99/{size}"
    tail = ld_client.get(f"/dump/{name}", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.data == whole.data[-50:]
    # If-Range with the current validator resumes; with a stale one the whole body comes.
    resumed = ld_client.get(f"/dump/{name}", headers={"Range": "bytes=100-",
                                                      "If-Range": whole.headers["ETag"]})
    assert resumed.status_code == 206 and resumed.data == whole.data[100:]
    stale = ld_client.get(f"/dump/{name}", headers={"Range": "bytes=100-",
                                                    "If-Range": '"old-version"'})
    assert stale.status_code == 200 and stale.data == whole.data
    beyond = ld_client.get(f"/dump/{name}", headers={"Range": f"bytes={size + 10}-"})
    assert beyond.status_code == 416


def test_head_gives_the_headers_without_a_body(ld_client):
    get = ld_client.get("/doc/state/pl", headers={"Accept": "text/turtle"})
    head = ld_client.head("/doc/state/pl", headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_bodies_are_gzipped_when_the_client_allows(ld_client):
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


PREFLIGHTED = ["/id/state/pl", "/doc/state/pl", "/doc/state/pl.ttl", "/graph/states",
               "/context.jsonld", "/dump/mmkg.ttl", "/dump/mmkg.nt", "/ontology",
               "/ontology.ttl", "/.well-known/void", "/sparql", "/reconcile", "/",
               "/identifiers", "/wikidata/Q36", "/export/mixnmatch.tsv"]


@pytest.mark.parametrize("path", PREFLIGHTED)
def test_preflight_is_answered_on_every_route(shipped_client, path):
    """Issue 11, item 1: a browser sends a preflight before a request with a long Accept
    (over 128 characters it is no longer a "simple" header)."""
    preflight = shipped_client.options(path, headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept"})
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"].split(", ")
    assert "accept" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    assert preflight.data == b""


@pytest.mark.parametrize("path", ["/sparql", "/reconcile"])
def test_preflight_names_the_methods_of_the_route(shipped_client, path):
    preflight = shipped_client.options(path, headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_does_not_echo_junk_headers(shipped_client):
    preflight = shipped_client.options("/doc/state/pl", headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept, x-a\u00e9b, " + "y" * 600})
    assert preflight.status_code == 204
    assert "yyyy" not in preflight.headers["Access-Control-Allow-Headers"]
    assert "Accept" in preflight.headers["Access-Control-Allow-Headers"]


def test_cross_origin_scripts_may_read_validators_and_links(shipped_client):
    exposed = shipped_client.get("/doc/state/pl.ttl").headers["Access-Control-Expose-Headers"]
    for name in ("ETag", "Link", "Content-Location", "Content-Range", "MMKG-Results-Truncated"):
        assert name in exposed


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


@pytest.mark.parametrize(("value", "kept"), [
    ("https://kg.example.org/", "https://kg.example.org"),
    ("http://127.0.0.1:9000/mmkg/", "http://127.0.0.1:9000/mmkg"), ("", "")])
def test_public_url_setting_is_checked(value, kept):
    assert Settings.from_env({"MMKG_PUBLIC_URL": value}).public_url == kept


@pytest.mark.parametrize("value", ["ftp://kg.example.org/", "kg.example.org", "https://",
                                   "https://kg.example.org/?x=1", "https://kg.example.org/#x"])
def test_public_url_setting_refuses_what_is_not_a_base_url(value):
    with pytest.raises(ValueError, match="http"):
        Settings.from_env({"MMKG_PUBLIC_URL": value})


def test_with_a_public_url_absolute_links_use_it(shipped_graph):
    app = create_app(Settings(public_url="https://kg.example.org/mmkg"), graph=shipped_graph)
    try:
        client = app.test_client()
        doc = client.get("/doc/state/pl.jsonld", base_url="http://evil.example")
        assert doc.json["@context"] == "https://kg.example.org/mmkg/context.jsonld"
        landing = client.get("/", base_url="http://evil.example").get_data(as_text=True)
        assert "https://kg.example.org/mmkg/dump/mmkg.ttl" in landing
        assert "evil.example" not in landing
        # The bodies differ from a server without the setting, so the validators do too.
        default = create_app(Settings(), graph=shipped_graph)
        try:
            other = default.test_client().get("/doc/state/pl.jsonld")
            assert other.json["@context"] == "/context.jsonld"
            assert other.headers["ETag"] != doc.headers["ETag"]
        finally:
            get_state(default).backend.close()
    finally:
        get_state(app).backend.close()
