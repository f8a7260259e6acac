"""The ontology's documentation page, written by pyLODE, with each term's anchor being its
local name so that <ontology#X> lands on the documentation of X, and taken apart to sit in
the site's layout. No Flask here."""

from __future__ import annotations

import importlib.metadata
import logging
import re
import sys
import types
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from ..formats import in_order
from ..uris import MM, ONTOLOGY_IRI


def _import_pylode() -> Any:
    """pyLODE 3.4 reads its version from a pyproject.toml that its wheel does not ship; give
    it the installed version instead so the import works from an installed package."""
    if "pylode.version" not in sys.modules:
        module = types.ModuleType("pylode.version")
        module.__version__ = importlib.metadata.version("pylode")  # type: ignore[attr-defined]
        sys.modules["pylode.version"] = module
    # pyLODE configures the root logger when imported (DEBUG, to stderr); keep the server's.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    from pylode import OntPub

    root.setLevel(level)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    return OntPub


def ontology_html(ontology: Graph) -> tuple[str | None, str]:
    """(pyLODE's HTML page, "") or (None, why there is none): the page is then the base
    layout's fallback (linkeddata/views.py)."""
    if (URIRef(ONTOLOGY_IRI), RDF.type, None) not in ontology:
        return None, "No ontology is loaded."
    ontpub = _import_pylode()
    graph = Graph()
    # Added in a fixed order: pyLODE lists terms in the order the graph gives them, and an
    # rdflib graph gives them in the order they were added (the same page in every process).
    for triple in in_order(ontology):
        if _declares_external_term(triple):
            continue  # documented by its own vocabulary: no entry of its own on this page
        graph.add(triple)
    try:
        doc = ontpub(graph)
        for term in set(graph.subjects()):
            if isinstance(term, URIRef) and str(term).startswith(str(MM)):
                doc.fids[str(term)] = str(term)[len(str(MM)):]
        return str(doc.make_html()), ""
    except Exception as err:  # noqa: BLE001 - documentation must not stop the server
        return None, f"The ontology documentation could not be generated: {err}"


_OWL = "http://www.w3.org/2002/07/owl#"
_DECLARATIONS = {URIRef(_OWL + kind) for kind in (
    "Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty")}


def _declares_external_term(triple: tuple[Node, Node, Node]) -> bool:
    """The ontology declares the classes and properties it uses from other vocabularies
    (skos:Concept, prov:Entity, dcterms:title, ...) for OWL tools; this page documents ours."""
    subject, predicate, obj = triple
    return (predicate == RDF.type and obj in _DECLARATIONS and isinstance(subject, URIRef)
            and not str(subject).startswith(str(MM)))


@dataclass(frozen=True)
class OntologyPage:
    """pyLODE's page taken apart to sit inside the site's layout: its styles scoped to the
    documentation, its body, and its schema.org description."""

    css: str
    body: str
    jsonld: str


_BLOCK = re.compile(r"([^{}]+)\{([^{}]*)\}")
# pyLODE's table of contents is fixed to the right of the window; in our layout it flows
# with the page, and its content takes the whole width (phones included).
_LAYOUT = (".ontology-doc #toc { position: static; width: auto; height: auto; "
           "border: 1px solid #dde1ea; margin: 1rem 0; }\n"
           ".ontology-doc #content { width: auto; }\n"
           ".ontology-doc table { table-layout: auto; }\n")


def _scoped(css: str, scope: str) -> str:
    """Every rule of `css` applied only inside `scope`; rules for body are dropped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules = []
    for selectors, body in _BLOCK.findall(css):
        names = [s.strip() for s in selectors.split(",") if s.strip()]
        names = [n for n in names if n not in ("body", "html")]
        if names:
            rules.append(", ".join(f"{scope} {n}" for n in names) + " {" + body + "}")
    return "\n".join(rules) + "\n" + _LAYOUT


def ontology_page(html: str) -> OntologyPage:
    """Split pyLODE's document into what the layout template places."""
    styles = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL))
    body = re.search(r"<body[^>]*>(.*)</body>", html, re.DOTALL)
    markup = re.search(r'<script[^>]*type="application/ld\+json"[^>]*>(.*?)</script>', html,
                       re.DOTALL)
    return OntologyPage(_scoped(styles, ".ontology-doc"), body.group(1) if body else html,
                        markup.group(1).strip() if markup else "")
