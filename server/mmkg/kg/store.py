"""The backends that answer for the knowledge graph, and the embedded one: an Oxigraph store
loaded from the served files, with its own pool of query workers. No Flask here.

`Backend` says what a backend does; `KnowledgeGraph` (embedded) and `remote.RemoteGraph` (an
external SPARQL endpoint) both do it, so views and documents never ask which one they have.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from ..config import Settings
from ..sparql.guard import PreparedQuery
from ..sparql.results import Answer
from ..sparql.workers import Job, PoolConfig, WorkerPool
from . import files as shipped_files
from .loader import Source, expand_paths, read_source, store_from


class Backend(Protocol):
    """What views, documents and the endpoint rely on.

    `select`/`construct`/`ask` answer the server's own queries (pages, documents) as rdflib
    terms; `answer` checks and runs a client's screened query within a timeout and returns it
    serialized and capped; `check` only checks one (both away from the calling process, under
    the deadline, admitted fairly per `client`). `files`, `version` and `modified` describe
    the validated local files.
    """

    files: tuple[Path, ...]
    version: str
    modified: datetime

    @property
    def checks_syntax(self) -> bool:
        """True when `answer` reports syntax errors with their position itself, so the guard
        may let a plain query through without its own parse."""
        ...

    def select(self, sparql: str) -> list[dict[str, Node]]: ...

    def construct(self, sparql: str) -> Graph: ...

    def ask(self, sparql: str) -> bool: ...

    def answer(self, job: Job, timeout: float, client: str = "") -> Answer: ...

    def check(self, prepared: PreparedQuery, timeout: float,
              client: str = "") -> PreparedQuery: ...

    def triple_count(self) -> int:
        """Distinct triples in the default graph (the union of every file, as a set)."""
        ...

    def close(self) -> None:
        """Release what the backend holds (worker processes); it may not be used after."""
        ...


@dataclass
class KnowledgeGraph:
    """An embedded Oxigraph store holding every served file, one named graph per file, and
    their union (a set) as the default graph. Clients' queries run in its worker pool
    (started on the first query); the server's own queries run in this process."""

    store: ox.Store
    files: tuple[Path, ...]
    version: str
    modified: datetime
    pool_config: PoolConfig = field(default_factory=PoolConfig)
    _pool: WorkerPool | None = field(default=None, init=False, repr=False, compare=False)
    _pool_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False,
                                       compare=False)

    @property
    def checks_syntax(self) -> bool:
        return True

    def serving(self, settings: Settings) -> KnowledgeGraph:
        """The same store with a worker pool of its own, sized and sandboxed by `settings`
        (several apps may serve one loaded graph, each with its own settings)."""
        return replace(self, pool_config=PoolConfig.of(settings))

    def query(self, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a read-only query over the union of all graphs (unless FROM says otherwise)."""
        return self.store.query(sparql)

    def construct(self, sparql: str) -> Graph:
        """A CONSTRUCT/DESCRIBE query's triples as an rdflib Graph (what serializers need)."""
        triples = self.query(sparql)
        if not isinstance(triples, ox.QueryTriples):
            raise TypeError(f"not a CONSTRUCT or DESCRIBE query: {sparql[:80]!r}")
        data = triples.serialize(format=ox.RdfFormat.N_TRIPLES)
        return Graph().parse(data=data, format="nt")

    def select(self, sparql: str) -> list[dict[str, Node]]:
        """A SELECT query's rows, each a dict of variable name -> rdflib term (unbound left out)."""
        return rows_of(self.query(sparql), sparql)

    def ask(self, sparql: str) -> bool:
        return bool(self.query(sparql))

    def answer(self, job: Job, timeout: float, client: str = "") -> Answer:
        """Check and run a client's query in a worker process, stopped after `timeout` s."""
        return self.workers().answer(job, timeout, client)

    def check(self, prepared: PreparedQuery, timeout: float,
              client: str = "") -> PreparedQuery:
        """The full check of a pending query, in a worker process."""
        return self.workers().check(prepared, timeout, client)

    def workers(self) -> WorkerPool:
        """This backend's worker pool (one per backend; forked processes start their own)."""
        with self._pool_lock:  # concurrent first queries must share one pool
            if self._pool is None:
                self._pool = WorkerPool(self.store, self.pool_config)
            return self._pool

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def triple_count(self) -> int:
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


def rows_of(solutions: object, sparql: str = "") -> list[dict[str, Node]]:
    """SELECT solutions as rows, each a dict of variable name -> rdflib term (unbound left
    out); a TypeError for the answer to another form of query."""
    if not isinstance(solutions, ox.QuerySolutions):
        raise TypeError(f"not a SELECT query: {sparql[:80]!r}")
    names = [v.value for v in solutions.variables]
    return [{n: to_rdflib(s[n]) for n in names if s[n] is not None} for s in solutions]


def integer(node: Node) -> int:
    """The value of an integer literal (a count in a SELECT row)."""
    return int(str(node))


def served_files(settings: Settings) -> list[Path]:
    """The shipped ontology and data (unless turned off), then every --data path."""
    files = [] if settings.no_default_data else shipped_files.default_data_files()
    return files + expand_paths(settings.data)


def _fingerprint(sources: Iterable[Source]) -> tuple[str, datetime]:
    digest = hashlib.sha256()
    newest = 0.0
    for source in sources:
        digest.update(str(source.path.name).encode())
        digest.update(source.data)
        newest = max(newest, source.mtime)
    return digest.hexdigest()[:16], datetime.fromtimestamp(int(newest), UTC)


def load_graph(files: Iterable[Path]) -> KnowledgeGraph:
    """Read every file once and parse it into a fresh store (all or nothing)."""
    files = tuple(files)
    sources = [read_source(path) for path in files]
    version, modified = _fingerprint(sources)
    return KnowledgeGraph(store_from(sources), files, version, modified)


def subclass_closure(graph: Backend) -> dict[str, set[str]]:
    """Every class with a superclass, and all its superclasses (transitively), from the
    direct rdfs:subClassOf statements: what rdfs:subClassOf+ gives, on any store."""
    direct: dict[str, set[str]] = {}
    for row in graph.select("SELECT DISTINCT ?c ?sup WHERE { "
                            "?c <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?sup . "
                            "FILTER(isIRI(?c) && isIRI(?sup)) }"):
        direct.setdefault(str(row["c"]), set()).add(str(row["sup"]))
    closure: dict[str, set[str]] = {}
    for cls in direct:
        seen: set[str] = set()
        todo = list(direct[cls])
        while todo:
            sup = todo.pop()
            if sup not in seen:
                seen.add(sup)
                todo.extend(direct.get(sup, ()))
        closure[cls] = seen
    return closure
