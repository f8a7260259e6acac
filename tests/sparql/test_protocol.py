"""The SPARQL 1.1 Protocol at /sparql, in both engine modes (embedded pyoxigraph and a real
Oxigraph server behind SPARQLWrapper), over Flask's test client and over real HTTP."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, VOID
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, TSV, TURTLE, XML, SPARQLWrapper
from werkzeug.serving import make_server

from helpers import TRIG_FIXTURE as FIXTURE
from helpers import Page, union_graph
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.formats import RDF_FORMATS
from mmkg.kg.store import load_graph, served_files
from mmkg.state import get_state
from mmkg.uris import GRAPH, MM
from realservers import oxigraph_server

EX = Namespace("http://example.org/")
FORMATS_BY_MEDIA_TYPE = {f.media_type: f for f in RDF_FORMATS}
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
# A name, not rdflib's XSD namespace object: pytest probes module globals for mock
# attributes, which rdflib's closed namespaces answer with a warning.
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
FILE_GRAPH = f"{GRAPH}named-graphs"  # the loader puts a file's default-graph triples here
LABELS = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
RESULT_TYPES = {
    "json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values"),
}


# --- servers ---------------------------------------------------------------------------------

class LiveServer:
    """The app on a loopback port in a thread (threaded, like a real deployment)."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def close_app(app) -> None:
    get_state(app).backend.close()


SETTINGS = Settings(no_default_data=True, data=(FIXTURE,), query_timeout=10)


@pytest.fixture(scope="module")
def trig_graph():
    """The fixture as `--data` serves it (what the remote endpoint is loaded with)."""
    return load_graph(served_files(SETTINGS))


@pytest.fixture(scope="module",
                params=["embedded", pytest.param("remote", marks=pytest.mark.slow)])
def endpoint_app(request, trig_graph, tmp_path_factory) -> Iterator:
    """The app as `mmkg serve --no-default-data --data named-graphs.trig` builds it: the TriG
    file loaded and validated at start; in remote mode queries go to an Oxigraph server."""
    with ExitStack() as stack:
        settings = SETTINGS
        if request.param == "remote":
            folder = tmp_path_factory.mktemp("oxigraph")
            dump = folder / "dump.nq"
            dump.write_bytes(trig_graph.store.dump(format=ox.RdfFormat.N_QUADS))
            settings = replace(settings,
                               sparql_endpoint=stack.enter_context(oxigraph_server(folder, dump)))
        endpoint_app = create_app(settings)
        endpoint_app.config["MODE"] = request.param
        yield endpoint_app
        close_app(endpoint_app)


@pytest.fixture()
def endpoint_client(endpoint_app):
    return endpoint_app.test_client()


# --- helpers: parse, never string-match ----------------------------------------------------------

def values(response) -> set[tuple[str, ...]]:
    """The rows of a SELECT response as tuples of term values, whatever its format."""
    media = response.mimetype
    if media == "text/csv":
        reader = csv.reader(io.StringIO(response.get_data(as_text=True)))
        next(reader)
        return {tuple(row) for row in reader}
    fmt = next(f for f, m in RESULT_TYPES.values() if m == media)
    solutions = ox.parse_query_results(response.data, format=fmt)
    names = [v.value for v in solutions.variables]
    return {tuple("" if s[n] is None else s[n].value for n in names) for s in solutions}


def boolean(response) -> bool:
    media = response.mimetype
    if media in ("text/csv", "text/tab-separated-values"):
        # Jena's form: a one-column table named _askResult ("?_askResult" in TSV).
        header, value = response.get_data(as_text=True).splitlines()
        assert header == ("_askResult" if media == "text/csv" else "?_askResult")
        assert value in ("true", "false")
        return value == "true"
    fmt = next(f for f, m in RESULT_TYPES.values() if m == media)
    return bool(ox.parse_query_results(response.data, format=fmt))


def fixture_graph(name: str) -> Graph:
    dataset = Dataset()
    dataset.parse(FIXTURE, format="trig", publicID=FILE_GRAPH)
    out = Graph()
    for triple in dataset.graph(URIRef(name)):
        out.add(triple)
    return out


