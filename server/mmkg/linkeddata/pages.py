"""HTML pages for people: labels not IRIs, formatted dates, links to the serving host's paths.

Every value from the data reaches the page through Jinja2 with autoescaping (templates/).
The landing page and its timeline are in timeline.py, the ontology's page in ontology_docs.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import render_template
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, VOID, XSD
from rdflib.term import Node

from ..formats import DOCUMENT_FORMATS, Format
from ..kg.store import Backend
from ..uris import MM, SCHEMA, WD
from ..web.urls import page_path, script_root
from . import documents

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
STATE_ROLES = (
    (MM.invokedBy, "invoked by it"),
    (MM.invitingState, "inviting State"),
    (MM.subjectState, "subject State (mission on its territory or about it)"),
    (MM.conductState, "State whose conduct is alleged"),
)
# Labels for terms of standard vocabularies that the ontology does not describe.
STANDARD_LABELS: dict[str, str] = {
    str(RDF.type): "type", str(RDFS.label): "label", str(RDFS.comment): "comment",
    str(RDFS.seeAlso): "see also", str(SKOS.prefLabel): "preferred label",
    str(SKOS.altLabel): "other names", str(SKOS.exactMatch): "same as (exact match)",
    str(SKOS.closeMatch): "close match", str(SKOS.definition): "definition",
    str(SKOS.inScheme): "in scheme", str(DCTERMS.title): "title",
    str(DCTERMS.license): "licence", str(DCTERMS.modified): "modified",
    str(DCTERMS.source): "source", str(DCTERMS.publisher): "publisher",
    str(PROV.wasDerivedFrom): "source (derived from)", str(FOAF.primaryTopic): "about",
    str(SCHEMA.url): "web address", str(SCHEMA.name): "name",
}


# ---------------------------------------------------------------------------------------------
# Values


def format_date(value: Node | str) -> str:
    """23 March 2023 for xsd:date, June 1993 for gYearMonth, 1992 for gYear; else as given."""
    text = str(value)
    datatype = value.datatype if isinstance(value, Literal) else None
    if datatype in (XSD.date, XSD.dateTime, None):
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(T.*)?", text)
        if m and 1 <= int(m[2]) <= 12:
            return f"{int(m[3])} {MONTHS[int(m[2]) - 1]} {m[1]}"
    if datatype in (XSD.gYearMonth, None):
        m = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if m and 1 <= int(m[2]) <= 12:
            return f"{MONTHS[int(m[2]) - 1]} {m[1]}"
    return text


def date_position(value: Node) -> float | None:
    """A date as a fractional year, for placing it on the timeline."""
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(value))
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    if not month:
        return year + 0.5
    if not day:
        return year + (month - 0.5) / 12
    return year + (date(year, month, min(day, 28)).timetuple().tm_yday - 1) / 365


class Labels:
    """Label lookup over a document graph, falling back to the served graph for predicates."""

    PREFERRED = (RDFS.label, SKOS.prefLabel, DCTERMS.title, SCHEMA.name)

    def __init__(self, graph: Graph, kg: Backend | None = None,
                 extra: Iterable[Node] = ()) -> None:
        self.graph = graph
        self.cache: dict[Node, str] = {}
        wanted = {p for p in graph.predicates() if isinstance(p, URIRef)}
        wanted |= {o for o in graph.objects(None, RDF.type) if isinstance(o, URIRef)}
        wanted |= {t for t in extra if isinstance(t, URIRef)}
        if kg is not None and wanted:
            self._fetch(kg, wanted)

    def _fetch(self, kg: Backend, iris: set[URIRef]) -> None:
        missing = [i for i in iris if self._from_graph(self.graph, i) is None]
        if not missing:
            return
        values = " ".join(documents.sparql_iri(str(i)) for i in missing)
        rows = kg.construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} "
            f"VALUES ?p {{ {documents.sparql_iris(self.PREFERRED)} }} ?s ?p ?o }}")
        for iri in missing:
            found = self._from_graph(rows, iri)
            if found is not None:
                self.cache[iri] = found

    @classmethod
    def _from_graph(cls, graph: Graph, node: Node) -> str | None:
        """The first preferred property with a value: English, then untagged, then any."""
        for prop in cls.PREFERRED:
            values = sorted(str(o) for o in graph.objects(node, prop) if isinstance(o, Literal))
            if not values:
                continue
            by_lang = {o.language or "": str(o) for o in graph.objects(node, prop)
                       if isinstance(o, Literal)}
            return by_lang.get("en") or by_lang.get("") or values[0]
        return None

    def __call__(self, node: Node) -> str:
        if node in self.cache:
            return self.cache[node]
        found = self._from_graph(self.graph, node)
        if found is None:
            text = str(node)
            found = STANDARD_LABELS.get(text) or _local_name(text)
        self.cache[node] = found
        return found


def _local_name(iri: str) -> str:
    tail = re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri
    # camelCase → words
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", tail).lower() if tail[:1].islower() else tail


@dataclass
class Value:
    """One value as a page shows it: text, an optional link, and a note (language, type)."""

    text: str
    href: str | None = None
    note: str = ""
    external: bool = False
    nested: list[Row] = field(default_factory=list)


@dataclass
class Row:
    label: str
    href: str | None
    values: list[Value]


def make_value(node: Node, graph: Graph, labels: Labels, base: str, depth: int = 0) -> Value:
    if isinstance(node, Literal):
        if node.datatype in (XSD.date, XSD.gYear, XSD.gYearMonth, XSD.dateTime):
            return Value(format_date(node))
        note = node.language or ""
        return Value(str(node), note=note)
    if isinstance(node, BNode):
        nested = rows_for(node, graph, labels, base, depth + 1) if depth < 4 else []
        return Value("", nested=nested)
    iri = str(node)
    href = page_path(iri, base)
    if href is None:
        text = labels(node) if (node, None, None) in graph else iri
        if iri.startswith(str(WD)):
            text = f"Wikidata {iri[len(str(WD)):]}"
        return Value(text, iri, external=True)
    return Value(labels(node), href)


def rows_for(subject: Node, graph: Graph, labels: Labels, base: str,
             depth: int = 0, skip: Iterable[Node] = ()) -> list[Row]:
    """The subject's properties and values, grouped by property and sorted by label."""
    grouped: dict[Node, list[Node]] = defaultdict(list)
    for p, o in graph.predicate_objects(subject):
        if p not in skip:
            grouped[p].append(o)
    rows = []
    for p, objects in grouped.items():
        values = sorted((make_value(o, graph, labels, base, depth) for o in objects),
                        key=lambda v: (v.text.lower(), v.note))
        rows.append(Row(labels(p), page_path(str(p), base) or str(p), values))
    return sorted(rows, key=lambda r: (r.label != "type", r.label.lower()))


