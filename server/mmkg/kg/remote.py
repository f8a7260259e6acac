"""A backend that answers through an external SPARQL 1.1 endpoint (Oxigraph server, Fuseki,
Virtuoso, QLever...) with SPARQLWrapper: the same Backend protocol as the embedded
KnowledgeGraph (store.py), answers written by the same result writers. No Flask here."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.error
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node
from SPARQLWrapper import GET, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from ..formats import SPARQL_JSON
from ..sparql.errors import QueryError, QuerySyntaxError, QueryTimeout, RemoteError
from ..sparql.guard import PreparedQuery
from ..sparql.querytext import written_order
from ..sparql.results import Answer, write_boolean, write_solutions, write_triples
from ..sparql.workers import Job, PoolConfig, WorkerPool
from .loader import graph_name
from .store import KnowledgeGraph, integer, rows_of


class RemoteGraph:
    """Queries go to `endpoint`; `files`, `version` and `modified` describe the local files that
    were validated at start (the remote endpoint is expected to hold the same dump).

    Clients' queries are checked first by a pool of checking workers (an empty store: the same
    lanes, sandbox and deadline as the embedded mode's), never in the calling process.
    """

    def __init__(self, endpoint: str, files: tuple[Path, ...] = (), version: str = "",
                 modified: datetime | None = None, timeout: float = 10.0,
                 pool_config: PoolConfig | None = None, default_graph: str = "") -> None:
        self.endpoint, self.files, self.version = endpoint, files, version
        self.modified = modified or datetime.now().astimezone()
        self.timeout = timeout
        self.pool_config = pool_config or PoolConfig()
        self._checkers: WorkerPool | None = None
        self._lock = threading.Lock()
        # The dataset sent with queries that name none (see config: sparql_default_graph).
        self.dataset: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        if default_graph:
            self.dataset = ((default_graph,),
                            tuple(sorted({graph_name(Path(f)).value for f in files})))

    @property
    def checks_syntax(self) -> bool:
        # Endpoints differ in how they report syntax errors: the guard parses every query.
        return False

    # --- the server's own queries (rdflib terms), used by documents and pages ----------------

    def select(self, sparql: str) -> list[dict[str, Node]]:
        """A SELECT query's rows, each a dict of variable name -> rdflib term. When the
        endpoint says it cut the answer at its row cap (Virtuoso's X-SPARQL-MaxRows), the
        rows are fetched again in pages of that size, ordered by every variable."""
        headers: dict[str, str] = {}
        solutions = parse_json_results(
            self._fetch(sparql, SPARQL_JSON.media_type, self.timeout, headers=headers))
        cap = headers.get(MAX_ROWS_HEADER.lower())
        if cap is None or not cap.isdigit() or int(cap) < 1 \
                or not isinstance(solutions, ox.QuerySolutions):
            return rows_of(solutions, sparql)
        return self._pages(sparql, [v.value for v in solutions.variables], int(cap))

    def _pages(self, sparql: str, variables: list[str], size: int) -> list[dict[str, Node]]:
        prologue, body = split_prologue(sparql)
        order = " ".join(f"?{v}" for v in variables)
        rows: list[dict[str, Node]] = []
        while True:
            page = (f"{prologue}SELECT * WHERE {{ {{ {body} }} }} ORDER BY {order} "
                    f"LIMIT {size} OFFSET {len(rows)}")
            try:
                found = rows_of(parse_json_results(
                    self._fetch(page, SPARQL_JSON.media_type, self.timeout)), page)
            except RemoteError as err:
                raise RemoteError(
                    f"the SPARQL endpoint cuts answers at {size} rows and refused the page "
                    f"from row {len(rows)} ({err.message}); raise its row cap above the "
                    "data's size (Virtuoso: ResultSetMaxRows, and MaxSortedTopRows for the "
                    "ordered pages)") from err
            rows += found
            if len(found) < size:
                return rows

    def construct(self, sparql: str) -> Graph:
        """A CONSTRUCT/DESCRIBE query's triples as an rdflib Graph."""
        data = self._fetch(sparql, "application/n-triples", self.timeout)
        return Graph().parse(data=data.decode("utf-8"), format="nt")

    def ask(self, sparql: str) -> bool:
        result = parse_json_results(self._fetch(sparql, SPARQL_JSON.media_type,
                                                self.timeout))
        return bool(result)

    def triple_count(self) -> int:
        """Triples in the endpoint's default graph (ours: the union of every file, as a set)."""
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        return integer(rows[0]["n"]) if rows else 0

    def close(self) -> None:
        """Stop the checking workers (every request opens its own connection)."""
        with self._lock:
            if self._checkers is not None:
                self._checkers.close()
                self._checkers = None

    def workers(self) -> WorkerPool:
        """The checking workers (started on the first query)."""
        with self._lock:
            if self._checkers is None:
                self._checkers = WorkerPool(ox.Store(), self.pool_config)
            return self._checkers

    def check(self, prepared: PreparedQuery, timeout: float,
              client: str = "") -> PreparedQuery:
        """The full check of a query, in a checking worker within `timeout` seconds."""
        return self.workers().check(prepared, timeout, client)

    # --- clients' queries: capped, serialized answers -----------------------------------------

    def answer(self, job: Job, timeout: float, client: str = "") -> Answer:
        """Check a query in a checking worker, then send it to the endpoint: each step within
        `timeout` seconds. Answers are written like an embedded worker's."""
        prepared = job.prepared
        if prepared.pending is not None:
            prepared = self.check(prepared, timeout, client)
        if prepared.form in ("SELECT", "ASK"):
            data = self._fetch(prepared.text, SPARQL_JSON.media_type, timeout, prepared)
            result = parse_json_results(data)
            if not isinstance(result, ox.QuerySolutions):
                return write_boolean(bool(result), job.output)
            variables = written_order(prepared.text, [v.value for v in result.variables])
            return write_solutions(variables, ({v: s[v] for v in variables} for s in result),
                                      job.output, job.max_results)
        data = self._fetch(prepared.text, "application/n-triples", timeout, prepared)
        triples = (q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        return write_triples(triples, job.output, job.max_results, job.prefixes)

    def _fetch(self, query: str, accept: str, timeout: float,
               prepared: PreparedQuery | None = None,
               headers: dict[str, str] | None = None) -> bytes:
        """The raw response body; errors become QueryError subclasses with honest statuses."""
        client = SPARQLWrapper(self.endpoint)
        # Long queries by POST, form-encoded: every SPARQL 1.1 endpoint takes that, while
        # Virtuoso 7 never answers a direct application/sparql-query POST.
        client.setMethod(POST if len(query) > 1500 else GET)
        client.setRequestMethod("urlencoded")
        client.setQuery(query)
        client.setTimeout(max(1, round(timeout)))
        client.addCustomHttpHeader("Accept", accept)
        client.setOnlyConneg(True)
        if prepared is not None and (prepared.default_graphs is not None
                                     or prepared.named_graphs is not None):
            _send_dataset(client, prepared)
        elif self.dataset is not None:
            defaults, named = self.dataset
            for graph in defaults:
                client.addDefaultGraph(graph)
            for graph in named:
                client.addNamedGraph(graph)
        try:
            # The connection is closed once the body is read, not left to the collector.
            with closing(client.query().response) as response:
                body: bytes = response.read()
                if headers is not None:
                    headers.update((k.lower(), v) for k, v in response.headers.items())
                return body
        except SPARQLWrapperException as err:
            raise _remote_query_error(err) from None
        except TimeoutError as err:
            raise QueryTimeout(f"the SPARQL endpoint did not answer within {timeout:g} s"
                                  ) from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise QueryTimeout(f"the SPARQL endpoint did not answer within {timeout:g} s"
                                      ) from err
            raise RemoteError(f"the SPARQL endpoint could not be reached: {err.reason}"
                                 ) from err


# Virtuoso's signal that it cut an answer at its ResultSetMaxRows.
MAX_ROWS_HEADER = "X-SPARQL-MaxRows"
_PROLOGUE = re.compile(r"(?:\s+|#[^\n]*(?:\n|$)|BASE\s*<[^<>\s]*>"
                       r"|PREFIX\s*[^\s:<>]*:\s*<[^<>\s]*>)*", re.IGNORECASE)


_BNODE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def parse_json_results(data: bytes) -> ox.QuerySolutions | ox.QueryBoolean:
    """SPARQL JSON results as pyoxigraph reads them. Blank node labels that are not valid
    identifiers (Virtuoso writes "nodeID://b10001") are replaced by a hash of the label, the
    same label by the same one, so the answer keeps which values are the same node."""
    if b'"bnode"' in data:
        doc = json.loads(data)
        for binding in doc.get("results", {}).get("bindings", ()):
            for term in binding.values():
                if term.get("type") == "bnode" and not _BNODE_ID.fullmatch(term["value"]):
                    term["value"] = "b" + hashlib.sha1(term["value"].encode()).hexdigest()[:20]
        data = json.dumps(doc).encode("utf-8")
    return ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)


def split_prologue(sparql: str) -> tuple[str, str]:
    """(BASE and PREFIX declarations, the query after them): a query can only be wrapped as
    a sub-query without its prologue."""
    end = _PROLOGUE.match(sparql)
    cut = end.end() if end else 0
    return sparql[:cut], sparql[cut:]


def _send_dataset(client: SPARQLWrapper, prepared: PreparedQuery) -> None:
    """The dataset prepare() decided, sent as protocol parameters so that the remote server
    applies the same rule (they override FROM / FROM NAMED in the text)."""
    if prepared.default_graphs is None and prepared.named_graphs is None:
        return
    # An empty default graph has no IRI of its own: name one the store cannot hold.
    for graph in prepared.default_graphs or ("urn:mmkg:empty-default-graph",):
        client.addDefaultGraph(graph)
    for graph in prepared.named_graphs or ():
        client.addNamedGraph(graph)


def _remote_query_error(err: SPARQLWrapperException) -> QueryError:
    message = str(err)
    if type(err).__name__ == "QueryBadFormed":
        return QuerySyntaxError(f"rejected by the SPARQL endpoint: {message}")
    return RemoteError(f"the SPARQL endpoint failed: {message}")


def remote_for(endpoint: str, local: KnowledgeGraph, timeout: float,
               pool_config: PoolConfig | None = None, default_graph: str = "") -> RemoteGraph:
    """A remote backend described by the locally validated graph's files and version."""
    return RemoteGraph(endpoint, local.files, local.version, local.modified, timeout,
                       pool_config, default_graph)
