"""What a page reads and how it shows a value: the resource's document plus the triples of the
resources its summary needs (gathered in one query each), labels for everything, dates for
people, and sources as numbered references. No Flask here."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from ..formats import ordered_graph
from ..kg.store import Backend
from ..uris import MM, SCHEMA
from ..web.urls import page_path
from . import documents
from .labels import Labels, english_texts, inverse_label, short_address

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
DATES = (XSD.date, XSD.gYear, XSD.gYearMonth, XSD.dateTime)
# Properties a gathered resource brings along for the resources it links to.
LINKED = (RDF.type, RDFS.label, SKOS.prefLabel, DCTERMS.title, MM.date)


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


def date_position(value: Node | str) -> float | None:
    """A date as a fractional year, for ordering and for placing it on the timeline."""
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(value))
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    if not month:
        return year + 0.5
    if not day:
        return year + (month - 0.5) / 12
    return year + (date(year, month, min(day, 28)).timetuple().tm_yday - 1) / 365


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


@dataclass
class Reference:
    """A source as a numbered reference: what it is, who published it, when, where to read it."""

    number: int
    source: Value
    publisher: str = ""
    when: str = ""
    url: str = ""
    note: str = ""

    @property
    def host(self) -> str:
        """The site an address is on ("odihr.osce.org"), the words of its link."""
        return urlsplit(self.url).hostname or self.url


class Facts:
    """The graph one page reads, its labels, and how its values are shown."""

    def __init__(self, kg: Backend, doc: Graph, base: str) -> None:
        self.kg, self.base = kg, base
        # In a fixed order: an rdflib graph gives back triples in the order they were added,
        # and `doc`'s own order changes from process to process (a page must not).
        self.graph = ordered_graph(doc)
        self.labels = Labels(self.graph, kg)
        self.gathered: set[Node] = set()

    def gather(self, resources: Iterable[Node]) -> None:
        """Add the triples of `resources` (and the labels, types and dates of what they link
        to) in one query; then look up labels the graph still lacks."""
        wanted = sorted({r for r in resources if isinstance(r, URIRef)} - self.gathered)
        if not wanted:
            return
        self.gathered.update(wanted)
        values = " ".join(documents.sparql_iri(str(r)) for r in wanted)
        linked = ", ".join(documents.sparql_iri(str(p)) for p in LINKED)
        more = self.kg.construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ VALUES ?s {{ {values} }} ?s ?p ?o }} UNION "
            f"{{ VALUES ?r {{ {values} }} ?r ?q ?s . FILTER(isIRI(?s)) ?s ?p ?o . "
            f"FILTER(?p IN ({linked})) }} }}")
        for triple in more:
            self.graph.add(triple)
        self.labels.fetch(self.kg, {o for o in more.objects() if isinstance(o, URIRef)}
                          | {p for p in more.predicates() if isinstance(p, URIRef)})

    def referrers(self, prop: URIRef, resources: Iterable[Node]) -> None:
        """Add the links by `prop` that point at `resources` (what set up a mission, say)."""
        wanted = sorted({r for r in resources if isinstance(r, URIRef)})
        if not wanted:
            return
        values = " ".join(documents.sparql_iri(str(r)) for r in wanted)
        p = documents.sparql_iri(str(prop))
        for triple in self.kg.construct(f"CONSTRUCT {{ ?s {p} ?o }} WHERE {{ "
                                        f"VALUES ?o {{ {values} }} ?s {p} ?o }}"):
            self.graph.add(triple)

    # --- reading -----------------------------------------------------------------------------

    def objects(self, subject: Node, prop: URIRef) -> list[Node]:
        return sorted(self.graph.objects(subject, prop), key=self._order)

    def subjects(self, prop: URIRef, obj: Node) -> list[Node]:
        return sorted(self.graph.subjects(prop, obj), key=self._order)

    def one(self, subject: Node, prop: URIRef) -> Node | None:
        found = self.objects(subject, prop)
        return found[0] if found else None

    def text(self, subject: Node, *props: URIRef, every: bool = False) -> str:
        """The English (or untagged) text of the first property that has one: the first in
        alphabetical order, or with `every` all of them joined."""
        for prop in props:
            values = english_texts(self.graph.objects(subject, prop))
            if values:
                return ", ".join(values) if every else values[0]
        return ""

    def when(self, subject: Node, *props: URIRef) -> str:
        """The first date among `props`, for people ("" when none)."""
        for prop in props or (MM.date,):
            found = self.one(subject, prop)
            if found is not None:
                return format_date(found)
        return ""

    def sort_key(self, subject: Node) -> tuple[float, str, str]:
        """Chronological (by mm:date), then by label, then by IRI (one order everywhere)."""
        when = self.one(subject, MM.date)
        position = date_position(when) if when is not None else None
        return (position if position is not None else 9999.0, self.labels(subject).lower(),
                str(subject))

    def by_label(self, subject: Node) -> tuple[str, str]:
        """By label, then by IRI: resources that share a label keep one order."""
        return (self.labels(subject).lower(), str(subject))

    def is_a(self, subject: Node, cls: URIRef) -> bool:
        return (subject, RDF.type, cls) in self.graph

    def _order(self, node: Node) -> tuple[str, str]:
        return (self.labels(node).lower(), str(node)) if isinstance(node, URIRef) else \
            ("", node.n3())

    # --- showing -----------------------------------------------------------------------------

    def value(self, node: Node, depth: int = 0) -> Value:
        if isinstance(node, Literal):
            if node.datatype in DATES:
                return Value(format_date(node))
            if node.datatype == XSD.boolean:
                return Value("yes" if node.toPython() is True else "no")
            return Value(str(node), note=node.language or "")
        if isinstance(node, BNode):
            nested = self.rows(node, depth + 1) if depth < 4 else []
            return Value("", nested=nested)
        iri = str(node)
        href = page_path(iri, self.base)
        if href is None:
            if self.labels.known(node):
                return Value(self.labels(node), iri, external=True)
            return Value(short_address(iri), iri, external=True)
        return Value(self.labels(node), href)

    def values(self, nodes: Iterable[Node]) -> list[Value]:
        return [self.value(n) for n in nodes]

    def rows(self, subject: Node, depth: int = 0, skip: Iterable[Node] = ()) -> list[Row]:
        """The subject's properties and values, grouped by property and sorted by label."""
        grouped: dict[Node, list[Node]] = defaultdict(list)
        skipped = set(skip)
        for p, o in self.graph.predicate_objects(subject):
            if p not in skipped:
                grouped[p].append(o)
        rows = []
        for p, objects in grouped.items():
            values = sorted((self.value(o, depth) for o in objects),
                            key=lambda v: (v.text.lower(), v.note, v.href or ""))
            rows.append(Row(self.labels(p), page_path(str(p), self.base) or str(p), values))
        return sorted(rows, key=lambda r: (r.label != "type", r.label.lower(), r.href or ""))

    def inbound(self, topic: URIRef, skip: Iterable[Node] = ()) -> list[Row]:
        """Links that point at `topic`, each group named the right way round ("expert on")."""
        grouped: dict[Node, list[Node]] = defaultdict(list)
        skipped = {FOAF.primaryTopic, *skip}
        for s, p in self.graph.subject_predicates(topic):
            if isinstance(s, URIRef) and p not in skipped and s != topic:
                grouped[p].append(s)
        rows = [Row(inverse_label(p, self.labels(p)), page_path(str(p), self.base) or str(p),
                    sorted((self.value(s) for s in set(subjects)),
                           key=lambda v: (v.text.lower(), v.href or "")))
                for p, subjects in grouped.items()]
        return sorted(rows, key=lambda r: (r.label.lower(), r.href or ""))


