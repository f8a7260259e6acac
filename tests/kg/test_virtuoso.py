"""Remote mode against Virtuoso open source 7 (Debian), the store behind DBpedia, configured
as a deployer would and loaded with our own dump: the server starts, and every document,
every competency answer, the VoID, the named graphs and the dumps equal the embedded ones;
where the store caps answers below the data's size, the server reads them in pages."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask
from rdflib import Graph

from helpers import Page, assert_isomorphic, quads_of, union_graph
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.formats import FORMATS_BY_EXTENSION, JSON_LD
from mmkg.kg import competency
from mmkg.kg.store import KnowledgeGraph
from mmkg.linkeddata import documents
from mmkg.state import get_state
from realservers import virtuoso_server

pytestmark = pytest.mark.slow

UNION = "urn:mmkg:default"  # the graph our N-Triples dump is loaded into
ABOVE_THE_DATA = 1_000_000
RESULTS = {"Accept": "application/sparql-results+json"}


def dump_files(graph: KnowledgeGraph, folder: Path) -> dict[str, str]:
    """The union (what /dump/mmkg.nt.gz holds) and each file's named graph (N-Quads)."""
    union = [q.triple for q in graph.store.quads_for_pattern(None, None, None,
                                                             ox.DefaultGraph())]
    named = [q for q in graph.store if not isinstance(q.graph_name, ox.DefaultGraph)]
    (folder / "union.nt").write_bytes(ox.serialize(union, format=ox.RdfFormat.N_TRIPLES) or b"")
    (folder / "graphs.nq").write_bytes(ox.serialize(named, format=ox.RdfFormat.N_QUADS) or b"")
    return {"union.nt": UNION, "graphs.nq": "urn:mmkg:unnamed"}


def remote_app(url: str, graph: KnowledgeGraph) -> Flask:
    """`mmkg serve --sparql-endpoint URL --sparql-default-graph urn:mmkg:default`."""
    return create_app(Settings(sparql_endpoint=url, sparql_default_graph=UNION,
                               query_timeout=60.0), graph)


