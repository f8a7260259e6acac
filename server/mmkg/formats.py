"""The one format registry and content negotiation; no Flask app state, so any module can use it."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.term import Node
from werkzeug.datastructures import MIMEAccept

from .uris import BASE, PREFIXES

# A triple and the named graph that holds it (None: the default graph).
Quad = tuple[Node, Node, Node, URIRef | None]


@dataclass(frozen=True)
class Format:
    """One representation: media type, file extension, rdflib serializer and W3C format IRI."""

    key: str
    media_type: str
    extension: str
    rdflib_name: str | None  # None: not an RDF syntax (HTML)
    iri: str
    label: str
    # Other media types clients use for the same syntax; answered with `media_type`.
    aliases: tuple[str, ...] = field(default=())
    quads: bool = False  # a dataset syntax: keeps named graphs

    def __hash__(self) -> int:
        # Keys are unique; hashing every field on each negotiation would cost more.
        return hash(self.key)

    @property
    def is_rdf(self) -> bool:
        return self.rdflib_name is not None

    @property
    def content_type(self) -> str:
        # N-Triples, N-Quads and JSON-LD are UTF-8 by definition and their registrations
        # define no charset (pyld compares the whole Content-Type with application/ld+json).
        if self.media_type in ("application/n-triples", "application/n-quads",
                               "application/ld+json"):
            return self.media_type
        return f"{self.media_type}; charset=utf-8"


# https://www.w3.org/ns/formats/ names each syntax.
TURTLE = Format("turtle", "text/turtle", "ttl", "turtle", "http://www.w3.org/ns/formats/Turtle",
                "Turtle", ("application/x-turtle", "application/turtle"))
HTML = Format("html", "text/html", "html", None, "https://www.iana.org/assignments/media-types/text/html",
              "HTML", ("application/xhtml+xml",))
JSON_LD = Format("jsonld", "application/ld+json", "jsonld", "json-ld",
                 "http://www.w3.org/ns/formats/JSON-LD", "JSON-LD", ("application/json",))
RDF_XML = Format("rdfxml", "application/rdf+xml", "rdf", "xml",
                 "http://www.w3.org/ns/formats/RDF_XML", "RDF/XML")
# text/plain is the type N-Triples had before it was registered; rdflib still asks for it.
N_TRIPLES = Format("ntriples", "application/n-triples", "nt", "nt11",
                   "http://www.w3.org/ns/formats/N-Triples", "N-Triples", ("text/plain",))
# The x- types are what Raptor (rapper 2.0) still asks for.
N_QUADS = Format("nquads", "application/n-quads", "nq", "nquads",
                 "http://www.w3.org/ns/formats/N-Quads", "N-Quads", ("text/x-nquads",),
                 quads=True)
TRIG = Format("trig", "application/trig", "trig", "trig",
              "http://www.w3.org/ns/formats/TriG", "TriG", ("application/x-trig",), quads=True)
# Turtle is a subset of N3: N3 clients get the Turtle text under their own type.
N3 = Format("n3", "text/n3", "n3", "turtle", "http://www.w3.org/ns/formats/N3", "N3",
            ("text/rdf+n3",))

# Order is the server's preference when a client weighs several equally (`*/*` → Turtle,
# what curl users expect; Turtle before HTML so `text/*` stays machine-readable).
DOCUMENT_FORMATS: tuple[Format, ...] = (TURTLE, HTML, JSON_LD, RDF_XML, N_TRIPLES, N_QUADS,
                                        TRIG, N3)
RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSON_LD, RDF_XML, N_TRIPLES, N_QUADS, TRIG, N3)
FORMATS_BY_EXTENSION: dict[str, Format] = {f.extension: f for f in DOCUMENT_FORMATS}
FORMATS_BY_KEY: dict[str, Format] = {f.key: f for f in DOCUMENT_FORMATS}

# SPARQL 1.1 query results (SELECT/ASK) in server preference order (`*/*` → JSON); `key` is
# the value of the endpoint's `format` parameter.
SPARQL_JSON = Format("json", "application/sparql-results+json", "srj", None,
                     "http://www.w3.org/ns/formats/SPARQL_Results_JSON", "SPARQL JSON",
                     ("application/json",))
SPARQL_XML = Format("xml", "application/sparql-results+xml", "srx", None,
                    "http://www.w3.org/ns/formats/SPARQL_Results_XML", "SPARQL XML",
                    ("application/xml", "text/xml"))
SPARQL_CSV = Format("csv", "text/csv", "csv", None,
                    "http://www.w3.org/ns/formats/SPARQL_Results_CSV", "CSV")
SPARQL_TSV = Format("tsv", "text/tab-separated-values", "tsv", None,
                    "http://www.w3.org/ns/formats/SPARQL_Results_TSV", "TSV")
RESULTS_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
RESULTS_BY_KEY: dict[str, Format] = {f.key: f for f in RESULTS_FORMATS}

# Accept headers that common clients send, for tests and for the static publication mode.
COMMON_ACCEPT: dict[str, str] = {
    "curl": "*/*",
    "firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "chromium": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "rdflib": "application/rdf+xml, text/n3, text/turtle, application/n-triples, "
              "application/ld+json, application/n-quads, application/trix, application/trig",
    "comunica": "application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,"
                "application/n-triples;q=0.8,text/turtle;q=0.6,application/rdf+xml;q=0.5,"
                "text/n3;q=0.35,application/xml;q=0.3,image/svg+xml;q=0.3,text/xml;q=0.3,"
                "text/html;q=0.2,application/xhtml+xml;q=0.18,application/json;q=0.135,"
                "text/shaclc;q=0.1,text/shaclc-ext;q=0.05",
    "protege": "application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, */*; q=0.5",
}


class MalformedAccept(ValueError):
    """An Accept header that does not follow RFC 9110 (answered with 400)."""


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_RANGE = re.compile(
    rf"\s*({_TOKEN})/({_TOKEN})\s*((?:;\s*{_TOKEN}\s*=\s*(?:{_TOKEN}|\"[^\"\\]*\")\s*)*)")
_PARAM = re.compile(rf";\s*({_TOKEN})\s*=\s*({_TOKEN}|\"[^\"\\]*\")")
_QVALUE = re.compile(r"0(\.\d{0,3})?|1(\.0{0,3})?")
MAX_ACCEPT_LENGTH = 4096


def parse_accept(header: str | None) -> MIMEAccept:
    """The header as Werkzeug's MIMEAccept; media-type parameters other than q are dropped so
    that `text/turtle; charset=utf-8` matches Turtle. Raises MalformedAccept."""
    if header is None or not header.strip():
        return MIMEAccept([("*/*", 1)])
    if len(header) > MAX_ACCEPT_LENGTH:
        raise MalformedAccept("Accept header too long")
    ranges: list[tuple[str, float]] = []
    for part in header.split(","):
        if not part.strip():
            continue  # RFC 9110 allows empty list elements
        match = _RANGE.fullmatch(part)
        if not match:
            raise MalformedAccept(f"not a media range: {part.strip()[:80]!r}")
        kind, sub, params = match.groups()
        if kind == "*" and sub != "*":
            raise MalformedAccept(f"not a media range: {part.strip()[:80]!r}")
        quality = 1.0
        for name, value in _PARAM.findall(params):
            if name.lower() == "q":
                if not _QVALUE.fullmatch(value):
                    raise MalformedAccept(f"bad quality value {value[:20]!r}")
                quality = float(value)
        ranges.append((f"{kind}/{sub}".lower(), quality))
    if not ranges:
        return MIMEAccept([("*/*", 1)])
    return MIMEAccept(ranges)


def negotiate(accept_header: str | None, offered: Sequence[Format]) -> Format | None:
    """The best offered format for an Accept header (Werkzeug weighs q-values and specificity;
    ties go to the order of `offered`), or None when nothing is acceptable. Remembered per
    header and offer: clients send few distinct headers, and weighing one costs more than
    the rest of answering a cached request."""
    return _negotiate(accept_header, tuple(offered))


@functools.lru_cache(maxsize=1024)  # bounded: headers are at most MAX_ACCEPT_LENGTH long
def _negotiate(accept_header: str | None, offered: tuple[Format, ...]) -> Format | None:
    accept = parse_accept(accept_header)
    candidates: list[tuple[str, Format]] = [(f.media_type, f) for f in offered]
    candidates += [(alias, f) for f in offered for alias in f.aliases]
    best = accept.best_match([media for media, _ in candidates])
    if best is None:
        return None
    # An alias is only chosen when the client names it and not the main type.
    return next(f for media, f in candidates if media == best)


def offered_text(offered: Sequence[Format]) -> str:
    """What a 406 names: the media types a resource is offered in."""
    return ", ".join(f.media_type for f in offered)


def serialize(content: Graph | Sequence[Quad], fmt: Format,
              context: dict[str, Any] | None = None, context_url: str | None = None) -> bytes:
    """A graph, or quads, in an RDF format. A quad format keeps the named graphs (a graph's
    triples go to the default graph); a triple format writes the union of the quads' triples.
    JSON-LD is compacted against `context`; with `context_url` the document refers to the
    context by that URL instead of inlining it."""
    # The same content gives the same bytes in every process (RDF leaves the order of triples
    # and the labels of blank nodes free; a server's replicas must not): so that one ETag
    # always means one body, and a download resumed from another replica joins up.
    if fmt.quads:
        quads = content if not isinstance(content, Graph) else \
            [(s, p, o, None) for s, p, o in ordered_graph(content)]
        prefixes = {**PREFIXES, "id": BASE + "id/"} if fmt.key == "trig" else None
        ordered = sorted((_ox_quad(q) for q in quads), key=str)
        return ox.serialize(ordered, format=_OX_QUADS[fmt.key], prefixes=prefixes) or b""
    graph = ordered_graph(content if isinstance(content, Graph) else _union(content))
    if fmt is JSON_LD:
        if context is None:
            text = graph.serialize(format="json-ld")
        else:
            text = graph.serialize(format="json-ld", context=context, auto_compact=True)
        doc = stable_jsonld(json.loads(text))
        if context_url is not None and isinstance(doc, dict):
            doc["@context"] = context_url
        return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt.rdflib_name is None:
        raise ValueError(f"{fmt.label} is not an RDF format")
    if fmt is RDF_XML:  # rdflib writes it in the order of a hashed set; Oxigraph as given
        prefixes = {prefix: str(namespace) for prefix, namespace
                    in sorted(graph.namespaces()) if prefix}
        return ox.serialize([ox.Triple(_ox_term(s), _ox_term(p), _ox_term(o))
                             for s, p, o in in_order(graph)], format=ox.RdfFormat.RDF_XML,
                            prefixes=prefixes) or b""
    written = graph.serialize(format=fmt.rdflib_name)
    data: bytes = written.encode("utf-8") if isinstance(written, str) else written
    if fmt is N_TRIPLES:  # written in the order of a hashed set: sorted, one triple a line
        data = b"".join(sorted(data.splitlines(keepends=True)))
    return data


def ordered_graph(graph: Graph) -> Graph:
    """The graph's triples in a fixed order, blank nodes labelled by the graph's structure
    (rdflib writes in the order triples were added, and names new blank nodes at random)."""
    triples = to_canonical_graph(graph) if any(
        isinstance(t, BNode) for triple in graph for t in triple) else graph
    ordered = Graph(namespace_manager=graph.namespace_manager)
    for triple in in_order(triples):
        ordered.add(triple)
    return ordered


def in_order(triples: Iterable[tuple[Node, Node, Node]]) -> list[tuple[Node, Node, Node]]:
    """Triples in one fixed order (by their N-Triples terms), the same in every process."""
    return sorted(triples, key=lambda t: (t[0].n3(), t[1].n3(), t[2].n3()))


def stable_jsonld(node: Any, ordered: bool = False) -> Any:
    """JSON-LD with its keys and unordered arrays sorted; RDF lists (@list) keep their order."""
    if isinstance(node, dict):
        return {key: stable_jsonld(value, key == "@list") for key, value in sorted(node.items())}
    if isinstance(node, list):
        items = [stable_jsonld(item) for item in node]
        if ordered:
            return items
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return node


_OX_QUADS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}


def _union(quads: Sequence[Quad]) -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    for s, p, o, _ in quads:
        graph.add((s, p, o))
    return graph


def _ox_term(term: Node) -> Any:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def _ox_quad(quad: Quad) -> ox.Quad:
    s, p, o, g = quad
    return ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o),
                   ox.DefaultGraph() if g is None else ox.NamedNode(str(g)))
