"""Remote mode: the app answers queries and resource pages through a real Oxigraph server
(PyPI package `oxigraph`) loaded with our dump. The protocol tests themselves run in both modes
in test_sparql_protocol.py; here is what only the remote mode has."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS

from helpers import TRIG_FIXTURE as FIXTURE
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.remote import RemoteGraph
from mmkg.kg.store import load_graph, served_files
from mmkg.state import get_state
from realservers import oxigraph_server

# Every test here talks to a real Oxigraph server.
pytestmark = pytest.mark.slow

POLAND = "https://w3id.org/mmkg/id/state/pl"
ONLY_REMOTE = ox.Quad(ox.NamedNode(POLAND), ox.NamedNode(str(RDFS.comment)),
                      ox.Literal("held only by the remote endpoint", language="en"),
                      ox.NamedNode("http://example.org/remote-only"))
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r }")
QUERIES = [
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t",
]


def serve(folder: Path, quads: list[ox.Quad]):
    """A real Oxigraph server loaded with `quads` (context manager yielding its query URL)."""
    dump = folder / "dump.nq"
    ox.serialize(quads, str(dump), ox.RdfFormat.N_QUADS)
    return oxigraph_server(folder, dump)


@pytest.fixture(scope="module")
def remote_settings() -> Settings:
    return Settings(data=(FIXTURE,), query_timeout=20.0)


@pytest.fixture(scope="module")
def local_graph(remote_settings):
    """The served store: the shipped data plus the TriG fixture."""
    return load_graph(served_files(remote_settings))


@pytest.fixture(scope="module")
def oxigraph_endpoint(local_graph, tmp_path_factory) -> Iterator[str]:
    # Like our own dumps: the named graph, and the union default graph that holds it too.
    in_default = ox.Quad(ONLY_REMOTE.subject, ONLY_REMOTE.predicate, ONLY_REMOTE.object)
    quads = list(local_graph.store) + [ONLY_REMOTE, in_default]
    with serve(tmp_path_factory.mktemp("oxigraph"), quads) as url:
        yield url


@pytest.fixture(scope="module")
def remote_graph(oxigraph_endpoint, local_graph) -> RemoteGraph:
    return RemoteGraph(oxigraph_endpoint, local_graph.files, local_graph.version,
                       local_graph.modified, timeout=10)


def rows(result: list[dict]) -> set[frozenset]:
    return {frozenset(r.items()) for r in result}


def test_dump_is_served_whole(remote_graph, local_graph):
    assert remote_graph.triple_count() == local_graph.triple_count() + 1


@pytest.mark.parametrize("query", QUERIES[:1] + QUERIES[2:])
def test_select_through_remote_matches_embedded(remote_graph, local_graph, query):
    assert rows(remote_graph.select(query)) == rows(local_graph.select(query))


def test_graphs_through_remote_are_ours_plus_the_remote_only_one(remote_graph, local_graph):
    extra = {"g": URIRef("http://example.org/remote-only"), "n": Literal(1)}
    expected = rows(local_graph.select(QUERIES[1])) | {frozenset(extra.items())}
    assert rows(remote_graph.select(QUERIES[1])) == expected


def test_construct_and_ask_through_remote(remote_graph, local_graph):
    query = f"DESCRIBE <{POLAND}>"
    got, expected = remote_graph.construct(query), local_graph.construct(query)
    extra = (URIRef(POLAND), RDFS.comment, Literal("held only by the remote endpoint",
                                                   lang="en"))
    assert extra in got and extra not in expected
    got.remove(extra)
    assert isomorphic(got, expected)
    assert remote_graph.ask(f"ASK {{ <{POLAND}> ?p ?o }}") is True
    assert remote_graph.ask("ASK { <http://example.org/nothing> ?p ?o }") is False


def test_create_app_puts_the_remote_backend_in_place(remote_settings, local_graph,
                                                     oxigraph_endpoint):
    app = create_app(replace(remote_settings, sparql_endpoint=oxigraph_endpoint), graph=local_graph)
    assert isinstance(get_state(app).backend, RemoteGraph)


def test_resource_pages_read_through_the_remote_endpoint(remote_settings, local_graph,
                                                         oxigraph_endpoint):
    remote_app = create_app(replace(remote_settings, sparql_endpoint=oxigraph_endpoint),
                            graph=local_graph)
    embedded_app = create_app(remote_settings, graph=local_graph)
    pages = []
    for app in (remote_app, embedded_app):
        response = app.test_client().get("/doc/state/pl", headers={"Accept": "text/turtle"})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        pages.append(Graph().parse(data=response.get_data(as_text=True), format="turtle"))
    remote_page, embedded_page = pages
    comment = (URIRef(POLAND), RDFS.comment, Literal("held only by the remote endpoint",
                                                     lang="en"))
    assert comment in remote_page and comment not in embedded_page


def test_remote_query_past_the_timeout_is_503(remote_settings, local_graph, oxigraph_endpoint):
    remote_settings = replace(remote_settings, sparql_endpoint=oxigraph_endpoint)
    app = create_app(remote_settings, graph=local_graph)
    # Only this query gets a short deadline (app start reads through the endpoint too).
    get_state(app).backend.timeout = 2.0
    get_state(app).settings = replace(remote_settings, query_timeout=2.0)
    started = time.monotonic()
    response = app.test_client().get("/sparql", query_string={"query": RUNAWAY})
    assert response.status_code == 503
    assert time.monotonic() - started < 2.0 + 5


def test_remote_endpoint_gone_is_502(remote_settings, local_graph, tmp_path):
    with serve(tmp_path, list(local_graph.store)) as url:
        app = create_app(replace(remote_settings, sparql_endpoint=url), graph=local_graph)
    response = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 502
    assert "could not be reached" in response.get_data(as_text=True)


def test_safety_checks_apply_before_the_remote_is_asked(remote_settings, local_graph,
                                                        oxigraph_endpoint):
    app = create_app(replace(remote_settings, sparql_endpoint=oxigraph_endpoint), graph=local_graph)
    client = app.test_client()
    service = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    assert client.get("/sparql", query_string={"query": service}).status_code == 403
    assert client.post("/sparql", data={"update": "CLEAR ALL"}).status_code == 403
    assert client.get("/sparql", query_string={
        "query": "SELECT * WHERE { ?s ?p ?o } #" + "x" * 30000}).status_code == 413