@pytest.fixture(scope="module")
def virtuoso(shipped_graph: KnowledgeGraph,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app in remote mode over a Virtuoso whose row cap is above the data's size."""
    folder = tmp_path_factory.mktemp("virtuoso")
    with virtuoso_server(folder, dump_files(shipped_graph, folder), ABOVE_THE_DATA) as url:
        app = remote_app(url, shipped_graph)  # starts: the transitive query is gone
        yield app
        get_state(app).backend.close()


BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
CONCAT = re.compile(r'GROUP_CONCAT\s*\((?:DISTINCT\s+)?\?\w+\s*;\s*separator\s*=\s*"([^"]*)"'
                    r'\s*\)\s*AS\s*\?(\w+)', re.IGNORECASE)


def rows(answer: Any, query: str = "") -> list[tuple[tuple[str, str], ...]]:
    """SPARQL JSON bindings as comparable rows (in their order), up to what SPARQL 1.1 leaves
    to the engine: the order of GROUP_CONCAT's parts and the language of its result (Virtuoso
    drops it, Oxigraph keeps a shared one), and the lexical form of a boolean ("1" is true)."""
    concat = {name: separator for separator, name in CONCAT.findall(query)}
    out = []
    for binding in json.loads(answer.data)["results"]["bindings"]:
        row = []
        for name, term in binding.items():
            term = dict(term)
            if term.get("datatype") == BOOLEAN:
                term["value"] = str(term["value"] in ("true", "1")).lower()
            if name in concat:
                term.pop("xml:lang", None)
                term["value"] = sorted(term["value"].split(concat[name]))
            row.append((name, json.dumps(term, sort_keys=True)))
        out.append(tuple(sorted(row)))
    return out


def test_every_resource_document_equals_the_embedded_one(virtuoso: Flask,
                                                          shipped_app: Flask) -> None:
    remote, embedded = get_state(virtuoso).backend, get_state(shipped_app).backend
    resources = documents.resources(embedded)
    assert len(resources) > 500
    assert documents.resources(remote) == resources
    for kind, local in resources:
        assert_isomorphic(documents.describe(embedded, kind, local),
                          documents.describe(remote, kind, local), f"{kind}/{local}")


@pytest.mark.parametrize("path", [
    "/doc/state/pl.ttl", "/doc/invocation/mm-2025-07-ua-pow.jsonld",
    "/doc/invocation/mm-2025-07-ua-pow.nt", "/ontology.ttl", "/.well-known/void.nt",
    "/graph/states.nt", "/graph/invocation-mm-2025-07-ua-pow.ttl",
    "/doc/invocation/mm-2025-07-ua-pow.nq", "/doc/state/pl.trig", "/dump/mmkg.nq"])
def test_documents_over_http_equal_the_embedded_ones(virtuoso: Flask, shipped_app: Flask,
                                                      path: str) -> None:
    remote = virtuoso.test_client().get(path)
    embedded = shipped_app.test_client().get(path)
    assert remote.status_code == embedded.status_code == 200, remote.data[:300]
    assert remote.content_type == embedded.content_type
    fmt = FORMATS_BY_EXTENSION[path.rsplit(".", 1)[1]]
    graphs, names = [], []
    for response in (embedded, remote):
        data = response.data
        if fmt is JSON_LD:
            doc = json.loads(data)
            doc["@context"] = shipped_app.test_client().get("/context.jsonld").get_json()[
                "@context"]
            graphs.append(Graph().parse(data=json.dumps(doc), format="json-ld"))
        else:
            graphs.append(union_graph(data, fmt))
            names.append({str(q.graph_name) for q in quads_of(data, fmt)})
    assert_isomorphic(graphs[0], graphs[1], path)
    if names:
        assert names[0] == names[1], path  # the quad formats keep the same named graphs


def test_pages_name_the_same_things(virtuoso: Flask, shipped_app: Flask) -> None:
    """The same headings, texts and links; the order of items that come from a query without
    ORDER BY is the engine's (SPARQL leaves it open), so lines are compared as multisets."""
    for path in ("/doc/state/ua.html", "/doc/invocation/mm-2022-03-ua.html", "/"):
        remote = virtuoso.test_client().get(path)
        embedded = shipped_app.test_client().get(path)
        assert remote.status_code == embedded.status_code == 200
        if remote.data == embedded.data:
            continue
        ours, theirs = (Page.parse(r.get_data(as_text=True)) for r in (embedded, remote))
        assert theirs.h1 == ours.h1, path
        assert sorted(theirs.text) == sorted(ours.text), path
        assert sorted(theirs.links) == sorted(ours.links), path


@pytest.mark.parametrize("question", competency.questions(), ids=lambda q: q.name)
def test_every_competency_answer_equals_the_embedded_one(virtuoso: Flask, shipped_app: Flask,
                                                         question) -> None:
    remote = virtuoso.test_client().get("/sparql", query_string={"query": question.sparql},
                                        headers=RESULTS)
    embedded = shipped_app.test_client().get("/sparql", query_string={"query": question.sparql},
                                             headers=RESULTS)
    assert remote.status_code == embedded.status_code == 200, remote.data[:500]
    ordered = "ORDER BY" in question.sparql.upper()
    expected, actual = rows(embedded, question.sparql), rows(remote, question.sparql)
    assert expected, question.name  # a question with no answer would prove nothing
    assert (actual if ordered else sorted(actual)) == (expected if ordered else sorted(expected))


def test_the_dump_equals_the_embedded_one(virtuoso: Flask, shipped_app: Flask) -> None:
    remote = gzip.decompress(virtuoso.test_client().get("/dump/mmkg.nt.gz").data)
    embedded = gzip.decompress(shipped_app.test_client().get("/dump/mmkg.nt.gz").data)
    assert_isomorphic(Graph().parse(data=embedded, format="nt"),
                      Graph().parse(data=remote, format="nt"), "N-Triples dump")


def test_a_row_cap_below_the_data_is_read_in_pages(shipped_graph: KnowledgeGraph,
                                                    shipped_app: Flask,
                                                    tmp_path: Path) -> None:
    """Virtuoso's default cap (ResultSetMaxRows, here 5,000 rows against ~12,900 triples) cuts
    answers and says so (X-SPARQL-MaxRows): the dump and the VoID statistics are read in
    ordered pages (MaxSortedTopRows raised, as a deployer paging a store would)."""
    triples = shipped_graph.triple_count()
    with virtuoso_server(tmp_path, dump_files(shipped_graph, tmp_path), 5_000,
                         sorted_rows=ABOVE_THE_DATA) as url:
        app = remote_app(url, shipped_graph)
        try:
            backend = get_state(app).backend
            assert len(backend.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")) == triples > 5_000
            remote = gzip.decompress(app.test_client().get("/dump/mmkg.nt.gz").data)
            embedded = gzip.decompress(shipped_app.test_client().get("/dump/mmkg.nt.gz").data)
            assert_isomorphic(Graph().parse(data=embedded, format="nt"),
                              Graph().parse(data=remote, format="nt"), "paged dump")
        finally:
            backend.close()


def test_without_sorted_pages_the_refusal_says_what_to_raise(shipped_graph: KnowledgeGraph,
                                                              tmp_path: Path) -> None:
    from mmkg.sparql.errors import RemoteError

    with virtuoso_server(tmp_path, dump_files(shipped_graph, tmp_path), 5_000) as url:
        app = remote_app(url, shipped_graph)
        try:
            with pytest.raises(RemoteError, match="ResultSetMaxRows"):
                get_state(app).backend.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
        finally:
            get_state(app).backend.close()