ALL_LABELS = {("Alpha one",), ("Alpha un",), ("Alpha two",), ("Beta one",),
              ("Poland (fixture)",), ('Gamma, "quoted"\ttabbed',)}
ALPHA_LABELS = {("Alpha one",), ("Alpha un",), ("Alpha two",)}
BETA_LABELS = {("Beta one",), ("Poland (fixture)",)}
SELECT_LABELS = LABELS + "SELECT ?l WHERE { ?s rdfs:label ?l }"


# --- the three ways of sending a query ---------------------------------------------------------

def test_get_post_form_and_post_direct_agree(endpoint_client):
    by_get = endpoint_client.get("/sparql", query_string={"query": SELECT_LABELS})
    by_form = endpoint_client.post("/sparql", data={"query": SELECT_LABELS})
    by_body = endpoint_client.post("/sparql", data=SELECT_LABELS.encode(),
                          content_type="application/sparql-query")
    for response in (by_get, by_form, by_body):
        assert response.status_code == 200
        assert response.mimetype == "application/sparql-results+json"
        assert values(response) == ALL_LABELS


@pytest.mark.parametrize("media", ["application/sparql-results+json",
                                   "application/sparql-results+xml", "text/csv",
                                   "text/tab-separated-values"])
def test_select_in_each_results_format_by_accept(endpoint_client, media):
    response = endpoint_client.get("/sparql", query_string={"query": SELECT_LABELS},
                          headers={"Accept": media})
    assert response.status_code == 200
    assert response.mimetype == media
    assert response.headers["Vary"] == "Accept"
    assert values(response) == ALL_LABELS


@pytest.mark.parametrize(("name", "media"), [("json", "application/sparql-results+json"),
                                             ("xml", "application/sparql-results+xml"),
                                             ("csv", "text/csv"),
                                             ("tsv", "text/tab-separated-values")])
def test_format_parameter_wins_over_accept(endpoint_client, name, media):
    response = endpoint_client.get("/sparql", query_string={"query": SELECT_LABELS, "format": name},
                          headers={"Accept": "text/html"})
    assert response.mimetype == media
    assert values(response) == ALL_LABELS


def test_accept_q_values_are_weighed(endpoint_client):
    accept = "text/csv;q=0.5, application/sparql-results+xml;q=0.9, */*;q=0.1"
    response = endpoint_client.get("/sparql", query_string={"query": SELECT_LABELS},
                          headers={"Accept": accept})
    assert response.mimetype == "application/sparql-results+xml"
    assert endpoint_client.get("/sparql", query_string={"query": SELECT_LABELS},
                      headers={"Accept": "*/*"}).mimetype == "application/sparql-results+json"


def test_unacceptable_format_is_406_naming_the_offer(endpoint_client):
    response = endpoint_client.get("/sparql", query_string={"query": SELECT_LABELS},
                          headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.get_data(as_text=True)


@pytest.mark.parametrize("media", ["application/sparql-results+json",
                                   "application/sparql-results+xml", "text/csv",
                                   "text/tab-separated-values"])
def test_ask_in_each_format(endpoint_client, media):
    yes = endpoint_client.get("/sparql", query_string={"query": f"ASK {{ <{EX.a1}> ?p ?o }}"},
                     headers={"Accept": media})
    no = endpoint_client.get("/sparql", query_string={"query": f"ASK {{ <{EX.nothing}> ?p ?o }}"},
                    headers={"Accept": media})
    assert yes.mimetype == no.mimetype == media
    assert boolean(yes) is True and boolean(no) is False


@pytest.mark.parametrize(("media", "served", "parser"), [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("text/plain", "application/n-triples", "nt"),
    ("application/n-quads", "application/n-quads", "nquads"),
    ("application/trig", "application/trig", "trig"),
    ("text/n3", "text/n3", "n3")])
def test_construct_in_each_rdf_format(endpoint_client, media, served, parser):
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX.alpha}> {{ ?s ?p ?o }} }}"
    response = endpoint_client.get("/sparql", query_string={"query": query},
                                   headers={"Accept": media})
    assert response.status_code == 200
    assert response.mimetype == served
    if parser in ("nquads", "trig", "n3"):
        # Oxigraph parses these (rdflib's quad parsers warn of their own deprecations).
        got = union_graph(response.data, FORMATS_BY_MEDIA_TYPE[served])
    else:
        got = Graph().parse(data=response.get_data(as_text=True), format=parser)
    assert isomorphic(got, fixture_graph(str(EX.alpha)))


