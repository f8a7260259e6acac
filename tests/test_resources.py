"""The linked-data views over HTTP (Flask test client): dereferencing, negotiation, HTTP
semantics, hostile input, ontology, VoID, dumps and pages. Run on a small fixture and, once it
is there, on the shipped data."""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import RDF, VOID

from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.formats import DOCUMENT_FORMATS, HTML, JSON_LD, N_TRIPLES, RDF_FORMATS, RDF_XML, TURTLE
from mmkg.kg import files as package_data
from mmkg.kg.store import load_graph, served_files, to_rdflib
from mmkg.linkeddata import documents as describe
from mmkg.state import get_state
from mmkg.uris import BASE, MM
from realservers import oxigraph_server

DATA = Path(__file__).parent / "data" / "ld"
FIXTURE = DATA / "fixture.ttl"
SCRIPT_LABEL = DATA / "extra" / "script-label.ttl"


def fixture_settings(*extra: Path) -> Settings:
    """The shipped ontology and vocabularies plus the fixture (and any extra files)."""
    return Settings(no_default_data=True,
                    data=(package_data.ontology_dir(), FIXTURE, *extra))


def shipped_data_present() -> bool:
    return any(package_data.graph_dir().glob("*.ttl"))


@pytest.fixture(scope="module", params=["fixture", "shipped"])
def served(request: pytest.FixtureRequest):
    """(app, graph) over the fixture, and over the shipped data once it exists. Validation is
    tested in test_serve; here the graph is loaded without it so the views can be tested
    while the data is being edited."""
    if request.param == "shipped":
        if not shipped_data_present():
            pytest.skip("no shipped data yet")
        settings = Settings()
    else:
        settings = fixture_settings(SCRIPT_LABEL)
    kg = load_graph(served_files(settings))
    app = create_app(settings, kg)
    # What rdflib reads from the same files, parsed now: other people may edit the data
    # while the tests run.
    app.config["TEST_TRUTH"] = served_triples(settings)
    return app, kg


@pytest.fixture(scope="module")
def app(served):
    return served[0]


@pytest.fixture(scope="module")
def kg(served):
    return served[1]


@pytest.fixture()
def client(app):
    return app.test_client()


def our_resources(kg) -> list[tuple[str, str]]:
    """(kind, local) of every <base>id/… IRI in the graph, as subject or object."""
    rows = kg.select(
        "SELECT DISTINCT ?r WHERE { { ?r ?p ?o } UNION { ?s ?p ?r } "
        f'FILTER(isIRI(?r) && STRSTARTS(STR(?r), "{BASE}id/")) }}')
    found = []
    for row in rows:
        kind, _, local = str(row["r"])[len(BASE) + 3:].partition("/")
        found.append((kind, local))
    return sorted(found)


def assert_isomorphic(expected: Graph, actual: Graph, what: str) -> None:
    """Graph equality up to blank-node names; on failure show only the differing triples."""
    iso_expected, iso_actual = to_isomorphic(expected), to_isomorphic(actual)
    if iso_expected == iso_actual:
        return
    _, only_expected, only_actual = graph_diff(iso_expected, iso_actual)

    def dump(g: Graph) -> str:
        return "\n".join(sorted(f"  {s.n3()} {p.n3()} {o.n3()}" for s, p, o in g)[:30])

    pytest.fail(f"{what}: graphs differ\nonly in expected:\n{dump(only_expected)}\n"
                f"only in actual:\n{dump(only_actual)}")


def parse_response(client, response, fmt) -> Graph:
    """The response body as a graph; JSON-LD is expanded with the context the server
    publishes at the URL the document names."""
    assert response.status_code == 200, response.text[:300]
    assert response.mimetype == fmt.media_type
    if fmt is JSON_LD:
        doc = json.loads(response.data)
        url = doc["@context"]
        assert isinstance(url, str) and url.endswith("/context.jsonld")
        published = client.get(url.replace("http://localhost", ""))
        assert published.status_code == 200
        doc["@context"] = published.get_json()["@context"]
        return Graph().parse(data=json.dumps(doc), format="json-ld")
    return Graph().parse(data=response.data, format=fmt.rdflib_name)


