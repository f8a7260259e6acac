"""The default graph is the union of every file as a set: a triple stated in two files is one
triple, as an RDF merge has it (Oxigraph's own union default graph would repeat it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.store import load_graph

RESULTS_JSON = "application/sparql-results+json"
TRIPLE = "<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"


@pytest.fixture()
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first.ttl", tmp_path / "second.ttl"
    first.write_text(TRIPLE, encoding="utf-8")
    second.write_text(TRIPLE + "<http://example.org/a> <http://example.org/q> 1 .\n",
                      encoding="utf-8")
    return first, second


def rows(client, query: str) -> list[dict]:
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": RESULTS_JSON})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["results"]["bindings"]


def test_a_triple_in_two_files_is_one_triple(two_files) -> None:
    graph = load_graph(two_files)
    assert graph.triple_count() == 2
    app = create_app(Settings(no_default_data=True), graph=graph)
    client = app.test_client()
    assert len(rows(client, "SELECT * WHERE { ?s ?p ?o }")) == 2
    # Each file keeps its own named graph, where the shared triple is in both.
    named = rows(client, "SELECT ?g WHERE { GRAPH ?g { ?s <http://example.org/p> ?o } }")
    assert sorted(r["g"]["value"].rsplit("/", 1)[1] for r in named) == ["first", "second"]


def test_from_named_without_from_has_an_empty_default_graph(two_files) -> None:
    app = create_app(Settings(no_default_data=True), graph=load_graph(two_files))
    client = app.test_client()
    query = ("SELECT * FROM NAMED <https://w3id.org/mmkg/graph/first> "
             "WHERE { ?s ?p ?o }")
    assert rows(client, query) == []
    query = ("SELECT ?s FROM NAMED <https://w3id.org/mmkg/graph/first> "
             "WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert len(rows(client, query)) == 1
