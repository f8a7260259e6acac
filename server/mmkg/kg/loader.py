"""Parse RDF files into one pyoxigraph store: all or nothing, errors named by file and line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..uris import GRAPH

# File extension -> pyoxigraph format. Quad formats keep their own named graphs.
FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}


@dataclass
class LoadError(Exception):
    """A file that could not be read or parsed; nothing of the load was kept."""

    path: Path
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, folders as their RDF files (sorted, recursively)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in FORMATS))
        elif path.exists():
            if path.suffix not in FORMATS:
                raise LoadError(path, f"unknown RDF file type {path.suffix!r}; "
                                      f"expected one of {', '.join(sorted(FORMATS))}")
            files.append(path)
        else:
            raise LoadError(path, "no such file or folder")
    return files


def graph_name(path: Path) -> ox.NamedNode:
    """The named graph that holds a file's default-graph triples."""
    return ox.NamedNode(f"{GRAPH}{path.stem}")


def parse_file(path: Path) -> list[ox.Quad]:
    """Every quad of one file; triples outside a named graph go to the file's graph."""
    fmt = FORMATS.get(path.suffix)
    if fmt is None:
        raise LoadError(path, f"unknown RDF file type {path.suffix!r}")
    target = graph_name(path)
    try:
        quads = list(ox.parse(path=path, format=fmt))
    except SyntaxError as err:
        message = str(err.msg if hasattr(err, "msg") else err)
        raise LoadError(path, message, err.lineno, err.offset) from None
    except (OSError, ValueError) as err:
        raise LoadError(path, str(err)) from None
    return [
        q if not isinstance(q.graph_name, ox.DefaultGraph)
        else ox.Quad(q.subject, q.predicate, q.object, target)
        for q in quads
    ]


def load_store(paths: Iterable[Path | str]) -> ox.Store:
    """A new in-memory store with every file parsed first, so a bad file loads nothing.

    Each file keeps its named graph(s); the store's default graph holds the union of all of
    them as a set. Oxigraph's own union default graph is a multiset (a triple stated in two
    files would come back twice), while SPARQL's default graph is an RDF merge.
    """
    quads: list[ox.Quad] = []
    for path in expand_paths(paths):
        quads.extend(parse_file(path))
    store = ox.Store()
    store.extend(quads)
    store.extend({ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads})
    return store


# Stands for an empty default graph (a query with FROM NAMED but no FROM): a graph never loaded.
EMPTY_GRAPH = ox.NamedNode("urn:mmkg:empty-default-graph")
