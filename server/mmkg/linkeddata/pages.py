"""HTML pages for people: a summary for each kind of resource, labels not IRIs, formatted dates,
sources as numbered references, links to the serving host's paths, and the resource's own
description embedded as JSON-LD for machines.

Every value from the data reaches the page through Jinja2 with autoescaping (templates/).
A page is a function of the backend and the resource only, so it can be built ahead.
The landing page and its timeline are in timeline.py, the index pages in indexes.py.
"""

from __future__ import annotations

import json

from flask import render_template
from markupsafe import Markup
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, SKOS, VOID

from ..formats import DOCUMENT_FORMATS, JSON_LD, Format, serialize
from ..kg.store import Backend
from ..uris import PREFIXES, SCHEMA, WD
from ..web.urls import script_root
from . import documents, ontology_docs
from .facts import Facts
from .kinds import kind_of
from .site import Site
from .summaries import summary

DESCRIPTION_CHARS = 200


def format_links(path: str) -> list[tuple[Format, str]]:
    """The page's document in each format, under the script root."""
    return [(f, f"{script_root()}{path}.{f.extension}") for f in DOCUMENT_FORMATS]


def canonical(root: str, path: str) -> str:
    """A page's permanent address under `root` (web.urls.permanent_root): never the serving
    host a client named, so every copy of the site names the same one."""
    return root + path.lstrip("/")


def short(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """A meta description: the text cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def script_json(data: object) -> Markup:
    """JSON safe inside <script>: no character of it can end the element or open markup."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script context


def embedded_jsonld(f: Facts, topic: URIRef, site: Site, path: str, label: str,
                    description: str) -> Markup:
    """The resource's own statements as JSON-LD, with the schema.org types its classes are
    subclasses of and schema.org name, description, url and sameAs (what search engines
    read). Prefixes are inline: no context document needs fetching."""
    graph = Graph()
    for p, o in f.graph.predicate_objects(topic):
        if not isinstance(o, Literal) or o.language in (None, "", "en") or p in (
                SKOS.altLabel, SKOS.prefLabel, RDFS.label):
            graph.add((topic, p, o))
    for cls in f.objects(topic, RDF.type):
        for name in site.schema_types.get(str(cls), ()):
            graph.add((topic, RDF.type, SCHEMA[name]))
    if f.is_a(topic, SKOS.Concept):
        graph.add((topic, RDF.type, SCHEMA.DefinedTerm))
    graph.add((topic, SCHEMA.name, Literal(label, lang="en")))
    if description:
        graph.add((topic, SCHEMA.description, Literal(description, lang="en")))
    graph.add((topic, SCHEMA.url, URIRef(canonical(site.root, path))))
    for match in f.objects(topic, SKOS.exactMatch):
        if str(match).startswith(str(WD)):
            graph.add((topic, SCHEMA.sameAs, match))
    _add_blank_closure(f.graph, graph)
    return jsonld_markup(graph)


def _add_blank_closure(source: Graph, graph: Graph) -> None:
    """What the blank nodes `graph` points to say (a qualified attribution, say), from
    `source`: a bare blank node tells a reader nothing."""
    todo = [o for o in graph.objects() if isinstance(o, BNode)]
    seen: set[BNode] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in source.predicate_objects(node):
            graph.add((node, p, o))
            if isinstance(o, BNode):
                todo.append(o)


def jsonld_markup(graph: Graph) -> Markup:
    context = {"@vocab": str(SCHEMA), **{k: v for k, v in PREFIXES.items() if k != "schema"}}
    # The same bytes however often a page is made (pre-built and live answers, static
    # publications, ETags): formats.serialize is deterministic.
    data = json.loads(serialize(graph, JSON_LD, context))
    return script_json(data)


# ---------------------------------------------------------------------------------------------
# Resource pages


def resource_page(kg: Backend, doc: Graph, kind: str, local: str, base: str,
                  site: Site) -> str:
    """The page about one resource: its summary (by kind), then every statement and every
    link that points at it, each under words that read the right way round."""
    topic = URIRef(f"{base}id/{kind}/{local}")
    path = f"/doc/{kind}/{local}"
    f = Facts(kg, doc, base)
    template, context = summary(kind, f, topic)
    title = f.labels(topic)
    description = f.text(topic, RDFS.comment, SKOS.definition, DCTERMS.description,
                         DCTERMS.title)
    meta = short(description) if description else \
        f"{kind_of(kind).one} in the OSCE Moscow Mechanism knowledge graph: {title}."
    references = context.pop("references", None)
    return render_template(
        "resource.html", title=title, iri=str(topic), kind=kind_of(kind),
        types=[f.value(t) for t in f.objects(topic, RDF.type)],
        rows=f.rows(topic, skip=(RDF.type,)), inbound=f.inbound(topic),
        summary_template=f"summary/{template}.html", s=context,
        references=references.items() if references is not None else [],
        formats=format_links(path), path=path,
        description=meta,
        jsonld=embedded_jsonld(f, topic, site, path, title, description))


def void_page(kg: Backend, doc: Graph, stats: documents.Statistics, base: str,
              site: Site) -> str:
    f = Facts(kg, doc, base)
    f.labels.fetch(kg, [c for c, _ in stats.classes] + [p for p, _ in stats.properties])
    dataset = documents.dataset_iri(base)
    path = "/.well-known/void"
    return render_template(
        "void.html", title="Dataset description (VoID and DCAT)", stats=stats,
        rows=f.rows(dataset, skip=(VOID.classPartition, VOID.propertyPartition,
                                    DCAT.distribution)),
        classes=[(f.value(c), n) for c, n in stats.classes],
        properties=[(f.value(p), n) for p, n in stats.properties],
        dumps=[(name, fmt, gz) for name, fmt, gz in documents.DUMP_FORMATS],
        formats=format_links(path), path=path,
        description="What the dataset holds, its release, licences, statistics and dumps.",
        jsonld=jsonld_markup(_dataset_only(doc, dataset)))


def _dataset_only(doc: Graph, dataset: URIRef) -> Graph:
    graph = Graph()
    for p, o in doc.predicate_objects(dataset):
        if p not in (VOID.classPartition, VOID.propertyPartition, DCAT.distribution):
            graph.add((dataset, p, o))
    graph.add((dataset, RDF.type, SCHEMA.Dataset))
    return graph


def ontology_page(html: str, base: str) -> str:
    """pyLODE's documentation in the site's layout (header, search, footer, phone width)."""
    doc = ontology_docs.ontology_page(html)
    try:
        jsonld = script_json(json.loads(doc.jsonld)) if doc.jsonld else None
    except ValueError:
        jsonld = None
    return render_template(
        "ontology.html", title="Ontology", css=Markup(doc.css),  # noqa: S704 - pyLODE's
        body=Markup(doc.body),  # noqa: S704 - pyLODE escapes what it writes from the data
        jsonld=jsonld, formats=format_links("/ontology"), path="/ontology",
        description="Every class and property of the mmkg ontology, with its definition.")


def named_graph_page(kg: Backend, doc: Graph, iri: str, path: str, base: str) -> str:
    """A named graph for people: what it describes, each subject with its label and link."""
    f = Facts(kg, doc, base)
    subjects = sorted({s for s in doc.subjects() if isinstance(s, URIRef)}, key=f.by_label)
    name = iri.rsplit("/", 1)[-1]
    return render_template(
        "named_graph.html", title=f"Named graph {name}", iri=iri, triples=len(doc),
        subjects=[f.value(s) for s in subjects], formats=format_links(path), path=path,
        description=f"The triples of the served file {name}: {len(subjects)} resources.")

