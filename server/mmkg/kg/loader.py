"""Parse RDF files into one pyoxigraph store: all or nothing, errors named by file and line.

Files come from people (`--data`, `mmkg validate PATH`), so reading them is bounded too: each
is read once, only if it is a regular file (a FIFO would block the start for ever), and an
RDF/XML file whose DTD would expand entities past its own size ("billion laughs") is refused
before any parser sees it. Every problem is a LoadError naming the file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# What an OSError means for someone who named a file.
_READ_ERRORS = {
    errno.ENOENT: "no such file or folder",
    errno.ELOOP: "a symbolic link loop",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a path through something that is not a folder",
    errno.ENAMETOOLONG: "name too long",
}


def _unreadable(path: Path, err: OSError) -> LoadError:
    reason = _READ_ERRORS.get(err.errno or 0, err.strerror or str(err))
    return LoadError(path, f"cannot read it: {reason}")


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, folders as their RDF files (sorted, recursively; symbolic links to
    folders are not followed, so a link loop cannot make this endless)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        try:
            mode = os.stat(path).st_mode
        except OSError as err:
            raise _unreadable(path, err) from None
        if stat.S_ISDIR(mode):
            files.extend(_folder_files(path))
        elif path.suffix not in FORMATS:
            raise LoadError(path, f"unknown RDF file type {path.suffix!r}; "
                                  f"expected one of {', '.join(sorted(FORMATS))}")
        else:
            files.append(path)
    return files


def _folder_files(folder: Path) -> list[Path]:
    def refuse(err: OSError) -> None:
        raise _unreadable(Path(err.filename or folder), err)

    found = [Path(root) / name for root, _dirs, names in os.walk(folder, onerror=refuse)
             for name in names if Path(name).suffix in FORMATS]
    return sorted(found)


@dataclass(frozen=True)
class Source:
    """One file's bytes, read once: what is fingerprinted is what is parsed."""

    path: Path
    data: bytes
    mtime: float


def read_source(path: Path) -> Source:
    """A regular file's bytes; a FIFO, device or socket is refused without waiting on it,
    and an RDF/XML file that would expand entities is refused before it is parsed."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise _unreadable(path, err) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode)
                    else "a folder" if stat.S_ISDIR(info.st_mode)
                    else "a socket" if stat.S_ISSOCK(info.st_mode) else "a device")
            raise LoadError(path, f"not a regular file ({kind})")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read()
    except OSError as err:
        raise _unreadable(path, err) from None
    finally:
        os.close(fd)
    if FORMATS.get(path.suffix) == ox.RdfFormat.RDF_XML:
        refuse_entity_expansion(path, data)
    return Source(path, data, info.st_mtime)


_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[(.*?)\]\s*>", re.DOTALL)
_ENTITY = re.compile(
    rb"<!ENTITY\s+(%\s+)?([^\s%\"']+)\s+(?:\"([^\"]*)\"|'([^']*)'|(SYSTEM|PUBLIC)\b[^>]*)\s*>")
_REFERENCE = re.compile(rb"&([A-Za-z_:][\w.:-]*);")
# Entities may abbreviate (Protege writes &owl; for the OWL namespace): their expansion may
# reach this many bytes beyond the file's own size, no more.
EXPANSION_ALLOWANCE = 1 << 20


def refuse_entity_expansion(path: Path, data: bytes) -> None:
    """Refuse a DTD whose entities refer to entities, to files, or expand past the file's size
    plus EXPANSION_ALLOWANCE; plain abbreviations stay allowed."""
    doctype = _DOCTYPE.search(data)
    if doctype is None:
        if b"<!ENTITY" in data:
            raise LoadError(path, "entity declarations outside a DOCTYPE's internal subset are "
                                  "not accepted")
        return
    subset = doctype.group(1)
    values: dict[bytes, bytes] = {}
    for match in _ENTITY.finditer(subset):
        parameter, name, double, single, external = match.groups()
        shown = name.decode("utf-8", "replace")
        if parameter or external:
            kind = "parameter" if parameter else "external"
            raise LoadError(path, f"the DTD declares {kind} entity {shown!r}: RDF/XML with "
                                  f"{kind} entities is not accepted")
        value = double if double is not None else single
        if b"&" in value or b"%" in value:
            raise LoadError(path, f"entity {shown!r} refers to other entities: nested entity "
                                  "expansion (a 'billion laughs' file) is refused")
        values[name] = value
    if len(values) != subset.count(b"<!ENTITY"):
        raise LoadError(path, "the DTD has entity declarations this check cannot read; "
                              "they are refused rather than expanded")
    body = data[doctype.end():]
    expansion = sum(len(values.get(m.group(1), b"")) for m in _REFERENCE.finditer(body))
    if expansion > len(data) + EXPANSION_ALLOWANCE:
        raise LoadError(path, f"its entities would expand to {expansion} bytes, more than the "
                              f"file's size plus {EXPANSION_ALLOWANCE} bytes; refused")


def graph_name(path: Path) -> ox.NamedNode:
    """The named graph that holds a file's default-graph triples."""
    return ox.NamedNode(f"{GRAPH}{path.stem}")


