"""Content negotiation as a table of named cases: the table is the documentation."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from helpers import quads_of, union_graph
from mmkg.formats import (
    COMMON_ACCEPT,
    DOCUMENT_FORMATS,
    FORMATS_BY_EXTENSION,
    HTML,
    JSON_LD,
    N3,
    N_QUADS,
    N_TRIPLES,
    RDF_FORMATS,
    RDF_XML,
    TRIG,
    TURTLE,
    MalformedAccept,
    negotiate,
    serialize,
)

# (case name, Accept header, expected format or None for 406)
ACCEPT_TABLE = [
    ("no_accept", None, TURTLE),
    ("empty_accept", "", TURTLE),
    ("star_star", "*/*", TURTLE),
    ("text_star", "text/*", TURTLE),
    ("browser_firefox", COMMON_ACCEPT["firefox"], HTML),
    ("browser_chromium", COMMON_ACCEPT["chromium"], HTML),
    ("curl", COMMON_ACCEPT["curl"], TURTLE),
    ("rdflib", COMMON_ACCEPT["rdflib"], TURTLE),
    # Comunica puts N-Quads first (a quad format keeps the named graphs).
    ("comunica", COMMON_ACCEPT["comunica"], N_QUADS),
    ("protege", COMMON_ACCEPT["protege"], RDF_XML),
    ("turtle", "text/turtle", TURTLE),
    ("jsonld", "application/ld+json", JSON_LD),
    ("rdfxml", "application/rdf+xml", RDF_XML),
    ("ntriples", "application/n-triples", N_TRIPLES),
    # text/plain was N-Triples' type before it was registered; rdflib sends it for "nt".
    ("text_plain_legacy_ntriples", "text/plain", N_TRIPLES),
    ("nquads", "application/n-quads", N_QUADS),
    ("trig", "application/trig", TRIG),
    ("n3", "text/n3", N3),
    ("n3_legacy", "text/rdf+n3", N3),
    # What rapper (Raptor 2.0.15) sends for each of its parsers.
    ("rapper_nquads", "text/x-nquads, */*;q=0.1", N_QUADS),
    ("rapper_trig", "application/x-trig, */*;q=0.1", TRIG),
    ("rapper_ntriples", "application/n-triples, text/plain;q=0.1, */*;q=0.1", N_TRIPLES),
    ("rapper_turtle", "text/turtle, application/x-turtle, application/turtle, text/n3;q=0.3, "
                      "text/rdf+n3;q=0.3, application/rdf+n3;q=0.3, */*;q=0.1", TURTLE),
    ("html", "text/html", HTML),
    ("explicit_q", "application/ld+json;q=0.9, text/turtle;q=0.5", JSON_LD),
    ("explicit_q_reversed", "application/ld+json;q=0.5, text/turtle;q=0.9", TURTLE),
    # Equal weights: the server's order decides (Turtle, HTML, JSON-LD, RDF/XML, N-Triples).
    ("equal_q_server_order", "application/n-triples, application/rdf+xml", RDF_XML),
    ("specific_beats_wildcard", "*/*;q=0.9, application/rdf+xml", RDF_XML),
    ("charset_param", "text/turtle; charset=utf-8", TURTLE),
    ("plain_json_alias", "application/json", JSON_LD),
    ("xhtml_alias", "application/xhtml+xml", HTML),
    ("q_zero_refuses", "text/turtle;q=0, application/n-triples", N_TRIPLES),
    ("unsupported", "image/png", None),
    ("unsupported_all_q_zero", "text/turtle;q=0", None),
    ("case_insensitive", "Text/Turtle", TURTLE),
]


@pytest.mark.parametrize(("accept", "expected"), [(a, e) for _, a, e in ACCEPT_TABLE],
                         ids=[name for name, _, _ in ACCEPT_TABLE])
def test_negotiation(accept, expected):
    assert negotiate(accept, DOCUMENT_FORMATS) is expected


MALFORMED = [
    ("bad_q", "text/turtle;q=high"),
    ("q_above_one", "text/turtle;q=1.5"),
    ("no_slash", "turtle"),
    ("star_subtype_only", "*/turtle"),
    ("empty_subtype", "text/"),
    ("broken_parameter", "text/turtle;charset"),
    ("too_long", "text/turtle," * 1000),
]


@pytest.mark.parametrize("accept", [a for _, a in MALFORMED], ids=[n for n, _ in MALFORMED])
def test_malformed_accept_raises(accept):
    with pytest.raises(MalformedAccept):
        negotiate(accept, DOCUMENT_FORMATS)


def test_rdf_only_offers_fall_back_to_turtle_for_browsers():
    # The SPARQL endpoint offers RDF only for CONSTRUCT: a browser still gets something.
    assert negotiate(COMMON_ACCEPT["firefox"], RDF_FORMATS) is TURTLE


def test_registry_is_consistent():
    assert {f.extension for f in DOCUMENT_FORMATS} == {"ttl", "html", "jsonld", "rdf", "nt",
                                                        "nq", "trig", "n3"}
    assert all(FORMATS_BY_EXTENSION[f.extension] is f for f in DOCUMENT_FORMATS)
    assert all(f.iri.startswith("http") for f in DOCUMENT_FORMATS)
    assert len({f.media_type for f in DOCUMENT_FORMATS}) == len(DOCUMENT_FORMATS)


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.key for f in RDF_FORMATS])
def test_serialize_round_trips(fmt):
    graph = Graph()
    graph.parse(data="""
        @prefix ex: <https://example.org/> .
        ex:a ex:p "é"@fr , 3 , ex:b ; ex:q [ ex:r "nested" ] .
    """, format="turtle")
    context = {"ex": "https://example.org/", "p": {"@id": "ex:p"}}
    data = serialize(graph, fmt, context)
    if fmt.quads:
        parsed = union_graph(data, fmt)
    else:
        parsed = Graph().parse(data=data, format="json-ld" if fmt is JSON_LD else fmt.rdflib_name)
    assert parsed.isomorphic(graph)
    assert (URIRef("https://example.org/a"), None, None) in parsed


def test_serialize_refuses_html():
    with pytest.raises(ValueError):
        serialize(Graph(), HTML)


def test_quads_keep_their_named_graphs():
    """A quad format writes each triple in the graph given, the default graph for None."""
    a, p, b = (URIRef(f"https://example.org/{n}") for n in "apb")
    graph = URIRef("https://example.org/g")
    for fmt in (N_QUADS, TRIG):
        data = serialize([(a, p, b, graph), (b, p, a, None)], fmt)
        assert {str(q) for q in quads_of(data, fmt)} == {
            f"<{a}> <{p}> <{b}> <{graph}>", f"<{b}> <{p}> <{a}>"}