@pytest.mark.parametrize(("media", "body"), [("text/csv", "_askResult\r\ntrue\r\n"),
                                             ("text/tab-separated-values", "?_askResult\ntrue\n")])
def test_ask_in_csv_and_tsv_is_jenas_askresult_table(endpoint_client, media, body):
    """The W3C CSV/TSV formats have no boolean form; Jena reads an ASK answer only as this."""
    response = endpoint_client.get("/sparql", query_string={"query": f"ASK {{ <{EX.a1}> ?p ?o }}"},
                                   headers={"Accept": media})
    assert response.get_data(as_text=True) == body


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv",
                                    "text/tab-separated-values",
                                    "application/sparql-results+json, text/csv;q=0.5"])
@pytest.mark.parametrize("form", ["CONSTRUCT", "DESCRIBE"])
def test_graph_query_with_a_results_only_accept_answers_turtle(endpoint_client, accept, form):
    """RULINGS: rdflib's SPARQLStore set to json or csv names only result-set types."""
    query = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX.alpha}> {{ ?s ?p ?o }} }}"
             if form == "CONSTRUCT" else f"DESCRIBE <{EX.b1}>")
    response = endpoint_client.get("/sparql", query_string={"query": query},
                                   headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    got = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert len(got) > 0
    # 406 stays for everything else.
    refused = endpoint_client.get("/sparql", query_string={"query": query},
                                  headers={"Accept": "image/png"})
    assert refused.status_code == 406


def test_describe_gives_the_resource(endpoint_client):
    response = endpoint_client.get("/sparql", query_string={"query": f"DESCRIBE <{EX.b1}>"},
                          headers={"Accept": "text/turtle"})
    got = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert (EX.b1, EX.link, EX.a1) in got
    assert set(got.subjects()) == {EX.b1}


def test_malformed_query_is_400_with_message_and_position(endpoint_client):
    response = endpoint_client.get("/sparql", query_string={"query": "SELECT ?s\nWHERE { ?s ?p }"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "line 2" in text and "column" in text


def test_unknown_prefix_is_400(endpoint_client):
    response = endpoint_client.get(
        "/sparql", query_string={"query": "SELECT * WHERE { ?s nope:p ?o }"})
    assert response.status_code == 400


@pytest.mark.parametrize("how", ["query", "update-param", "sparql-update-body"])
def test_update_is_refused_and_not_executed(endpoint_client, how):
    update = f"INSERT DATA {{ <{EX.evil}> <{EX.p}> 'x' }}"
    if how == "query":
        response = endpoint_client.get("/sparql", query_string={"query": update})
    elif how == "update-param":
        response = endpoint_client.post("/sparql", data={"update": update})
    else:
        response = endpoint_client.post("/sparql", data=update.encode(),
                               content_type="application/sparql-update")
    assert 400 <= response.status_code < 500
    check = endpoint_client.get("/sparql", query_string={"query": f"ASK {{ <{EX.evil}> ?p ?o }}"})
    assert boolean(check) is False


def test_unsupported_post_content_type_is_415(endpoint_client):
    response = endpoint_client.post("/sparql", data=b"{}", content_type="application/json")
    assert response.status_code == 415


def test_service_description(endpoint_client, endpoint_app):
    settings = get_state(endpoint_app).settings
    response = endpoint_client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    sd = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    service = sd.value(predicate=RDF.type, object=SD.Service)
    assert service is not None
    assert URIRef(settings.base + "sparql") in set(sd.objects(service, SD.endpoint))
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    assert (service, SD.feature, SD.UnionDefaultGraph) in sd
    formats = set(sd.objects(service, SD.resultFormat))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                 "SPARQL_Results_TSV", "Turtle", "JSON-LD"):
        assert URIRef("http://www.w3.org/ns/formats/" + name) in formats
    dataset = sd.value(service, SD.defaultDataset)
    names = {sd.value(n, SD.name) for n in sd.objects(dataset, SD.namedGraph)}
    assert names == {EX.alpha, EX.beta, URIRef(FILE_GRAPH)}
    alpha = next(n for n in sd.objects(dataset, SD.namedGraph) if sd.value(n, SD.name) == EX.alpha)
    assert sd.value(sd.value(alpha, SD.graph), VOID.triples).toPython() == len(
        fixture_graph(str(EX.alpha)))
    assert sd.value(service, MM.maxResultRows) == Literal(settings.max_results,
                                                          datatype=XSD_INTEGER)
    assert sd.value(service, MM.maxQueryLength).toPython() == settings.max_query_length
    assert float(sd.value(service, MM.queryTimeout)) == settings.query_timeout


def test_service_description_in_json_ld(endpoint_client):
    response = endpoint_client.get("/sparql", headers={"Accept": "application/ld+json"})
    sd = Graph().parse(data=response.get_data(as_text=True), format="json-ld")
    assert sd.value(predicate=RDF.type, object=SD.Service) is not None


def test_query_page_without_query(endpoint_client):
    response = endpoint_client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = Page.parse(response.get_data(as_text=True))
    assert "query-form" in page.ids and page.textarea.strip()


def test_query_page_shows_results_table_linking_our_pages(endpoint_client):
    query = LABELS + "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l"
    response = endpoint_client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = Page.parse(response.get_data(as_text=True))
    assert page.textarea == query  # the query stays in the editor, escaped and unescaped back
    assert page.link_texts["https://w3id.org/mmkg/id/state/pl"] == "/id/state/pl"
    assert page.link_texts[str(EX.a1)] == str(EX.a1)


def test_query_page_escapes_what_it_shows(endpoint_client):
    query = 'SELECT ?x WHERE { BIND("<script>alert(1)</script>" AS ?x) }'
    response = endpoint_client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "text/html"})
    assert b"<script>alert" not in response.data


