"""The SPARQL 1.1 Service Description of the endpoint, with the dataset's graphs and this
endpoint's limits (https://www.w3.org/TR/sparql11-service-description/). No Flask here."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, VOID, XSD

from ..config import Settings
from ..formats import RDF_FORMATS, RESULTS_FORMATS
from ..kg.store import Backend, integer
from ..uris import MM

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
TRUNCATED_HEADER = "MMKG-Results-Truncated"
LIMIT_HEADER = "MMKG-Results-Limit"
CACHE_HEADER = "MMKG-Cache"  # hit: answered from the answer cache (sparql/cache.py)


def endpoint_iri(settings: Settings) -> str:
    """The canonical IRI of the endpoint (what VoID's void:sparqlEndpoint should name)."""
    return settings.base + "sparql"


def graph_sizes(backend: Backend) -> list[tuple[str, int]]:
    """(graph IRI, triple count) for every named graph."""
    rows = backend.select(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
    return [(str(r["g"]), integer(r["n"])) for r in rows]


def service_description(settings: Settings, served_here: str,
                        sizes: list[tuple[str, int]]) -> Graph:
    """The description, naming the canonical endpoint and `served_here` when it differs, with
    mm:queryTimeout, mm:maxResultRows and mm:maxQueryLength (documented in docs/MODEL.md)."""
    g = Graph()
    g.bind("sd", SD)
    g.bind("mm", MM)
    g.bind("void", VOID)
    service = URIRef(endpoint_iri(settings) + "#service")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, URIRef(endpoint_iri(settings))))
    if served_here != endpoint_iri(settings):
        g.add((service, SD.endpoint, URIRef(served_here)))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    if settings.federation_allowlist:
        g.add((service, SD.feature, SD.BasicFederatedQuery))
    for f in RESULTS_FORMATS + RDF_FORMATS:
        g.add((service, SD.resultFormat, URIRef(f.iri)))
    g.add((service, RDFS.label, Literal("mmkg SPARQL endpoint", lang="en")))
    g.add((service, RDFS.comment, Literal(
        f"Read-only SPARQL 1.1 Query. Queries stop after {settings.query_timeout:g} s (HTTP "
        f"503); at most {settings.max_results} result rows or triples are returned (header "
        f"{TRUNCATED_HEADER}: true when cut); queries longer than {settings.max_query_length} "
        "characters are refused (HTTP 413). SERVICE only to allow-listed endpoints; updates "
        "and LOAD are refused.", lang="en")))
    g.add((service, MM.queryTimeout, Literal(str(settings.query_timeout), datatype=XSD.decimal)))
    g.add((service, MM.maxResultRows, Literal(settings.max_results, datatype=XSD.integer)))
    g.add((service, MM.maxQueryLength, Literal(settings.max_query_length, datatype=XSD.integer)))

    dataset, default = URIRef(settings.base + "sparql#dataset"), BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, RDFS.comment, Literal("the union of all named graphs", lang="en")))
    total = 0
    for name, count in sizes:
        named, graph = BNode(), BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(count, datatype=XSD.integer)))
        total += count
    g.add((default, VOID.triples, Literal(total, datatype=XSD.integer)))
    return g