def inbound_rows(topic: URIRef, graph: Graph, labels: Labels, base: str) -> list[Row]:
    grouped: dict[Node, list[Node]] = defaultdict(list)
    for s, p in graph.subject_predicates(topic):
        if isinstance(s, URIRef) and p != FOAF.primaryTopic:
            grouped[p].append(s)
    return sorted(
        (Row(labels(p), page_path(str(p), base) or str(p),
             sorted((make_value(s, graph, labels, base) for s in subjects),
                    key=lambda v: v.text.lower()))
         for p, subjects in grouped.items()),
        key=lambda r: r.label.lower())


def format_links(path: str) -> list[tuple[Format, str]]:
    """The page's document in each format, under the script root."""
    return [(f, f"{script_root()}{path}.{f.extension}") for f in DOCUMENT_FORMATS]


# ---------------------------------------------------------------------------------------------
# Pages


def resource_page(kg: Backend, doc: Graph, kind: str, local: str, base: str) -> str:
    """The page about one resource: a special layout for States and invocations, else a
    generic table of properties with labels."""
    topic = URIRef(f"{base}id/{kind}/{local}")
    labels = Labels(doc, kg)
    context: dict[str, Any] = {
        "title": labels(topic), "iri": str(topic), "kind": kind,
        "types": [make_value(t, doc, labels, base) for t in doc.objects(topic, RDF.type)],
        "rows": rows_for(topic, doc, labels, base, skip=(RDF.type,)),
        "inbound": inbound_rows(topic, doc, labels, base),
        "formats": format_links(f"/doc/{kind}/{local}"),
        "path": f"/doc/{kind}/{local}",
    }
    if kind == "state":
        context["state"] = state_view(doc, topic, labels, base)
    if kind == "invocation":
        context["invocation"] = invocation_view(kg, doc, topic, base)
    return render_template("resource.html", **context)


