"""The knowledge graph the server answers from: load, validate, query. No Flask here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from ..config import Settings
from . import files as shipped_files
from .loader import expand_paths, load_store


class GraphBackend(Protocol):
    """What views may rely on: the embedded KnowledgeGraph and remote.RemoteGraph both give it.
    Only the embedded one has `.store`; code that needs every backend uses these methods."""

    files: tuple[Path, ...]
    version: str
    modified: datetime

    def select(self, sparql: str) -> list[dict[str, Node]]: ...

    def construct(self, sparql: str) -> Graph: ...

    def ask(self, sparql: str) -> bool: ...

    def __len__(self) -> int: ...


@dataclass
class KnowledgeGraph:
    """An embedded Oxigraph store holding every served file, one named graph per file, and
    their union (a set) as the default graph."""

    store: ox.Store
    files: tuple[Path, ...]
    version: str
    modified: datetime

    def query(self, sparql: str, **kwargs: object) -> object:
        """Run a read-only query over the union of all graphs (unless FROM says otherwise)."""
        return self.store.query(sparql, **kwargs)

    def construct(self, sparql: str) -> Graph:
        """A CONSTRUCT/DESCRIBE query's triples as an rdflib Graph (what serializers need)."""
        data = self.query(sparql).serialize(format=ox.RdfFormat.N_TRIPLES)
        return Graph().parse(data=data, format="nt")

    def select(self, sparql: str) -> list[dict[str, Node]]:
        """A SELECT query's rows, each a dict of variable name -> rdflib term (unbound left out)."""
        solutions = self.query(sparql)
        names = [v.value for v in solutions.variables]
        rows = []
        for solution in solutions:
            rows.append({n: to_rdflib(solution[n]) for n in names if solution[n] is not None})
        return rows

    def ask(self, sparql: str) -> bool:
        return bool(self.query(sparql))

    def __len__(self) -> int:
        """Distinct triples served (the default graph, the union of every file)."""
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib(term: object) -> Node:
    """One pyoxigraph term as the equivalent rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:  # a simple literal, as rdflib writes it
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


def served_files(settings: Settings) -> list[Path]:
    """The shipped ontology and data (unless turned off), then every --data path."""
    files = [] if settings.no_default_data else shipped_files.default_data_files()
    return files + expand_paths(settings.data)


def _fingerprint(files: Iterable[Path]) -> tuple[str, datetime]:
    digest = hashlib.sha256()
    newest = 0.0
    for path in files:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return digest.hexdigest()[:16], datetime.fromtimestamp(int(newest), UTC)


def load_graph(files: Iterable[Path]) -> KnowledgeGraph:
    """Parse every file into a fresh store (all or nothing)."""
    files = tuple(files)
    version, modified = _fingerprint(files)
    return KnowledgeGraph(load_store(files), files, version, modified)
