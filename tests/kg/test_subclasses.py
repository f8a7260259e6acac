"""The class hierarchy followed in Python (kg.store.subclass_closure, which the remote mode
needs: Virtuoso refuses rdfs:subClassOf+ with both ends open) is what SPARQL's path gives."""

from __future__ import annotations

from mmkg.kg.store import KnowledgeGraph, subclass_closure

SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"


def test_the_closure_is_the_sparql_path(shipped_graph: KnowledgeGraph) -> None:
    rows = shipped_graph.select(f"SELECT DISTINCT ?c ?s WHERE {{ ?c {SUBCLASS}+ ?s . "
                                "FILTER(isIRI(?c) && isIRI(?s)) }")
    expected: dict[str, set[str]] = {}
    for row in rows:
        expected.setdefault(str(row["c"]), set()).add(str(row["s"]))
    assert expected, "the shipped ontology has a class hierarchy"
    assert any(len(supers) > 1 for supers in expected.values())  # chains, not only edges
    assert subclass_closure(shipped_graph) == expected