@dataclass
class Dated:
    value: Value
    when: str
    sort: float
    role: str = ""


def state_view(doc: Graph, topic: URIRef, labels: Labels, base: str) -> dict[str, Any]:
    """Wikidata items and the invocations the State joined or was concerned by."""
    wikidata = [Value(f"Wikidata {str(o)[len(str(WD)):]}", str(o), external=True)
                for p in (SKOS.exactMatch, SKOS.closeMatch) for o in doc.objects(topic, p)
                if str(o).startswith(str(WD))]
    joined: list[Dated] = []
    concerned: list[Dated] = []
    for prop, role in STATE_ROLES:
        for s in doc.subjects(prop, topic):
            if (s, RDF.type, MM.Invocation) not in doc:
                continue
            when = next(iter(doc.objects(s, MM.date)), None)
            item = Dated(make_value(s, doc, labels, base),
                         format_date(when) if when is not None else "date unknown",
                         date_position(when) or 0.0 if when is not None else 0.0, role)
            (joined if prop == MM.invokedBy else concerned).append(item)
    # mm:invitingState is a sub-property of mm:subjectState: say both roles on one line.
    merged: dict[str, Dated] = {}
    for item in concerned:
        key = item.value.href or item.value.text
        if key in merged:
            merged[key].role += "; " + item.role
        else:
            merged[key] = item
    return {"wikidata": wikidata,
            "joined": sorted(joined, key=lambda d: d.sort),
            "concerned": sorted(merged.values(), key=lambda d: d.sort)}


def select(kg: Backend, query: str) -> list[dict[str, Node]]:
    prefixes = f"PREFIX mm: <{MM}> PREFIX prov: <{PROV}> PREFIX rdfs: <{RDFS}> "
    return kg.select(prefixes + query)