def parse_source(source: Source, position: int = 0) -> list[ox.Quad]:
    """Every quad of one file; triples outside a named graph go to the file's graph. Blank
    nodes are named by the file's `position` in the load and their order in it."""
    path = source.path
    fmt = FORMATS.get(path.suffix)
    if fmt is None:
        raise LoadError(path, f"unknown RDF file type {path.suffix!r}")
    target = graph_name(path)
    try:
        quads = list(ox.parse(source.data, format=fmt))
    except SyntaxError as err:
        message = str(err.msg if hasattr(err, "msg") else err)
        raise LoadError(path, message, err.lineno, err.offset) from None
    except (OSError, ValueError) as err:
        raise LoadError(path, str(err)) from None
    return stable_blank_nodes([
        q if not isinstance(q.graph_name, ox.DefaultGraph)
        else ox.Quad(q.subject, q.predicate, q.object, target)
        for q in quads
    ], f"f{position}b")


def stable_blank_nodes(quads: list[ox.Quad], prefix: str) -> list[ox.Quad]:
    """The quads with their blank nodes named `prefix` + the order each first appears, not at
    random as the parser names them: two loads of the same files then make the same store, so
    every replica of the server sends the same bytes under the same ETag (a download resumed
    from another replica must join up)."""
    names: dict[ox.BlankNode, ox.BlankNode] = {}

    def stable(term: Any) -> Any:
        if type(term) is not ox.BlankNode:
            return term
        name = names.get(term)
        if name is None:
            name = names[term] = ox.BlankNode(f"{prefix}{len(names)}")
        return name

    blank = ox.BlankNode
    return [q if type(q.subject) is not blank and type(q.object) is not blank
            and type(q.graph_name) is not blank
            else ox.Quad(stable(q.subject), q.predicate, stable(q.object), stable(q.graph_name))
            for q in quads]


def load_store(paths: Iterable[Path | str]) -> ox.Store:
    """A new in-memory store from files (folders mean their RDF files)."""
    return store_from([read_source(path) for path in expand_paths(paths)])


def store_from(sources: Iterable[Source]) -> ox.Store:
    """A new in-memory store with every file parsed first, so a bad file loads nothing.

    Each file keeps its named graph(s); the store's default graph holds the union of all of
    them as a set. Oxigraph's own union default graph is a multiset (a triple stated in two
    files would come back twice), while SPARQL's default graph is an RDF merge.
    """
    quads: list[ox.Quad] = []
    for position, source in enumerate(sources):
        quads.extend(parse_source(source, position))
    store = ox.Store()
    store.extend(quads)
    store.extend({ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads})
    return store


# Stands for an empty default graph (a query with FROM NAMED but no FROM): a graph never loaded.
EMPTY_GRAPH = ox.NamedNode("urn:mmkg:empty-default-graph")