def test_query_page_shows_syntax_errors(endpoint_client):
    response = endpoint_client.get("/sparql", query_string={"query": "SELECT WHERE {"},
                          headers={"Accept": "text/html"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = Page.parse(response.get_data(as_text=True))
    assert "error" in page.ids


def test_cors(endpoint_client):
    response = endpoint_client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = endpoint_client.options("/sparql", headers={"Origin": "https://example.net",
                                                   "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


# --- named graphs and the dataset ------------------------------------------------------------

@pytest.mark.parametrize(("query", "params", "expected"), [
    (SELECT_LABELS, {}, ALL_LABELS),
    (LABELS + f"SELECT ?l FROM <{EX.alpha}> WHERE {{ ?s rdfs:label ?l }}", {}, ALPHA_LABELS),
    (LABELS + f"SELECT ?l FROM <{EX.alpha}> FROM <{EX.beta}> WHERE {{ ?s rdfs:label ?l }}", {},
     ALPHA_LABELS | BETA_LABELS),
    (LABELS + f"SELECT ?l FROM <{FILE_GRAPH}> WHERE {{ ?s rdfs:label ?l }}", {},
     {('Gamma, "quoted"\ttabbed',)}),
    (LABELS + f"SELECT ?l FROM NAMED <{EX.beta}> WHERE {{ GRAPH ?g {{ ?s rdfs:label ?l }} }}",
     {}, BETA_LABELS),
    (LABELS + f"SELECT ?l FROM NAMED <{EX.beta}> WHERE {{ ?s rdfs:label ?l }}", {}, set()),
    (LABELS + f"SELECT ?l WHERE {{ GRAPH <{EX.alpha}> {{ ?s rdfs:label ?l }} }}", {},
     ALPHA_LABELS),
    (SELECT_LABELS, {"default-graph-uri": str(EX.beta)}, BETA_LABELS),
    (LABELS + "SELECT ?l WHERE { GRAPH ?g { ?s rdfs:label ?l } }",
     {"named-graph-uri": str(EX.alpha)}, ALPHA_LABELS),
    (LABELS + f"SELECT ?l FROM <{EX.alpha}> WHERE {{ ?s rdfs:label ?l }}",
     {"default-graph-uri": str(EX.beta)}, BETA_LABELS),
    (LABELS + "SELECT ?l FROM <http://example.org/unknown> WHERE { ?s rdfs:label ?l }", {},
     set()),
], ids=["union-default", "from", "from-two", "from-file-graph", "from-named", "named-only-"
        "default-empty", "graph-iri", "default-graph-uri", "named-graph-uri",
        "protocol-overrides-from", "unknown-graph-empty"])
def test_dataset_selection(endpoint_client, query, params, expected):
    for response in (endpoint_client.get("/sparql", query_string={"query": query, **params}),
                     endpoint_client.post("/sparql", data={"query": query, **params})):
        assert response.status_code == 200, response.get_data(as_text=True)
        assert values(response) == expected


def test_graph_variable_names_every_graph(endpoint_client):
    response = endpoint_client.get("/sparql", query_string={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"})
    assert values(response) == {(str(EX.alpha),), (str(EX.beta),), (FILE_GRAPH,)}


# --- SPARQLWrapper as the client, over real HTTP ---------------------------------------------

@pytest.fixture(scope="module")
def live(endpoint_app) -> Iterator[LiveServer]:
    server = LiveServer(endpoint_app)
    yield server
    server.stop()


def wrapper(live: LiveServer, query: str, fmt: str) -> SPARQLWrapper:
    sparql_wrapper = SPARQLWrapper(live.url + "/sparql")
    sparql_wrapper.setQuery(query)
    sparql_wrapper.setReturnFormat(fmt)
    return sparql_wrapper


def test_sparqlwrapper_select_json(live):
    result = wrapper(live, SELECT_LABELS, JSON).query().convert()
    assert {(b["l"]["value"],) for b in result["results"]["bindings"]} == ALL_LABELS


def test_sparqlwrapper_select_xml(live):
    document = wrapper(live, SELECT_LABELS, XML).query().convert()
    found = {(n.firstChild.data,) for n in document.getElementsByTagName("literal")}
    assert found == ALL_LABELS


@pytest.mark.parametrize("fmt", [CSV, TSV])
def test_sparqlwrapper_select_csv_tsv(live, fmt):
    result = wrapper(live, LABELS + f"SELECT ?s WHERE {{ GRAPH <{EX.alpha}> {{ ?s a ?t }} }}",
                     fmt).query()
    assert result.response.headers.get_content_type() == (
        "text/csv" if fmt == CSV else "text/tab-separated-values")
    text = result.convert().decode()
    rows = list(csv.reader(io.StringIO(text), delimiter="," if fmt == CSV else "\t"))
    cells = {r[0].strip("<>") for r in rows[1:]}
    assert cells == {str(EX.a1), str(EX.a2)}


def test_sparqlwrapper_post_and_ask(live):
    endpoint_client = wrapper(live, f"ASK {{ <{EX.b1}> <{EX.link}> <{EX.a1}> }}", JSON)
    endpoint_client.setMethod(POST)
    assert endpoint_client.query().convert()["boolean"] is True


def test_sparqlwrapper_construct_turtle(live):
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX.alpha}> {{ ?s ?p ?o }} }}"
    data = wrapper(live, query, TURTLE).query().convert()
    assert isomorphic(Graph().parse(data=data, format="turtle"), fixture_graph(str(EX.alpha)))


@pytest.mark.parametrize(("returned", "parser"), [(N3, "turtle"), (JSONLD, None), (XML, None)])
def test_sparqlwrapper_construct_in_its_other_formats(live, returned, parser):
    """SPARQLWrapper names formats its own way (format=n3&output=n3 ...); each is served."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX.alpha}> {{ ?s ?p ?o }} }}"
    result = wrapper(live, query, returned).query()
    converted = result.convert()
    graph = converted if parser is None else Graph().parse(data=converted, format=parser)
    assert isomorphic(graph, fixture_graph(str(EX.alpha)))


@pytest.mark.parametrize("returned", ["json", "xml", "csv", "tsv"])
def test_rdflib_sparqlstore_in_each_return_format(live, returned):
    """rdflib's SPARQLStore (Graph(store="SPARQLStore")) in each of its return formats, for
    SELECT, ASK and CONSTRUCT: issue 11, item 4."""
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(live.url + "/sparql", returnFormat=returned)
    graph = Graph(store=store)
    rows = graph.query(SELECT_LABELS)
    assert {(str(row[0]),) for row in rows} == ALL_LABELS
    for query, answer in ((f"ASK {{ <{EX.b1}> <{EX.link}> <{EX.a1}> }}", True),
                          (f"ASK {{ <{EX.nothing}> ?p ?o }}", False)):
        ask = graph.query(query)
        if returned in ("json", "xml"):
            assert ask.askAnswer is answer
        else:
            # rdflib's CSV/TSV parsers know no boolean: they read Jena's one-column table.
            assert [str(v) for v in ask.vars] == ["_askResult"]
            assert [str(row[0]) for row in ask] == [str(answer).lower()]
    constructed = graph.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX.alpha}> {{ ?s ?p ?o }} }}")
    assert isomorphic(constructed.graph, fixture_graph(str(EX.alpha)))


def test_sparqlwrapper_sees_refusals_as_errors(live):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    with pytest.raises(QueryBadFormed):
        wrapper(live, "SELECT * WHERE { ?s ?p }", JSON).query()


@pytest.mark.parametrize(("name", "media", "parser"), [
    ("turtle", "text/turtle", "turtle"), ("ttl", "text/turtle", "turtle"),
    ("jsonld", "application/ld+json", "json-ld"), ("json", "application/ld+json", "json-ld"),
    ("nt", "application/n-triples", "nt"), ("rdfxml", "application/rdf+xml", "xml"),
    ("xml", "application/rdf+xml", "xml")])
def test_construct_format_parameter(endpoint_client, name, media, parser):
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX.beta}> {{ ?s ?p ?o }} }}"
    response = endpoint_client.get("/sparql", query_string={"query": query, "format": name})
    assert response.mimetype == media
    got = Graph().parse(data=response.get_data(as_text=True), format=parser)
    assert isomorphic(got, fixture_graph(str(EX.beta)))


def test_curl_without_query_gets_the_service_description(endpoint_client):
    response = endpoint_client.get("/sparql", headers={"Accept": "*/*"})
    assert response.mimetype == "text/turtle"
    sd = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert sd.value(predicate=RDF.type, object=SD.Service) is not None


def test_query_page_works_as_a_plain_form(endpoint_client):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    action, fields = Page.parse(
        endpoint_client.get("/sparql", headers=browser).get_data(as_text=True)).forms["query-form"]
    assert action == "/sparql" and fields["query"].strip()
    fields["query"] = SELECT_LABELS  # what a person types into the editor
    response = endpoint_client.post(action, data=fields, headers=browser)  # the form's method
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = Page.parse(response.get_data(as_text=True))
    assert "results" in page.ids


# --- the competency questions on the shipped data (what a newcomer does first) ---------------

def test_competency_questions_run_on_the_shipped_data(shipped_client):
    from mmkg.sparql.page import examples

    found = examples()
    assert found, "no competency queries ship in server/mmkg/queries/*.rq"
    client = shipped_client
    for example in found:
        page = client.get("/sparql", query_string={"query": example.query},
                          headers={"Accept": "text/html"})
        assert page.status_code == 200, (example.name, page.get_data(as_text=True)[:500])
        parsed = Page.parse(page.get_data(as_text=True))
        assert "results" in parsed.ids, example.name
        answer = client.get("/sparql", query_string={"query": example.query})
        assert answer.status_code == 200, example.name
        if answer.mimetype == "text/turtle":
            Graph().parse(data=answer.get_data(as_text=True), format="turtle")
        else:
            ox.parse_query_results(answer.data, format=ox.QueryResultsFormat.JSON)


def test_example_picker_works_without_javascript(shipped_client):
    from mmkg.sparql.page import examples

    found = examples()
    assert found, "no competency queries ship in server/mmkg/queries/*.rq"
    last = found[-1]
    response = shipped_client.get("/sparql", query_string={"example": last.name},
                                  headers={"Accept": "text/html"})
    page = Page.parse(response.get_data(as_text=True))
    assert page.textarea == last.query
