"""What the linked-data views serve without recomputing: the dataset-level documents, made
once at start, and per-resource documents, serialized bodies and dumps, each made on first
use and kept (the data does not change while serving). No Flask here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph

from ..kg.store import Backend
from . import documents
from .context import build_context
from .ontology_docs import ontology_html

DOCUMENT_CACHE_SIZE = 4096
BODY_CACHE_SIZE = 8192


class OntologyPage:
    """pyLODE's page for the ontology, written on first use (it takes seconds; with the
    pre-built responses that is once per data version, never at a warm start)."""

    def __init__(self, ontology: Graph) -> None:
        self.ontology = ontology
        self._made: tuple[str | None, str] | None = None
        self._lock = threading.Lock()

    def made(self) -> tuple[str | None, str]:
        """(the HTML, "") or (None, why there is none)."""
        with self._lock:
            if self._made is None:
                self._made = ontology_html(self.ontology)
            return self._made


@dataclass(frozen=True)
class DatasetDocuments:
    """The documents about the whole dataset, computed once at start (the ontology's page
    on first use)."""

    context: dict[str, Any]
    stats: documents.Statistics
    void: Graph
    ontology: Graph
    ontology_page: OntologyPage

    @property
    def ontology_html(self) -> str | None:
        """None: pyLODE could not document the ontology (`ontology_problem` says why)."""
        return self.ontology_page.made()[0]

    @property
    def ontology_problem(self) -> str:
        return self.ontology_page.made()[1]

    @classmethod
    def build(cls, backend: Backend, base: str, schema: Backend | None = None
              ) -> DatasetDocuments:
        """`schema` answers for the ontology (the local files in remote mode: its blank-node
        closure is a query that some stores' planners refuse, Virtuoso 7's among them)."""
        stats = documents.statistics(backend, base)
        ontology = documents.ontology_graph(schema or backend)
        return cls(context=build_context(backend), stats=stats,
                   void=documents.void_graph(backend, stats, base), ontology=ontology,
                   ontology_page=OntologyPage(ontology))


class _Bounded:
    """A dict that forgets its oldest entries beyond `size`; filled under a lock."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[Hashable, Any] = {}
        self.lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        value = self.items.get(key)
        if value is None:
            value = make()
            with self.lock:
                if len(self.items) >= self.size:
                    self.items.pop(next(iter(self.items)))
                self.items[key] = value
        return value


@dataclass
class Caches:
    """Per-resource documents and serialized bodies (bounded: the oldest go first), and the
    full dumps (built once, under a lock, so concurrent first requests build each once)."""

    documents: _Bounded = field(default_factory=lambda: _Bounded(DOCUMENT_CACHE_SIZE))
    bodies: _Bounded = field(default_factory=lambda: _Bounded(BODY_CACHE_SIZE))
    dumps: dict[str, bytes] = field(default_factory=dict)
    dump_lock: threading.Lock = field(default_factory=threading.Lock)

    def document(self, key: Hashable, make: Callable[[], Graph]) -> Graph:
        graph: Graph = self.documents.get(key, make)
        return graph

    def body(self, key: Hashable, make: Callable[[], bytes | str]) -> bytes:
        """A serialized representation, made once."""
        def encoded() -> bytes:
            made = make()
            return made.encode("utf-8") if isinstance(made, str) else made
        data: bytes = self.bodies.get(key, encoded)
        return data

    def dump(self, name: str, make: Callable[[], bytes]) -> bytes:
        with self.dump_lock:
            if name not in self.dumps:
                self.dumps[name] = make()
            return self.dumps[name]
