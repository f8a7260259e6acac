"""The one URI scheme: canonical base, namespaces, and the kinds of resource we mint."""

from __future__ import annotations

import re

from rdflib import Namespace

BASE = "https://w3id.org/mmkg/"
ONTOLOGY_IRI = BASE + "ontology"
MM = Namespace(ONTOLOGY_IRI + "#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
SCHEMA = Namespace("https://schema.org/")

# Kinds of resource under <base>id/{kind}/{local}; see docs/MODEL.md.
KINDS = (
    "state", "org", "mechanism", "document", "invocation", "mission", "report", "meeting",
    "person", "allegation", "claim", "source", "category", "group", "framework",
    "confidence", "procedure", "source-type", "instrument", "provision", "scheme",
    "participation", "correction",
)
LOCAL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")

PREFIXES: dict[str, str] = {
    "mm": str(MM),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": str(SCHEMA),
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vann": "http://purl.org/vocab/vann/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sh": "http://www.w3.org/ns/shacl#",
    "wd": str(WD),
    "wdt": str(WDT),
}


def resource_iri(kind: str, local: str, base: str = BASE) -> str:
    """The canonical IRI of a resource; raises ValueError for an unknown kind or bad id."""
    if kind not in KINDS or not LOCAL_ID.fullmatch(local):
        raise ValueError(f"not an identifier of ours: {kind}/{local}")
    return f"{base}id/{kind}/{local}"


def split_resource_iri(iri: str, base: str = BASE) -> tuple[str, str] | None:
    """(kind, local) for one of our resource IRIs, else None."""
    prefix = base + "id/"
    if not iri.startswith(prefix):
        return None
    kind, _, local = iri[len(prefix):].partition("/")
    if kind in KINDS and LOCAL_ID.fullmatch(local):
        return kind, local
    return None