def invocation_view(kg: Backend, doc: Graph, topic: URIRef, base: str) -> dict[str, Any]:
    """What an invocation's page shows beyond its own triples: the mission's experts and
    report, the alleged violations by category with their sources, and the claims."""
    inv = documents.sparql_iri(str(topic))
    mission_rows = select(kg, f"""SELECT ?mission ?expert ?report WHERE {{
        {inv} mm:mission ?mission .
        OPTIONAL {{ ?mission mm:expert ?expert }} OPTIONAL {{ ?mission mm:report ?report }} }}""")
    report_rows = select(kg, f"SELECT ?report WHERE {{ ?report mm:answersInvocation {inv} }}")
    allegations = select(kg, f"""SELECT ?a ?category ?source WHERE {{
        ?a mm:relatedInvocation {inv} .
        OPTIONAL {{ ?a mm:category ?category }}
        OPTIONAL {{ {{ ?a mm:allegedIn ?source }} UNION {{ ?a prov:wasDerivedFrom ?source }} }}
        }}""")
    claims = select(kg, f"""SELECT ?c ?comment ?count ?source WHERE {{
        ?c mm:claimAbout {inv} .
        OPTIONAL {{ ?c rdfs:comment ?comment }} OPTIONAL {{ ?c mm:statedCount ?count }}
        OPTIONAL {{ ?c prov:wasDerivedFrom ?source }} }}""")
    nodes: set[Node] = set()
    for rows in (mission_rows, report_rows, allegations, claims):
        for row in rows:
            nodes.update(v for v in row.values() if isinstance(v, URIRef))
    labels = Labels(doc, kg, extra=nodes)

    def value(node: Node) -> Value:
        return make_value(node, doc, labels, base)

    experts = sorted({r["expert"] for r in mission_rows if "expert" in r}, key=labels)
    reports = {r["report"] for r in mission_rows if "report" in r}
    reports |= {r["report"] for r in report_rows}
    by_category: dict[Node | None, dict[Node, set[Node]]] = defaultdict(lambda: defaultdict(set))
    for r in allegations:
        sources = by_category[r.get("category")][r["a"]]
        if "source" in r:
            sources.add(r["source"])
    categories = []
    for cat, items in sorted(by_category.items(),
                             key=lambda kv: labels(kv[0]).lower() if kv[0] else "~"):
        categories.append({
            "category": value(cat) if cat is not None else Value("Uncategorised"),
            "allegations": [{"allegation": value(a),
                             "sources": sorted((value(s) for s in srcs), key=lambda v: v.text)}
                            for a, srcs in sorted(items.items(), key=lambda kv: labels(kv[0]))],
        })
    claim_map: dict[Node, dict[str, Any]] = {}
    for r in claims:
        entry = claim_map.setdefault(r["c"], {"claim": value(r["c"]), "comment": "",
                                              "count": "", "sources": {}})
        if "comment" in r:
            entry["comment"] = str(r["comment"])
        if "count" in r:
            entry["count"] = str(r["count"])
        if "source" in r:
            entry["sources"][r["source"]] = value(r["source"])
    claim_list = [dict(c, sources=sorted(c["sources"].values(), key=lambda v: v.text))
                  for c in claim_map.values()]
    roles = {label: [value(o) for o in doc.objects(topic, prop)]
             for prop, label in ((MM.invokedBy, "Invoked by"),
                                 (MM.invitingState, "Inviting State"),
                                 (MM.subjectState, "Subject State"),
                                 (MM.conductState, "State whose conduct is alleged"))}
    return {
        "date": next((format_date(d) for d in doc.objects(topic, MM.date)), ""),
        "invokers": sorted(roles["Invoked by"], key=lambda v: v.text),
        "roles": {k: v for k, v in roles.items() if k != "Invoked by" and v},
        "experts": [value(e) for e in experts],
        "reports": sorted((value(r) for r in reports), key=lambda v: v.text),
        "categories": categories,
        "claims": sorted(claim_list, key=lambda c: c["claim"].text),
    }


def void_page(kg: Backend, doc: Graph, stats: documents.Statistics, base: str) -> str:
    labels = Labels(doc, kg, extra=[c for c, _ in stats.classes])
    dataset = documents.dataset_iri(base)
    return render_template(
        "void.html", title="Dataset description (VoID and DCAT)", stats=stats,
        rows=rows_for(dataset, doc, labels, base,
                      skip=(VOID.classPartition, VOID.propertyPartition,
                            DCAT.distribution)),
        classes=[(make_value(c, doc, labels, base), n) for c, n in stats.classes],
        properties=[(make_value(p, doc, labels, base), n) for p, n in stats.properties],
        dumps=[(name, fmt, gz) for name, fmt, gz in documents.DUMP_FORMATS],
        formats=format_links("/.well-known/void"), path="/.well-known/void")


def named_graph_page(kg: Backend, doc: Graph, iri: str, path: str, base: str) -> str:
    """A named graph for people: what it describes, each subject with its label and link."""
    labels = Labels(doc, kg)
    subjects = sorted({s for s in doc.subjects() if isinstance(s, URIRef)}, key=str)
    return render_template(
        "named_graph.html", title=f"Named graph {iri}", iri=iri, triples=len(doc),
        subjects=[make_value(s, doc, labels, base) for s in subjects],
        formats=format_links(path), path=path)
