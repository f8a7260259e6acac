"""Words for people: a readable label for every resource and term a page shows (our own from
the data and the ontology, standard vocabularies from the table below), and the inverse
wording of each property for links that point at a resource ("expert of", not "expert").
No Flask here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SKOS,
    VANN,
    VOID,
    XSD,
)
from rdflib.term import Node

from ..kg.store import Backend
from ..uris import MM, SCHEMA, WD
from . import documents

SH = "http://www.w3.org/ns/shacl#"
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3; rdflib knows DCAT 2

# The properties that name a resource, in the order a label is taken from them.
NAMING = (RDFS.label, SKOS.prefLabel, DCTERMS.title, SCHEMA.name)


def _table(pairs: Iterable[tuple[URIRef | str, str]]) -> dict[str, str]:
    return {str(term): words for term, words in pairs}


# Terms of standard vocabularies that our ontology uses but does not describe: what a page
# calls them. Every term that reaches a page has an entry here or a label in the data
# (tests/linkeddata/test_site.py crawls every page for raw IRIs).
STANDARD_LABELS: dict[str, str] = _table([
    (RDF.type, "type"), (RDF.first, "first item"), (RDF.rest, "rest of the list"),
    (RDF.Property, "property"), (RDF.langString, "text with a language"),
    (RDFS.label, "label"), (RDFS.comment, "comment"), (RDFS.seeAlso, "see also"),
    (RDFS.domain, "applies to (domain)"), (RDFS.range, "value type (range)"),
    (RDFS.subClassOf, "kind of (subclass of)"), (RDFS.subPropertyOf, "narrower than"),
    (RDFS.isDefinedBy, "defined by"), (RDFS.Class, "class"), (RDFS.Literal, "text or value"),
    (RDFS.Resource, "resource"),
    (OWL.Class, "class"), (OWL.ObjectProperty, "relation (object property)"),
    (OWL.DatatypeProperty, "value property (datatype property)"),
    (OWL.AnnotationProperty, "annotation property"),
    (OWL.FunctionalProperty, "property with one value (functional)"),
    (OWL.Ontology, "ontology"), (OWL.disjointWith, "disjoint with"),
    (OWL.unionOf, "one of (union)"), (OWL.versionIRI, "version IRI"),
    (OWL.versionInfo, "version"), (OWL.sameAs, "same as"), (OWL.Thing, "thing"),
    (SKOS.Concept, "concept"), (SKOS.ConceptScheme, "concept scheme"),
    (SKOS.prefLabel, "preferred name"), (SKOS.altLabel, "other names"),
    (SKOS.hiddenLabel, "hidden name"), (SKOS.notation, "notation"),
    (SKOS.definition, "definition"), (SKOS.scopeNote, "scope note"),
    (SKOS.editorialNote, "editorial note"), (SKOS.example, "example"), (SKOS.note, "note"),
    (SKOS.exactMatch, "same as (exact match)"), (SKOS.closeMatch, "close match"),
    (SKOS.broadMatch, "broader match"), (SKOS.narrowMatch, "narrower match"),
    (SKOS.broader, "broader concept"), (SKOS.narrower, "narrower concept"),
    (SKOS.related, "related concept"), (SKOS.inScheme, "in scheme"),
    (SKOS.hasTopConcept, "top concept"), (SKOS.topConceptOf, "top concept of"),
    (DCTERMS.title, "title"), (DCTERMS.description, "description"),
    (DCTERMS.date, "date"), (DCTERMS.created, "created"), (DCTERMS.modified, "modified"),
    (DCTERMS.issued, "issued"), (DCTERMS.license, "licence"), (DCTERMS.rights, "rights"),
    (DCTERMS.creator, "creator"), (DCTERMS.publisher, "publisher"),
    (DCTERMS.source, "source"), (DCTERMS.isPartOf, "part of"),
    (DCTERMS.identifier, "identifier"), (DCTERMS.format, "file format"),
    (DCTERMS.bibliographicCitation, "how to cite"),
    (PROV.wasDerivedFrom, "source"), (PROV.Entity, "entity (PROV)"),
    (PROV.Activity, "activity (PROV)"), (PROV.Agent, "agent (PROV)"),
    (PROV.Person, "person (PROV)"), (PROV.Plan, "plan (PROV)"),
    (PROV.Organization, "organisation (PROV)"), (PROV.alternateOf, "alternate of"),
    (PROV.wasAssociatedWith, "associated with"), (PROV.wasAttributedTo, "attributed to"),
    (ORG.unitOf, "unit of"), (ORG.Membership, "membership"), (ORG.member, "member"),
    (ORG.organization, "organisation"), (ORG.OrganizationalUnit, "organisational unit"),
    (ORG.FormalOrganization, "formal organisation"),
    (SCHEMA.name, "name"), (SCHEMA.url, "web address"), (SCHEMA.version, "version"),
    (SCHEMA.startDate, "start date"), (SCHEMA.endDate, "end date"),
    (SCHEMA.Person, "person"), (SCHEMA.Country, "country"), (SCHEMA.Event, "event"),
    (SCHEMA.Report, "report (schema.org)"), (SCHEMA.CreativeWork, "creative work"),
    (SCHEMA.Legislation, "legislation"), (SCHEMA.reportNumber, "report number"),
    (SCHEMA.Dataset, "dataset"),
    (FOAF.primaryTopic, "about"), (FOAF.Document, "document"), (FOAF.homepage, "home page"),
    (FOAF.page, "page"),
    (VANN.preferredNamespacePrefix, "preferred prefix"),
    (VANN.preferredNamespaceUri, "namespace"),
    (VOID.Dataset, "dataset (VoID)"), (VOID.DatasetDescription, "dataset description"),
    (VOID.triples, "statements (triples)"), (VOID.entities, "resources"),
    (VOID.classes, "classes"), (VOID.properties, "properties"),
    (VOID.uriSpace, "identifiers start with"), (VOID.sparqlEndpoint, "SPARQL endpoint"),
    (VOID.vocabulary, "vocabulary"), (VOID.dataDump, "download (dump)"),
    (VOID.classPartition, "class partition"), (VOID.propertyPartition, "property partition"),
    (VOID["class"], "class"), (VOID.property, "property"),
    (DCAT.Dataset, "dataset (DCAT)"), (DCAT.Distribution, "distribution"),
    (DCAT.distribution, "distribution"), (DCAT.downloadURL, "download address"),
    (DCAT.mediaType, "media type"), (DCAT.compressFormat, "compression"),
    (DCAT.landingPage, "landing page"), (DCAT_VERSION, "release"),
    (XSD.date, "date"), (XSD.gYear, "year"), (XSD.gYearMonth, "month"),
    (XSD.integer, "integer"), (XSD.boolean, "yes or no"), (XSD.string, "text"),
    (XSD.dateTime, "date and time"), (XSD.anyURI, "web address"),
    (SH + "NodeShape", "node shape"), (SH + "PropertyShape", "property shape"),
    # Licences the data names.
    ("https://creativecommons.org/licenses/by/4.0/",
     "Creative Commons Attribution 4.0 (CC BY 4.0)"),
    ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0 (public domain dedication)"),
    ("https://spdx.org/licenses/LGPL-2.1-only.html", "GNU LGPL 2.1 only"),
])

# How a link that points at a resource reads on that resource's page: the subject "is the
# <words> of" it, in plain words. A property missing here reads "links here as <label>".
INVERSE_LABELS: dict[str, str] = _table([
    (MM.invokedBy, "invoked by it"),
    (MM.subjectState, "about it or on its territory"),
    (MM.invitingState, "at its invitation"),
    (MM.conductState, "examining its conduct"),
    (MM.concernsState, "concerning it"),
    (MM.deliveredBy, "statement delivered by it"),
    (MM.forum, "invoked at it"),
    (MM.addressedTo, "letter addressed to them"),
    (MM.mechanism, "uses of this mechanism"),
    (MM.procedure, "invocations under this procedure"),
    (MM.mission, "set up by"),
    (MM.expert, "expert on"),
    (MM.report, "report of"),
    (MM.answersInvocation, "answered by the report"),
    (MM.presentedAt, "report presented here"),
    (MM.body, "meetings of this body"),
    (MM.category, "allegations in this category"),
    (MM.allegedPerpetrator, "allegations against it"),
    (MM.affectedGroup, "allegations affecting this group"),
    (MM.territory, "allegations about its territory"),
    (MM.legalFramework, "allegations under this framework"),
    (MM.allegedIn, "allegations it makes"),
    (MM.allegedBy, "allegations attributed to them"),
    (MM.relatedInvocation, "allegations related to it"),
    (MM.confidence, "resources with this confidence"),
    (MM.claimAbout, "what the sources claim about it"),
    (MM.claimProperty, "claims about this property"),
    (MM.claimValue, "claims giving it as the value"),
    (MM.listsState, "lists of invoking States that name it"),
    (MM.participant, "participation"),
    (MM.organisation, "participations in it"),
    (MM.sourceType, "sources of this type"),
    (MM.mirrorOf, "copies of it (mirrors)"),
    (MM.instrument, "provisions of this instrument"),
    (MM.supportsCategory, "provisions behind this category"),
    (MM.establishedBy, "established by it"),
    (MM.amendedBy, "amended by it"),
    (MM.partOf, "its parts"),
    (MM.correctionOf, "corrections of it"),
    (MM.reservationBy, "reservations it made"),
    (MM.reservationWithdrawnBy, "reservations it withdrew"),
    (PROV.wasDerivedFrom, "source of"),
    (DCTERMS.isPartOf, "its parts"),
    (DCTERMS.license, "under this licence"),
    (RDFS.seeAlso, "see also (from)"),
    (RDFS.isDefinedBy, "terms it defines"),
    (RDFS.subClassOf, "narrower classes"),
    (RDFS.subPropertyOf, "narrower properties"),
    (RDFS.domain, "properties that apply to it"),
    (RDFS.range, "properties with values of this type"),
    (RDF.type, "instances"),
    (SKOS.inScheme, "concepts in this scheme"),
    (SKOS.topConceptOf, "top concepts"),
    (SKOS.hasTopConcept, "scheme of"),
    (SKOS.broader, "narrower concepts"),
    (SKOS.narrower, "broader concept"),
    (SKOS.related, "related concepts"),
    (SKOS.exactMatch, "same as (exact match)"),
    (SKOS.closeMatch, "close match of"),
    (SKOS.broadMatch, "narrower match"),
    (SKOS.narrowMatch, "broader match"),
    (ORG.unitOf, "its units"),
    (FOAF.primaryTopic, "documents about it"),
])


def local_name(iri: str) -> str:
    """The last segment of an IRI, camelCase split into words (a last resort for a label)."""
    tail = re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", tail).lower() if tail[:1].islower() else tail


def wikidata_label(iri: str) -> str | None:
    """"Wikidata Q36" for a Wikidata item, else None."""
    return f"Wikidata {iri[len(str(WD)):]}" if iri.startswith(str(WD)) else None


def short_address(url: str) -> str:
    """A web address as link text: its site and path, long paths cut in the middle
    ("ihl-databases.icrc.org/…/v1_rul_rule124"), never the scheme."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    path = parts.path.rstrip("/")
    if len(path) > 32:
        path = "/…/" + path.rsplit("/", 1)[-1][-28:]
    return parts.hostname + path