OXIGRAPH_FORMATS = {TURTLE: ox.RdfFormat.TURTLE, JSON_LD: ox.RdfFormat.JSON_LD,
                    RDF_XML: ox.RdfFormat.RDF_XML, N_TRIPLES: ox.RdfFormat.N_TRIPLES}


def assert_same_triples(client, expected: Graph, response, fmt, what: str) -> None:
    """The response holds exactly the expected triples. Parsed by Oxigraph (an independent
    parser, and fast enough for every resource); rdflib's isomorphism where blank nodes are."""
    if any(isinstance(t, BNode) for triple in expected for t in triple):
        assert_isomorphic(expected, parse_response(client, response, fmt), what)
        return
    assert response.status_code == 200, (what, response.status_code)
    assert response.mimetype == fmt.media_type, what
    data = response.data
    if fmt is JSON_LD:
        doc = json.loads(data)
        doc["@context"] = published_context(client)
        data = json.dumps(doc).encode()
    actual = {str(q.triple) for q in ox.parse(data, format=OXIGRAPH_FORMATS[fmt])}
    wanted = {str(q.triple) for q in ox.parse(expected.serialize(format="nt").encode(),
                                               format=ox.RdfFormat.N_TRIPLES)}
    if actual != wanted:
        pytest.fail(f"{what}: triples differ\nonly in expected:\n  "
                    + "\n  ".join(sorted(wanted - actual)[:30]) + "\nonly in actual:\n  "
                    + "\n  ".join(sorted(actual - wanted)[:30]))


_CONTEXTS: dict[int, dict] = {}


def published_context(client) -> dict:
    key = id(client.application)
    if key not in _CONTEXTS:
        _CONTEXTS[key] = client.get("/context.jsonld").get_json()["@context"]
    return _CONTEXTS[key]


# ---------------------------------------------------------------------------------------------
# Every URI, every format


def test_there_are_resources_to_test(kg):
    # Guards the loops below from passing on an empty graph.
    kinds = {kind for kind, _ in our_resources(kg)}
    assert {"state", "invocation"} <= kinds


def test_every_resource_uri_redirects_to_its_document(client, kg):
    for kind, local in our_resources(kg):
        response = client.get(f"/id/{kind}/{local}")
        assert response.status_code == 303, (kind, local)
        assert response.headers["Location"].endswith(f"/doc/{kind}/{local}")


def test_every_document_in_every_rdf_format_equals_describe(client, app, kg):
    """Each format's own URL, and negotiation for Turtle (what `curl -L` gets)."""
    base = get_state(app).settings.base
    for kind, local in our_resources(kg):
        expected = describe.describe(kg, kind, local, base)
        topic = URIRef(f"{base}id/{kind}/{local}")
        assert (topic, None, None) in expected or (None, None, topic) in expected
        for fmt in RDF_FORMATS:
            response = client.get(f"/doc/{kind}/{local}.{fmt.extension}")
            assert_same_triples(client, expected, response, fmt,
                                f"/doc/{kind}/{local}.{fmt.extension}")
        negotiated = client.get(f"/doc/{kind}/{local}", headers={"Accept": "*/*"})
        assert negotiated.headers["Content-Location"] == f"/doc/{kind}/{local}.ttl"
        assert_same_triples(client, expected, negotiated, TURTLE, f"/doc/{kind}/{local} as */*")


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.key for f in RDF_FORMATS])
@pytest.mark.parametrize("kind_local", [("state", "pl"), ("invocation", "mm-2025-07-ua-pow"),
                                        ("report", "mm-2025-07-ua-pow")], ids="/".join)
def test_negotiated_document_equals_describe(client, app, kg, fmt, kind_local):
    kind, local = kind_local
    expected = describe.describe(kg, kind, local, get_state(app).settings.base)
    negotiated = client.get(f"/doc/{kind}/{local}", headers={"Accept": fmt.media_type})
    assert negotiated.headers["Content-Location"] == f"/doc/{kind}/{local}.{fmt.extension}"
    assert_isomorphic(expected, parse_response(client, negotiated, fmt),
                      f"/doc/{kind}/{local} as {fmt.media_type}")


def test_blank_nodes_reachable_from_a_resource_are_in_its_document(client, kg):
    doc = parse_response(client, client.get("/doc/report/mm-2025-07-ua-pow.ttl"), TURTLE)
    report = URIRef(BASE + "id/report/mm-2025-07-ua-pow")
    prov = "http://www.w3.org/ns/prov#"
    for attribution in doc.objects(report, URIRef(prov + "qualifiedAttribution")):
        for role in doc.objects(attribution, URIRef(prov + "hadRole")):
            assert any(True for _ in doc.predicate_objects(role))


