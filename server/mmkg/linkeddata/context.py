"""The published JSON-LD context: short names for our terms so the JSON reads like plain JSON.

Built once from the served graph (every mm: term it uses or defines, plus common terms of
the standard vocabularies), served at CONTEXT_PATH on the serving host and referenced by URL
from every JSON-LD response.
"""

from __future__ import annotations

from typing import Any

from ..kg.store import Backend, integer
from ..uris import MM, PREFIXES

CONTEXT_PATH = "/context.jsonld"

# Short names for common terms of standard vocabularies: (name, prefixed IRI, IRI-valued).
STANDARD_TERMS: tuple[tuple[str, str, bool], ...] = (
    ("label", "rdfs:label", False),
    ("comment", "rdfs:comment", False),
    ("seeAlso", "rdfs:seeAlso", True),
    ("subClassOf", "rdfs:subClassOf", True),
    ("prefLabel", "skos:prefLabel", False),
    ("altLabel", "skos:altLabel", False),
    ("definition", "skos:definition", False),
    ("inScheme", "skos:inScheme", True),
    ("exactMatch", "skos:exactMatch", True),
    ("closeMatch", "skos:closeMatch", True),
    ("title", "dcterms:title", False),
    ("publisher", "dcterms:publisher", False),
    ("license", "dcterms:license", True),
    ("modified", "dcterms:modified", False),
    ("source", "dcterms:source", True),
    ("wasDerivedFrom", "prov:wasDerivedFrom", True),
    ("primaryTopic", "foaf:primaryTopic", True),
    ("url", "schema:url", True),
    ("name", "schema:name", False),
)


def _local_name(iri: str) -> str:
    return iri[len(str(MM)):]


def build_context(kg: Backend) -> dict[str, Any]:
    """The context object (the value of "@context") for the served graph."""
    namespace = str(MM)
    rows = kg.select(
        "SELECT ?t (MIN(IF(isLiteral(?o), 0, 1)) AS ?iri) WHERE {"
        " { ?s ?t ?o } UNION { ?t ?x ?y . BIND(?t AS ?o) } UNION { ?s a ?t . BIND(?s AS ?o) }"
        f' FILTER(isIRI(?t) && STRSTARTS(STR(?t), "{namespace}")) }} GROUP BY ?t')
    context: dict[str, Any] = {"id": "@id", "type": "@type"}
    context.update(PREFIXES)
    terms: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: str(r["t"])):
        name = _local_name(str(row["t"]))
        if not name or not name.replace("_", "a").isalnum() or name in context:
            continue
        # Classes and literal-valued properties map by plain IRI; properties whose every
        # value is an IRI are coerced so their values read as plain strings.
        if name[0].isupper() or integer(row["iri"]) == 0:
            terms[name] = f"mm:{name}"
        else:
            terms[name] = {"@id": f"mm:{name}", "@type": "@id"}
    for name, curie, iri_valued in STANDARD_TERMS:
        if name not in terms and name not in context:
            terms[name] = {"@id": curie, "@type": "@id"} if iri_valued else curie
    context.update(terms)
    return context
