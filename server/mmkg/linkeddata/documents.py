"""The RDF documents the server publishes: one per resource, the ontology, VoID and the dumps.

Plain Python over Backend.construct/select (SPARQL only), so an external SPARQL
backend serves the same documents as the embedded store. No Flask here.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, VOID, XSD
from rdflib.term import Node

from ..formats import JSON_LD, N_QUADS, N_TRIPLES, TRIG, TURTLE, Format, Quad, serialize
from ..kg.store import Backend, integer
from ..uris import BASE, KINDS, LOCAL_ID, MM, ONTOLOGY_IRI, PREFIXES

LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
TITLE = "mmkg, the OSCE Moscow Mechanism knowledge graph"  # as CITATION.cff and the data
DESCRIPTION = (
    "A linked-data knowledge graph of the OSCE Human Dimension Mechanism (the Vienna and "
    "Moscow Mechanisms): every invocation, the States in their roles, the missions of "
    "experts, their reports and the violations those reports and other sources allege, "
    "each fact with its source. Allegations are recorded as the sources report them; they "
    "are not findings of this dataset.")

# Properties that name or classify a linked resource: a document carries these for every
# resource it links to (and that links to it) so one fetch renders a page. mm:date lets a
# page order the invocations a State joined without another request.
LABEL_PROPERTIES = (RDF.type, RDFS.label, SKOS.prefLabel, MM.date)
# How far the closure follows blank nodes (nested blank nodes, RDF lists in the ontology).
BLANK_DEPTH = 4
ONTOLOGY_BLANK_DEPTH = 10

DUMP_FORMATS: tuple[tuple[str, Format, bool], ...] = (
    # (file name, format, gzipped). The .gz file is for downloads (a file to keep); the
    # others are RDF that clients read by URL, compressed in transit on Accept-Encoding.
    ("mmkg.ttl", TURTLE, False),
    ("mmkg.nt", N_TRIPLES, False),
    ("mmkg.nt.gz", N_TRIPLES, True),
    ("mmkg.nq", N_QUADS, False),
    ("mmkg.trig", TRIG, False),
    ("mmkg.jsonld", JSON_LD, False),
)


def sparql_iri(term: str) -> str:
    """An IRI for a SPARQL query, refusing anything that could break out of <...>."""
    if any(c in term for c in '<>"{}|^`\\ \n\r\t'):
        raise ValueError(f"not a safe IRI: {term!r}")
    return f"<{term}>"


def sparql_iris(terms: tuple[URIRef, ...]) -> str:
    return " ".join(sparql_iri(str(t)) for t in terms)


def _closure_branches(start: str, depth: int, anchor: str = "", last: str = "?s ?p ?o"
                      ) -> list[str]:
    """UNION branches binding ?s ?p ?o to the triples of blank nodes reachable from `start`
    (an IRI, or a variable bound by the pattern `anchor`) through blank nodes only, up to
    `depth` hops. `last` is the pattern that binds the triple (quads wrap it in GRAPH)."""
    branches = []
    for hops in range(1, depth + 1):
        chain = [anchor] if anchor else []
        previous = start
        for n in range(1, hops + 1):
            node = "?s" if n == hops else f"?b{n}"
            chain.append(f"{previous} ?q{n} {node} . FILTER(isBlank({node}))")
            previous = node
        branches.append("{ " + " ".join(chain) + f" {last} }}")
    return branches


def document_iri(kind: str, local: str, base: str = BASE) -> URIRef:
    return URIRef(f"{base}doc/{kind}/{local}")


def dataset_iri(base: str = BASE) -> URIRef:
    return URIRef(f"{base}dataset")


def resource_query(iri: str, depth: int = BLANK_DEPTH, quads: bool = False) -> str:
    """The CONSTRUCT that gathers the data part of a resource's document; with `quads`, the
    SELECT of the same triples as ?s ?p ?o with each named graph ?g that holds them.

    The label properties are a FILTER(?p IN ...), not a VALUES block: Oxigraph joins a VALUES
    block with every triple of the linked resources, which made this query several times
    slower for the same triples (tests/linkeddata/test_documents.py checks they are the same).
    The branches that have the resource itself as subject or object do not BIND it: Virtuoso
    7 fails on BIND in such a union ("sparp_gp_deprecate(): equiv replaces filter"). The
    CONSTRUCT binds variables of their own (named in its template); the SELECT binds ?s or
    ?o with a one-row VALUES. The triples are the same.
    """
    r = sparql_iri(iri)
    labels = "FILTER(?p IN (" + ", ".join(sparql_iri(str(p)) for p in LABEL_PROPERTIES) + "))"

    def bound(pattern: str) -> str:
        # The pattern that binds the document's triple: in the default graph (the union of
        # every file), or in the named graph ?g that holds it.
        return f"GRAPH ?g {{ {pattern} }}" if quads else f"{pattern} ."

    branches = [
        # its own triples
        # its own triples (a SELECT must bind ?s; a CONSTRUCT names the resource in its
        # template instead, see above)
        f"{{ VALUES ?s {{ {r} }} {bound('?s ?p ?o')} }}" if quads else f"{{ {r} ?p1 ?o1 }}",
        # the blank nodes it reaches (closure)
        *_closure_branches(r, depth, last=bound("?s ?p ?o")),
        # labels and types of everything it (or its blank nodes) links to
        f"{{ {r} ?q0 ?s . FILTER(isIRI(?s)) {bound('?s ?p ?o')} {labels} }}",
        f"{{ {r} ?q0 ?b . FILTER(isBlank(?b)) ?b ?q1 ?s . FILTER(isIRI(?s)) "
        f"{bound('?s ?p ?o')} {labels} }}",
        # the links that point to it, with the labels and types of their subjects
        f"{{ VALUES ?o {{ {r} }} {bound('?s ?p ?o')} FILTER(isIRI(?s)) }}" if quads
        else f"{{ ?s9 ?p9 {r} . FILTER(isIRI(?s9)) }}",
        f"{{ ?s ?q0 {r} . FILTER(isIRI(?s)) {bound('?s ?p ?o')} {labels} }}",
    ]
    head = ("SELECT DISTINCT ?s ?p ?o ?g" if quads
            else f"CONSTRUCT {{ {r} ?p1 ?o1 . ?s ?p ?o . ?s9 ?p9 {r} }}")
    return head + " WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"


def exists(kg: Backend, iri: str) -> bool:
    """Whether the graph says anything about the IRI (as subject or object)."""
    r = sparql_iri(iri)
    return kg.ask(f"ASK {{ {{ {r} ?p ?o }} UNION {{ ?s ?p {r} }} }}")


def resources(kg: Backend, base: str = BASE) -> list[tuple[str, str]]:
    """(kind, local name) of every resource with a document: each IRI under <base>id/ that
    the graph says anything about (as subject or object), of a kind we mint."""
    prefix = sparql_string(base + "id/")
    rows = kg.select(
        "SELECT DISTINCT ?r WHERE { { ?r ?p ?o } UNION { ?s ?p ?r } "
        f"FILTER(isIRI(?r) && STRSTARTS(STR(?r), {prefix})) }} ORDER BY ?r")
    found = []
    for row in rows:
        kind, _, local = str(row["r"])[len(base) + 3:].partition("/")
        if kind in KINDS and LOCAL_ID.fullmatch(local):
            found.append((kind, local))
    return found


def named_graphs(kg: Backend, base: str = BASE) -> list[str]:
    """The local names of the named graphs under <base>graph/ (one per served file)."""
    prefix = sparql_string(base + "graph/")
    rows = kg.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                     f"FILTER(STRSTARTS(STR(?g), {prefix})) }} ORDER BY ?g")
    return [str(r["g"])[len(base) + 6:] for r in rows]


def named_graph_exists(kg: Backend, iri: str) -> bool:
    return kg.ask(f"ASK {{ GRAPH {sparql_iri(iri)} {{ ?s ?p ?o }} }}")


def named_graph(kg: Backend, iri: str) -> Graph:
    """Every triple of one named graph (a served file, or a graph of a quad file)."""
    r = sparql_iri(iri)
    return bind_prefixes(triples(kg, f"SELECT ?s ?p ?o WHERE {{ GRAPH {r} {{ ?s ?p ?o }} }}"))


def triples(kg: Backend, select: str) -> Graph:
    """The rows of a SELECT ?s ?p ?o as a graph. Whole-graph reads are SELECTs, not
    CONSTRUCTs, because a store that caps answers (Virtuoso's ResultSetMaxRows) says so for
    SELECT only, and the remote backend then reads them in pages."""
    graph = Graph()
    add = graph.add
    for row in kg.select(select):
        add((row["s"], row["p"], row["o"]))
    return graph


def bind_prefixes(graph: Graph) -> Graph:
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    graph.bind("id", BASE + "id/")
    return graph


def add_document_metadata(graph: Graph, doc: URIRef, topic: URIRef, modified: datetime,
                          base: str = BASE) -> Graph:
    """Licence, source and modification date of a published document."""
    graph.add((doc, RDF.type, FOAF.Document))
    graph.add((doc, FOAF.primaryTopic, topic))
    graph.add((doc, DCTERMS.license, LICENSE))
    graph.add((doc, DCTERMS.source, dataset_iri(base)))
    graph.add((doc, PROV.wasDerivedFrom, dataset_iri(base)))
    graph.add((doc, DCTERMS.modified, Literal(modified.isoformat(), datatype=XSD.dateTime)))
    return graph


def describe(kg: Backend, kind: str, local: str, base: str = BASE) -> Graph:
    """The document about <base>id/{kind}/{local}: its triples, blank-node closure, labels and
    types of linked resources, inbound links, and document metadata."""
    iri = f"{base}id/{kind}/{local}"
    graph = bind_prefixes(kg.construct(resource_query(iri)))
    return add_document_metadata(graph, document_iri(kind, local, base), URIRef(iri),
                                 kg.modified, base)


def describe_quads(kg: Backend, kind: str, local: str, base: str = BASE) -> list[Quad]:
    """The same document as `describe`, each triple in the named graph(s) (served files) that
    hold it; the document's own metadata, which no file states, in the default graph."""
    iri = f"{base}id/{kind}/{local}"
    quads = _in_graphs(kg, resource_query(iri, quads=True), resource_query(iri))
    metadata = add_document_metadata(Graph(), document_iri(kind, local, base), URIRef(iri),
                                     kg.modified, base)
    return quads + [(s, p, o, None) for s, p, o in metadata]


def _in_graphs(kg: Backend, select_quads: str, construct: str) -> list[Quad]:
    """The rows ?s ?p ?o ?g of `select_quads`; where no named graph holds them (an external
    endpoint loaded from the N-Triples dump has none), the triples of `construct` in the
    default graph."""
    rows = kg.select(select_quads)
    if rows:
        return [(r["s"], r["p"], r["o"], URIRef(str(r["g"]))) for r in rows]
    return [(s, p, o, None) for s, p, o in kg.construct(construct)]


def named_graph_quads(kg: Backend, iri: str) -> list[Quad]:
    """One named graph's triples, in that graph."""
    return [(s, p, o, URIRef(iri)) for s, p, o in named_graph(kg, iri)]


def ontology_query(namespace: str = str(MM), ontology: str = ONTOLOGY_IRI) -> str:
    """The CONSTRUCT for the ontology document."""
    term = (f"FILTER(STRSTARTS(STR(?a), {sparql_string(namespace)}) "
            f"|| ?a = {sparql_iri(ontology)})")
    owl = "http://www.w3.org/2002/07/owl#"
    kinds = " ".join(sparql_iri(owl + kind) for kind in (
        "Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty"))
    branches = [
        "{ ?a ?p ?o . " + term + " BIND(?a AS ?s) }",
        # the declarations of the other vocabularies' terms it uses (skos:Concept a owl:Class),
        # which OWL tools need to read it
        "{ VALUES ?o { " + kinds + " } ?s a ?o . FILTER(isIRI(?s) && !STRSTARTS(STR(?s), "
        + sparql_string(namespace) + ")) BIND(" + sparql_iri(str(RDF.type)) + " AS ?p) }",
        *_closure_branches("?a", ONTOLOGY_BLANK_DEPTH,
                           "{ SELECT DISTINCT ?a WHERE { ?a ?q0 ?x0 . " + term + " } }"),
    ]
    return "CONSTRUCT { ?s ?p ?o } WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"


def sparql_string(text: str) -> str:
    if any(c in text for c in '"\\\n\r'):
        raise ValueError(f"not a safe literal: {text!r}")
    return f'"{text}"'


def ontology_graph(kg: Backend) -> Graph:
    """The ontology: every triple about the ontology IRI or a term in the mm: namespace, with
    the blank nodes they use (unions, lists), and the OWL declarations of the other
    vocabularies' terms it uses."""
    return bind_prefixes(kg.construct(ontology_query()))


def full_graph(kg: Backend) -> Graph:
    """Every triple served (the union of all files), for the dumps."""
    return bind_prefixes(triples(kg, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"))


def full_quads(kg: Backend) -> list[Quad]:
    """Every triple served in the named graph(s) that hold it (one per served file)."""
    return _in_graphs(kg, "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                      "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")


def dump(kg: Backend, name: str, context: dict[str, Any]) -> bytes:
    """One of DUMP_FORMATS, whole: the quad formats keep the named graphs, the triple formats
    hold their union; JSON-LD carries `context` inline (a saved dump expands anywhere); gzip
    without a timestamp (the same data gives the same bytes)."""
    _, fmt, gzipped = next(d for d in DUMP_FORMATS if d[0] == name)
    body = serialize(full_quads(kg) if fmt.quads else full_graph(kg), fmt, context)
    return gzip.compress(body, mtime=0) if gzipped else body


@dataclass(frozen=True)
class Statistics:
    """What VoID says about the dataset, computed once."""

    triples: int
    entities: int
    classes: tuple[tuple[URIRef, int], ...]
    properties: tuple[tuple[URIRef, int], ...]


def statistics(kg: Backend, base: str = BASE) -> Statistics:
    def number(rows: list[dict[str, Node]], name: str = "n") -> int:
        return integer(rows[0][name]) if rows and name in rows[0] else 0

    triples = number(kg.select(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"))
    entities = number(kg.select(
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o . "
        f"FILTER(STRSTARTS(STR(?s), {sparql_string(base + 'id/')})) }}"))
    classes = kg.select(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c . FILTER(isIRI(?c)) } "
        "GROUP BY ?c ORDER BY ?c")
    properties = kg.select(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } "
        "GROUP BY ?p ORDER BY ?p")
    return Statistics(
        triples, entities,
        tuple((URIRef(str(r["c"])), integer(r["n"])) for r in classes),
        tuple((URIRef(str(r["p"])), integer(r["n"])) for r in properties))


def void_graph(kg: Backend, stats: Statistics, base: str = BASE) -> Graph:
    """VoID and DCAT description of the dataset, with its statistics and dumps."""
    graph = bind_prefixes(Graph())
    ds = dataset_iri(base)
    doc = URIRef(f"{base}.well-known/void")
    graph.add((doc, RDF.type, VOID.DatasetDescription))
    graph.add((doc, FOAF.primaryTopic, ds))
    graph.add((doc, DCTERMS.license, LICENSE))
    graph.add((doc, DCTERMS.modified, Literal(kg.modified.isoformat(), datatype=XSD.dateTime)))
    for kind in (VOID.Dataset, DCAT.Dataset):
        graph.add((ds, RDF.type, kind))
    graph.add((ds, DCTERMS.title, Literal(TITLE, lang="en")))
    graph.add((ds, RDFS.label, Literal(TITLE, lang="en")))
    graph.add((ds, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    graph.add((ds, DCTERMS.license, LICENSE))
    graph.add((ds, DCTERMS.modified, Literal(kg.modified.isoformat(), datatype=XSD.dateTime)))
    graph.add((ds, DCTERMS.identifier, Literal(kg.version)))
    graph.add((ds, FOAF.homepage, URIRef(base)))
    graph.add((ds, DCAT.landingPage, URIRef(base)))
    graph.add((ds, VOID.uriSpace, Literal(base + "id/")))
    graph.add((ds, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    graph.add((ds, VOID.vocabulary, URIRef(str(MM))))
    graph.add((ds, VOID.triples, Literal(stats.triples)))
    graph.add((ds, VOID.entities, Literal(stats.entities)))
    graph.add((ds, VOID.classes, Literal(len(stats.classes))))
    graph.add((ds, VOID.properties, Literal(len(stats.properties))))
    for name, fmt, gzipped in DUMP_FORMATS:
        dump = URIRef(f"{base}dump/{name}")
        graph.add((ds, VOID.dataDump, dump))
        dist = BNode()
        graph.add((ds, DCAT.distribution, dist))
        graph.add((dist, RDF.type, DCAT.Distribution))
        graph.add((dist, DCAT.downloadURL, dump))
        graph.add((dist, DCAT.mediaType, Literal(fmt.media_type)))
        graph.add((dist, DCTERMS.format, URIRef(fmt.iri)))
        if gzipped:
            graph.add((dist, DCAT.compressFormat, Literal("application/gzip")))
        graph.add((dist, DCTERMS.license, LICENSE))
    # What the data itself says about the dataset: its release (dcat:version), issue date,
    # citation and the licences of reused data.
    for p, o in kg.construct(f"CONSTRUCT {{ {sparql_iri(str(ds))} ?p ?o }} WHERE "
                             f"{{ {sparql_iri(str(ds))} ?p ?o }}").predicate_objects(ds):
        if p not in (DCTERMS.title, RDFS.label):  # one title: the published one below
            graph.add((ds, p, o))
    for cls, count in stats.classes:
        part = BNode()
        graph.add((ds, VOID.classPartition, part))
        graph.add((part, VOID["class"], cls))
        graph.add((part, VOID.entities, Literal(count)))
    for prop, count in stats.properties:
        part = BNode()
        graph.add((ds, VOID.propertyPartition, part))
        graph.add((part, VOID.property, prop))
        graph.add((part, VOID.triples, Literal(count)))
    return graph


def schema_org_dataset(stats: Statistics, modified: datetime, host_url: str,
                       base: str = BASE) -> dict[str, Any]:
    """schema.org Dataset markup for the landing page (dataset search engines read it)."""
    return {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": str(dataset_iri(base)),
        "name": TITLE,
        "description": DESCRIPTION,
        "url": base,
        "license": str(LICENSE),
        "isAccessibleForFree": True,
        "dateModified": modified.date().isoformat(),
        "keywords": ["OSCE", "Moscow Mechanism", "Vienna Mechanism", "human rights",
                     "linked data"],
        "creator": {"@type": "Organization", "name": "mmkg project"},
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": fmt.media_type,
             "contentUrl": f"{host_url}dump/{name}"}
            for name, fmt, _ in DUMP_FORMATS
        ],
        "variableMeasured": f"{stats.triples} RDF triples about {stats.entities} resources",
    }