def test_every_document_has_an_html_page_with_its_label(client, kg):
    for kind, local in our_resources(kg):
        response = client.get(f"/doc/{kind}/{local}", headers={"Accept": "text/html"})
        assert response.status_code == 200, (kind, local)
        assert response.mimetype == "text/html"
        assert response.headers["Content-Location"] == f"/doc/{kind}/{local}.html"
        page = PageParser.parse(response.text)
        assert page.h1, (kind, local)
        assert not page.h1.startswith("https://"), f"{kind}/{local} shows an IRI as title"


# ---------------------------------------------------------------------------------------------
# HTTP behaviour


def test_303_keeps_the_serving_host_and_canonical_iris_stay_in_the_data(client):
    response = client.get("/id/state/pl", base_url="http://example.test:8000")
    assert response.status_code == 303
    assert response.headers["Location"] in ("/doc/state/pl", "http://example.test:8000/doc/state/pl")
    followed = client.get("/doc/state/pl", headers={"Accept": "*/*"})
    graph = Graph().parse(data=followed.data, format="turtle")
    assert (URIRef(BASE + "id/state/pl"), None, None) in graph
    assert not any("localhost" in str(t) for triple in graph for t in triple)


def test_following_the_303_with_star_star_gives_turtle_like_curl(client):
    response = client.get("/id/invocation/mm-2025-07-ua-pow", headers={"Accept": "*/*"},
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
def test_unknown_uris_are_404(client, path):
    assert client.get(path).status_code == 404


def test_406_names_what_is_offered(client):
    response = client.get("/doc/state/pl", headers={"Accept": "image/png"})
    assert response.status_code == 406
    for fmt in DOCUMENT_FORMATS:
        assert fmt.media_type in response.text


@pytest.mark.parametrize("accept", [
    "text/turtle;q=high", "garbage", "text/", "/turtle", "text/turtle;q=2", "*/turtle",
    "text/turtle;;q", "x" * 5000,
], ids=["bad-q", "no-slash", "no-subtype", "no-type", "q-above-1", "star-subtype",
        "broken-params", "too-long"])
def test_malformed_accept_is_400(client, accept):
    response = client.get("/doc/state/pl", headers={"Accept": accept})
    assert response.status_code == 400


@pytest.mark.parametrize("path", [
    "/doc/state/..%2f..%2fetc%2fpasswd", "/doc/state/%2e%2e", "/doc/../../etc/passwd",
    "/id/state/pl%00", "/doc/state/pl%00.ttl", "/doc/state%2fpl", "/doc/state/a%5c..%5cb",
    "/static/..%2f..%2fpyproject.toml", "/doc/state/" + "a" * 5000, "/id/" + "x/" * 700,
    "/.well-known/void/..", "/dump/..%2fmmkg.ttl",
], ids=["encoded-dotdot", "encoded-dots", "dotdot", "nul", "nul-ext", "encoded-slash",
        "encoded-backslash", "static-escape", "long-local", "long-path", "trailing-dotdot",
        "dump-escape"])
def test_hostile_paths_are_4xx_and_never_a_file(client, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert b"[project]" not in response.data and b"root:" not in response.data


def test_data_responses_carry_http_headers(client, kg):
    response = client.get("/doc/state/pl", headers={"Accept": "text/turtle"})
    assert response.headers["Vary"].startswith("Accept")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers["ETag"]
    assert response.last_modified is not None
    links = response.headers["Link"]
    for fmt in DOCUMENT_FORMATS:
        assert f'</doc/state/pl.{fmt.extension}>; rel="alternate"; type="{fmt.media_type}"' \
            in links


def test_conditional_get_gives_304(client):
    first = client.get("/doc/state/pl.ttl")
    etag = first.headers["ETag"]
    again = client.get("/doc/state/pl.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    since = client.get("/doc/state/pl.ttl",
                       headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    other = client.get("/doc/state/pl.ttl", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    # The ETag names the representation: another format does not match it.
    assert client.get("/doc/state/pl.nt", headers={"If-None-Match": etag}).status_code == 200


def test_jsonld_validators_vary_with_the_host_that_names_the_context(client):
    """A JSON-LD body names the serving host's context, so another host's ETag must not match."""
    here = client.get("/doc/state/pl.jsonld", base_url="http://one.example")
    there = client.get("/doc/state/pl.jsonld", base_url="http://two.example")
    assert here.json["@context"] == "http://one.example/context.jsonld"
    assert there.json["@context"] == "http://two.example/context.jsonld"
    assert here.headers["ETag"] != there.headers["ETag"]
    again = client.get("/doc/state/pl.jsonld", base_url="http://one.example",
                       headers={"If-None-Match": here.headers["ETag"]})
    assert again.status_code == 304
    elsewhere = client.get("/doc/state/pl.jsonld", base_url="http://two.example",
                           headers={"If-None-Match": here.headers["ETag"]})
    assert elsewhere.status_code == 200


def test_head_gives_the_headers_without_a_body(client):
    get = client.get("/doc/state/pl", headers={"Accept": "text/turtle"})
    head = client.head("/doc/state/pl", headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_large_bodies_are_gzipped_when_the_client_allows(client):
    plain = client.get("/dump/mmkg.ttl")
    zipped = client.get("/dump/mmkg.ttl", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["ETag"] != plain.headers["ETag"]


# ---------------------------------------------------------------------------------------------
# JSON-LD


def test_jsonld_reads_as_plain_json_with_short_names(client):
    response = client.get("/doc/invocation/mm-2025-07-ua-pow.jsonld")
    doc = json.loads(response.data)
    nodes = doc.get("@graph", [doc])
    invocation = next(n for n in nodes if n.get("id") == BASE + "id/invocation/mm-2025-07-ua-pow")
    assert invocation["type"] == "Invocation"
    assert BASE + "id/state/pl" in invocation["invokedBy"]
    assert doc["@context"].endswith("/context.jsonld")


def test_jsonld_context_is_published_and_expands_every_dump_triple(client, kg):
    context = client.get("/context.jsonld")
    assert context.status_code == 200
    assert context.headers["Access-Control-Allow-Origin"] == "*"
    expected = Graph().parse(data=client.get("/dump/mmkg.ttl").data, format="turtle")
    dump = client.get("/dump/mmkg.jsonld")
    doc = json.loads(dump.data)
    doc["@context"] = context.get_json()["@context"]
    assert_isomorphic(expected, Graph().parse(data=json.dumps(doc), format="json-ld"),
                      "JSON-LD dump expanded with the published context")


# ---------------------------------------------------------------------------------------------
# Ontology, VoID, dumps


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.key for f in RDF_FORMATS])
def test_ontology_in_every_rdf_format(client, kg, fmt):
    expected = describe.ontology_graph(kg)
    assert (URIRef(BASE + "ontology"), None, None) in expected
    assert_isomorphic(expected, parse_response(client, client.get(f"/ontology.{fmt.extension}"),
                                               fmt), f"/ontology.{fmt.extension}")
    negotiated = client.get("/ontology", headers={"Accept": fmt.media_type})
    assert_isomorphic(expected, parse_response(client, negotiated, fmt), "/ontology")


def test_protege_gets_rdf_xml_for_the_ontology(client):
    response = client.get("/ontology", headers={
        "Accept": "application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, */*; q=0.5"})
    assert response.mimetype == "application/rdf+xml"


def test_every_term_lands_on_its_documentation(client, kg):
    html = client.get("/ontology", headers={"Accept": "text/html"}).text
    ids = set(re.findall(r'id="([^"]+)"', html))
    terms = {str(s)[len(str(MM)):] for s in describe.ontology_graph(kg).subjects()
             if isinstance(s, URIRef) and str(s).startswith(str(MM))}
    assert terms, "no ontology terms loaded"
    assert terms <= ids, f"terms without an anchor: {sorted(terms - ids)[:10]}"


def test_ontology_version_iri_redirects(client, kg):
    version = next(describe.ontology_graph(kg).objects(
        URIRef(BASE + "ontology"), URIRef("http://www.w3.org/2002/07/owl#versionIRI")))
    response = client.get("/" + str(version)[len(BASE):])
    assert response.status_code == 303 and response.headers["Location"].endswith("/ontology")


def served_triples(settings: Settings) -> Graph:
    """Every served file parsed by rdflib directly: the truth the VoID counts and the dumps
    are checked against."""
    graph = Graph()
    for path in served_files(settings):
        graph.parse(path, format="turtle")
    return graph


def test_void_describes_the_dataset(client, app):
    truth = app.config["TEST_TRUTH"]
    void = parse_response(client, client.get("/.well-known/void.ttl"), TURTLE)
    ds = URIRef(BASE + "dataset")
    assert void.value(ds, VOID.triples) == Literal(len(truth))
    assert void.value(ds, VOID.uriSpace) == Literal(BASE + "id/")
    assert void.value(ds, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    assert str(void.value(ds, URIRef("http://purl.org/dc/terms/license"))).startswith(
        "https://creativecommons.org/licenses/by/4.0")
    entities = {s for s in truth.subjects() if str(s).startswith(BASE + "id/")}
    assert void.value(ds, VOID.entities) == Literal(len(entities))
    partitions = {void.value(p, VOID["class"]): int(void.value(p, VOID.entities))
                  for p in void.objects(ds, VOID.classPartition)}
    for cls in (MM.Invocation, MM.ParticipatingState):
        assert partitions[cls] == len(set(truth.subjects(RDF.type, cls)))
    properties = {void.value(p, VOID.property): int(void.value(p, VOID.triples))
                  for p in void.objects(ds, VOID.propertyPartition)}
    assert properties[MM.invokedBy] == len(list(truth.triples((None, MM.invokedBy, None))))
    dumps = set(void.objects(ds, VOID.dataDump))
    assert len(dumps) == 3
    for dump in dumps:
        assert client.get("/" + str(dump)[len(BASE):]).status_code == 200
    assert client.get("/dataset").status_code == 303


@pytest.mark.parametrize("fmt", DOCUMENT_FORMATS, ids=[f.key for f in DOCUMENT_FORMATS])
def test_void_in_every_format(client, fmt):
    response = client.get("/.well-known/void", headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    if fmt is not HTML:
        assert len(parse_response(client, response, fmt)) > 10


def test_dumps_hold_every_served_triple(client, app):
    truth = app.config["TEST_TRUTH"]
    turtle = Graph().parse(data=client.get("/dump/mmkg.ttl").data, format="turtle")
    ntriples = client.get("/dump/mmkg.nt.gz")
    assert ntriples.mimetype == "application/gzip"
    nt = Graph().parse(data=gzip.decompress(ntriples.data).decode(), format="nt")
    assert_isomorphic(truth, turtle, "Turtle dump")
    assert_isomorphic(truth, nt, "N-Triples dump")


# ---------------------------------------------------------------------------------------------
# Pages


class PageParser(HTMLParser):
    """Text of the first h1, links, and the script elements of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.h1 = ""
        self._in_h1 = False
        self.links: list[str] = []
        self.alternates: list[tuple[str, str]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.script_text: list[str] = []
        self._in_script = False
        self.text: list[str] = []

    @classmethod
    def parse(cls, html: str) -> PageParser:
        parser = cls()
        parser.feed(html)
        return parser

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "h1" and not self.h1:
            self._in_h1 = True
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "link" and attributes.get("rel") == "alternate":
            self.alternates.append((attributes.get("type"), attributes.get("href")))
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_h1:
            self.h1 += data
        if self._in_script:
            self.script_text.append(data)
        else:
            self.text.append(data)


def test_pages_announce_and_offer_every_format(client):
    page = PageParser.parse(client.get("/doc/state/pl.html").text)
    for fmt in RDF_FORMATS:
        assert (fmt.media_type, f"/doc/state/pl.{fmt.extension}") in page.alternates
        assert f"/doc/state/pl.{fmt.extension}" in page.links


def test_state_page_links_wikidata_and_lists_invocations_with_roles(client, kg):
    page = client.get("/doc/state/ua.html").text
    parsed = PageParser.parse(page)
    assert parsed.h1 == "Ukraine"
    assert "http://www.wikidata.org/entity/Q212" in parsed.links
    assert "/doc/invocation/mm-2025-07-ua-pow" in parsed.links
    assert "inviting State" in page
    joined = PageParser.parse(client.get("/doc/state/pl.html").text)
    assert "/doc/invocation/mm-2025-07-ua-pow" in joined.links


def test_invocation_page_lists_invokers_experts_report_allegations_claims(client, kg):
    page = client.get("/doc/invocation/mm-2025-07-ua-pow.html").text
    parsed = PageParser.parse(page)
    text = " ".join(parsed.text)
    assert "24 July 2025" in text
    for link in ("/doc/state/pl", "/doc/person/veronika-bilkova", "/doc/report/mm-2025-07-ua-pow",
                 "/doc/category/torture-ill-treatment"):
        assert link in parsed.links, link
    assert any(link.startswith("/doc/allegation/mm-2025-07-ua-pow") for link in parsed.links)
    assert any(link.startswith("/doc/claim/mm-2025-07-ua-pow") for link in parsed.links)
    assert "Bílková" in text


def test_dates_are_formatted_for_people(client):
    assert "June 1993" in client.get("/doc/invocation/mm-1993-yu.html").text
    page = client.get("/doc/invocation/mm-1992-ee.html").text
    assert re.search(r">\s*1992\s*<", page)


def test_landing_page(client, kg):
    response = client.get("/")
    assert response.status_code == 200
    parsed = PageParser.parse(response.text)
    assert "/sparql" in parsed.links and "/.well-known/void" in parsed.links
    markup = next(s for s, a in zip(parsed.script_text, parsed.scripts, strict=False)
                  if a.get("type") == "application/ld+json")
    dataset = json.loads(markup)
    assert dataset["@type"] == "Dataset" and dataset["license"].startswith("https://creativecommons")
    invocations = {str(s) for s in kg.construct(
        "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c }").subjects(RDF.type, MM.Invocation)}
    svg = response.text[response.text.index("<svg"):response.text.index("</svg>")]
    in_timeline = set(re.findall(r'<a href="/doc/invocation/([^"]+)"', svg))
    assert {BASE + "id/invocation/" + i for i in in_timeline} == invocations


def test_data_is_escaped_in_pages(client, app):
    if SCRIPT_LABEL not in get_state(app).settings.data:
        pytest.skip("the markup label is only loaded with the fixture")
    page = client.get("/doc/source/test-script-label.html").text
    assert "<script>window.__mmkgInjected" not in page
    assert "&lt;script&gt;window.__mmkgInjected = true&lt;/script&gt;&lt;b&gt;" in page
    parsed = PageParser.parse(page)
    assert parsed.h1.startswith("<script>window.__mmkgInjected")


def test_favicon_is_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"


# ---------------------------------------------------------------------------------------------
# The same documents through a remote SPARQL endpoint


@pytest.mark.slow
def test_documents_through_a_remote_endpoint_equal_the_embedded_ones(tmp_path):
    """describe() uses SPARQL only, so a real Oxigraph server gives the same documents,
    blank nodes included."""
    from mmkg.kg.remote import RemoteGraph

    local = load_graph(served_files(fixture_settings()))
    dump = tmp_path / "dump.nq"
    ox.serialize(list(local.store), str(dump), ox.RdfFormat.N_QUADS)
    with oxigraph_server(tmp_path, dump) as url:
        remote = RemoteGraph(url, local.files, local.version, local.modified, timeout=20)
        for kind, local_id in our_resources(local):
            assert_isomorphic(describe.describe(local, kind, local_id),
                              describe.describe(remote, kind, local_id),
                              f"{kind}/{local_id} through the remote endpoint")
        assert_isomorphic(describe.ontology_graph(local), describe.ontology_graph(remote),
                          "ontology through the remote endpoint")


def test_every_named_graph_is_served_in_every_format(client, kg):
    """Graph names are in our namespace too (<base>graph/{file}): each is a document holding
    exactly that graph's triples, with a page for people."""
    from mmkg.uris import GRAPH

    names = [g.value for g in kg.store.named_graphs() if g.value.startswith(str(GRAPH))]
    assert names
    for iri in names:
        path = "/" + iri[len(BASE):]
        expected = Graph()
        for quad in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(iri)):
            expected.add(tuple(to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
        for fmt in (TURTLE, JSON_LD, RDF_XML, N_TRIPLES):
            response = client.get(f"{path}.{fmt.extension}")
            assert_same_triples(client, expected, response, fmt, path)
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert page.headers["Content-Location"] == f"{path}.html"
    assert client.get("/graph/no-such-graph").status_code == 404
