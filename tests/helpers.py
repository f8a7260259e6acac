"""Helpers every test module shares: where the test data is, one HTML parser for our pages,
and graph comparisons that show only the differing triples. Imported by name (`import
helpers`): pyproject's pytest `pythonpath` puts tests/ on the path."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph
from rdflib.compare import graph_diff, to_isomorphic

from mmkg.config import Settings
from mmkg.formats import JSON_LD, N3, N_QUADS, N_TRIPLES, RDF_XML, TRIG, TURTLE, Format
from mmkg.kg import files
from mmkg.uris import BASE

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
REPOSITORY = TESTS.parent
LD_FIXTURE = DATA / "ld" / "fixture.ttl"
SCRIPT_LABEL = DATA / "ld" / "extra" / "script-label.ttl"  # a label that is markup
TRIG_FIXTURE = DATA / "sparql" / "named-graphs.trig"


def ld_fixture_settings(*extra: Path) -> Settings:
    """The shipped ontology and vocabularies plus tests/data/ld/fixture.ttl (and `extra`)."""
    return Settings(no_default_data=True, data=(files.ontology_dir(), LD_FIXTURE, *extra))


# --- HTML ------------------------------------------------------------------------------------

class Page(HTMLParser):
    """What the tests read from one of our pages: the first h1, every link (href, by its
    text, and as (href, text) pairs), `<link rel=alternate>`s and the canonical one, meta
    elements by name, scripts, element ids, visible text, the textarea and the
    fields of each form as a browser without JavaScript would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.h1 = ""
        self.links: list[str] = []
        self.link_texts: dict[str, str] = {}  # link text -> href
        self.anchors: list[tuple[str, str]] = []  # (href, whole visible text) of every link
        self._anchor_text: list[str] | None = None
        self.alternates: list[tuple[str | None, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.canonical = ""
        self.meta: dict[str, str] = {}
        self.script_text: list[str] = []
        self.text: list[str] = []
        self.ids: set[str] = set()
        self.textarea = ""
        self.forms: dict[str, tuple[str | None, dict[str, str]]] = {}  # id -> (action, fields)
        self._in_h1 = self._in_script = self._in_textarea = False
        self._href: str | None = None
        self._form: str | None = None
        self._field: str | None = None

    @classmethod
    def parse(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def jsonld(self) -> list[Any]:
        """The JSON of every `<script type="application/ld+json">`."""
        return [json.loads(text) for text, attributes in zip(self.script_text, self.scripts,
                                                              strict=True)
                if attributes.get("type") == "application/ld+json"]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "h1" and not self.h1:
            self._in_h1 = True
        elif tag == "a":
            self._href = attributes.get("href")
            if self._href:
                self.links.append(self._href)
                self._anchor_text = []
        elif tag == "link" and attributes.get("rel") == "alternate":
            self.alternates.append((attributes.get("type"), attributes.get("href")))
        elif tag == "script":
            self.scripts.append(attributes)
            self.script_text.append("")  # one entry per script, aligned with `scripts`
            self._in_script = True
        elif tag == "link" and attributes.get("rel") == "canonical":
            self.canonical = attributes.get("href") or ""
        elif tag == "meta" and attributes.get("name"):
            self.meta[str(attributes["name"])] = attributes.get("content") or ""
        elif tag == "form":
            self._form = attributes.get("id") or f"form-{len(self.forms)}"
            self.forms[self._form] = (attributes.get("action"), {})
        if tag in ("textarea", "select") and self._form and attributes.get("name"):
            self._field = str(attributes["name"])
            self.forms[self._form][1].setdefault(self._field, "")
        if tag == "textarea":
            self._in_textarea = True
        if tag == "option" and self._form and self._field and "selected" in attributes:
            self.forms[self._form][1][self._field] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False
        elif tag == "a":
            if self._href and self._anchor_text is not None:
                self.anchors.append((self._href, " ".join("".join(self._anchor_text).split())))
            self._href = None
            self._anchor_text = None
        elif tag == "script":
            self._in_script = False
        elif tag == "form":
            self._form = None
        if tag in ("textarea", "select"):
            self._field = None
        if tag == "textarea":
            self._in_textarea = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1 += data
        if self._in_textarea:
            self.textarea += data
            if self._form and self._field:
                self.forms[self._form][1][self._field] += data
        if self._href is not None:
            self.link_texts[data] = self._href
            if self._anchor_text is not None:
                self._anchor_text.append(data)
        if self._in_script:
            self.script_text[-1] += data
        else:
            self.text.append(data)


# --- graphs ----------------------------------------------------------------------------------

def assert_isomorphic(expected: Graph, actual: Graph, what: str) -> None:
    """Graph equality up to blank-node names; on failure show only the differing triples."""
    iso_expected, iso_actual = to_isomorphic(expected), to_isomorphic(actual)
    if iso_expected == iso_actual:
        return
    _, only_expected, only_actual = graph_diff(iso_expected, iso_actual)

    def dump(g: Graph) -> str:
        return "\n".join(sorted(f"  {s.n3()} {p.n3()} {o.n3()}" for s, p, o in g)[:30])

    pytest.fail(f"{what}: graphs differ\nonly in expected:\n{dump(only_expected)}\n"
                f"only in actual:\n{dump(only_actual)}")


def assert_same_triple_sets(expected: set[str], actual: set[str], what: str) -> None:
    if actual != expected:
        pytest.fail(f"{what}: triples differ\nonly in expected:\n  "
                    + "\n  ".join(sorted(expected - actual)[:30]) + "\nonly in actual:\n  "
                    + "\n  ".join(sorted(actual - expected)[:30]))


def triples_of(graph: Graph) -> set[str]:
    """A blank-node-free graph's triples, as Oxigraph writes them (comparable as strings)."""
    data = graph.serialize(format="nt").encode()
    return {str(q.triple) for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}


def has_blank_nodes(graph: Graph) -> bool:
    return any(isinstance(t, BNode) for triple in graph for t in triple)


OXIGRAPH_FORMATS: dict[Format, ox.RdfFormat] = {
    TURTLE: ox.RdfFormat.TURTLE, JSON_LD: ox.RdfFormat.JSON_LD,
    RDF_XML: ox.RdfFormat.RDF_XML, N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    N_QUADS: ox.RdfFormat.N_QUADS, TRIG: ox.RdfFormat.TRIG, N3: ox.RdfFormat.N3}


def quads_of(data: bytes, fmt: Format) -> list[ox.Quad]:
    """Every quad of a body, parsed by Oxigraph (triple formats give default-graph quads)."""
    return list(ox.parse(data, format=OXIGRAPH_FORMATS[fmt]))


def union_graph(data: bytes, fmt: Format) -> Graph:
    """The triples of a body in any RDF format, named graphs merged, as an rdflib Graph
    (blank nodes kept apart per body, as rdflib's isomorphism needs)."""
    triples = [q.triple for q in quads_of(data, fmt)]
    return Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"",
                         format="nt")


def our_resources(kg: Any) -> list[tuple[str, str]]:
    """(kind, local) of every <base>id/… IRI in the graph, as subject or object."""
    rows = kg.select(
        "SELECT DISTINCT ?r WHERE { { ?r ?p ?o } UNION { ?s ?p ?r } "
        f'FILTER(isIRI(?r) && STRSTARTS(STR(?r), "{BASE}id/")) }}')
    found = []
    for row in rows:
        kind, _, local = str(row["r"])[len(BASE) + 3:].partition("/")
        found.append((kind, local))
    return sorted(found)


def json_body(response: Any) -> Any:
    return json.loads(response.get_data(as_text=True))


# --- documents over HTTP ---------------------------------------------------------------------

def parse_response(client: Any, response: Any, fmt: Format) -> Graph:
    """The response body as a graph; JSON-LD is expanded with the context the server
    publishes at the URL the document names."""
    assert response.status_code == 200, response.text[:300]
    assert response.mimetype == fmt.media_type
    if fmt is JSON_LD:
        doc = json.loads(response.data)
        url = doc["@context"]
        assert isinstance(url, str) and url.endswith("/context.jsonld")
        published = client.get(url.replace("http://localhost", ""))
        assert published.status_code == 200
        doc["@context"] = published.get_json()["@context"]
        return Graph().parse(data=json.dumps(doc), format="json-ld")
    return union_graph(response.data, fmt)


_CONTEXTS: dict[int, Any] = {}


def published_context(client: Any) -> Any:
    """The app's JSON-LD context (fetched once per app)."""
    key = id(client.application)
    if key not in _CONTEXTS:
        _CONTEXTS[key] = client.get("/context.jsonld").get_json()["@context"]
    return _CONTEXTS[key]


def assert_same_triples(client: Any, expected: Graph, response: Any, fmt: Format,
                        what: str) -> None:
    """The response holds exactly the expected triples. Parsed by Oxigraph (an independent
    parser, and fast enough for every resource); rdflib's isomorphism where blank nodes are."""
    if has_blank_nodes(expected):
        assert_isomorphic(expected, parse_response(client, response, fmt), what)
        return
    assert response.status_code == 200, (what, response.status_code)
    assert response.mimetype == fmt.media_type, what
    data = response.data
    if fmt is JSON_LD:
        doc = json.loads(data)
        doc["@context"] = published_context(client)
        data = json.dumps(doc).encode()
    actual = {str(q.triple) for q in ox.parse(data, format=OXIGRAPH_FORMATS[fmt])}
    assert_same_triple_sets(triples_of(expected), actual, what)