def inverse_label(prop: Node, label: str) -> str:
    """How an inbound link by `prop` reads on the page of its object."""
    return INVERSE_LABELS.get(str(prop)) or f"links here as “{label}”"


class Labels:
    """Label lookup over a document graph, then the backend (for terms the document does not
    label), then the standard table; English first, then untagged, then any language."""

    def __init__(self, graph: Graph, kg: Backend | None = None,
                 extra: Iterable[Node] = ()) -> None:
        self.graph = graph
        self.cache: dict[Node, str] = {}
        wanted = {p for p in graph.predicates() if isinstance(p, URIRef)}
        wanted |= {o for o in graph.objects(None, RDF.type) if isinstance(o, URIRef)}
        wanted |= {o for o in graph.objects(None, MM.claimProperty) if isinstance(o, URIRef)}
        wanted |= {t for t in extra if isinstance(t, URIRef)}
        if kg is not None and wanted:
            self.fetch(kg, wanted)

    def fetch(self, kg: Backend, iris: Iterable[Node]) -> None:
        """Look up, in one query, the labels of terms neither the document nor the cache has."""
        missing = [i for i in set(iris) if isinstance(i, URIRef) and i not in self.cache
                   and label_in(self.graph, i) is None and str(i) not in STANDARD_LABELS]
        if not missing:
            return
        values = " ".join(documents.sparql_iri(str(i)) for i in missing)
        rows = kg.construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} "
            f"VALUES ?p {{ {documents.sparql_iris(NAMING)} }} ?s ?p ?o }}")
        for iri in missing:
            found = label_in(rows, iri)
            if found is not None:
                self.cache[iri] = found

    def known(self, node: Node) -> bool:
        """Whether a real label exists (not an IRI's local name)."""
        return (node in self.cache or label_in(self.graph, node) is not None
                or str(node) in STANDARD_LABELS or wikidata_label(str(node)) is not None)

    def __call__(self, node: Node) -> str:
        if node in self.cache:
            return self.cache[node]
        found = label_in(self.graph, node)
        if found is not None:  # a fallback is not kept: the graph may learn the label later
            self.cache[node] = found
            return found
        text = str(node)
        return STANDARD_LABELS.get(text) or wikidata_label(text) or local_name(text)


def label_in(graph: Graph, node: Node) -> str | None:
    """The first naming property with a value: English, then untagged, then any language."""
    for prop in NAMING:
        values = [o for o in graph.objects(node, prop) if isinstance(o, Literal)]
        if not values:
            continue
        english = english_texts(values)
        return english[0] if english else sorted(str(o) for o in values)[0]
    return None


def english_texts(values: Iterable[Node]) -> list[str]:
    """The English texts among `values`, else the untagged ones, in alphabetical order (where
    there are several, the first is the same in every process)."""
    literals = [o for o in values if isinstance(o, Literal)]
    for lang in ("en", ""):
        chosen = sorted(str(o) for o in literals if (o.language or "") == lang)
        if chosen:
            return chosen
    return []