class References:
    """Sources cited on one page, numbered in order of first citation (as Wikipedia does)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.numbers: dict[Node, int] = {}

    def cite(self, sources: Iterable[Node]) -> list[int]:
        numbers = []
        # New sources in a fixed order (their IRIs), not a set's, which changes from process
        # to process: the same page has the same numbers wherever it is made.
        for source in sorted({s for s in sources if isinstance(s, URIRef)},
                             key=lambda s: (self.numbers.get(s, 10**6), str(s))):
            if source not in self.numbers:
                self.numbers[source] = len(self.numbers) + 1
            numbers.append(self.numbers[source])
        return sorted(numbers)

    def sources_of(self, *subjects: Node) -> list[int]:
        """Cite what `subjects` are derived from (and, for allegations, the source document
        they are alleged in when it is a source rather than a report)."""
        found: list[Node] = []
        for subject in subjects:
            found += self.facts.objects(subject, PROV.wasDerivedFrom)
            found += [d for d in self.facts.objects(subject, MM.allegedIn)
                      if self.facts.is_a(d, MM.Source)]
        return self.cite(found)

    def items(self) -> list[Reference]:
        """Every cited source, with its publisher, date and address (gathered first)."""
        f = self.facts
        f.gather(self.numbers)
        out = []
        for source, number in sorted(self.numbers.items(), key=lambda kv: kv[1]):
            url = f.one(source, SCHEMA.url)
            publisher = f.text(source, DCTERMS.publisher, every=True) or ", ".join(
                f.labels(p) for p in f.objects(source, DCTERMS.publisher)
                if isinstance(p, URIRef))
            mirror = [f.labels(m) for m in f.objects(source, MM.mirrorOf)]
            out.append(Reference(number, f.value(source), publisher,
                                 f.when(source, MM.date, DCTERMS.date, DCTERMS.issued),
                                 str(url) if url is not None else "",
                                 f"copy of {', '.join(mirror)}" if mirror else ""))
        return out



