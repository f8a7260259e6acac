"""A backend that answers through an external SPARQL 1.1 endpoint (Oxigraph server, Fuseki,
Virtuoso, QLever...) with SPARQLWrapper: the same Backend protocol as the embedded
KnowledgeGraph (store.py), answers written by the same result writers. No Flask here."""

from __future__ import annotations

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
from .store import KnowledgeGraph, integer, rows_of


class RemoteGraph:
    """Queries go to `endpoint`; `files`, `version` and `modified` describe the local files that
    were validated at start (the remote endpoint is expected to hold the same dump).

    Clients' queries are checked first by a pool of checking workers (an empty store: the same
    lanes, sandbox and deadline as the embedded mode's), never in the calling process.
    """

    def __init__(self, endpoint: str, files: tuple[Path, ...] = (), version: str = "",
                 modified: datetime | None = None, timeout: float = 10.0,
                 pool_config: PoolConfig | None = None) -> None:
        self.endpoint, self.files, self.version = endpoint, files, version
        self.modified = modified or datetime.now().astimezone()
        self.timeout = timeout
        self.pool_config = pool_config or PoolConfig()
        self._checkers: WorkerPool | None = None
        self._lock = threading.Lock()

    @property
    def checks_syntax(self) -> bool:
        # Endpoints differ in how they report syntax errors: the guard parses every query.
        return False

    # --- the server's own queries (rdflib terms), used by documents and pages ----------------

    def select(self, sparql: str) -> list[dict[str, Node]]:
        """A SELECT query's rows, each a dict of variable name -> rdflib term."""
        solutions = ox.parse_query_results(
            self._fetch(sparql, SPARQL_JSON.media_type, self.timeout),
            format=ox.QueryResultsFormat.JSON)
        return rows_of(solutions, sparql)

    def construct(self, sparql: str) -> Graph:
        """A CONSTRUCT/DESCRIBE query's triples as an rdflib Graph."""
        data = self._fetch(sparql, "application/n-triples", self.timeout)
        return Graph().parse(data=data.decode("utf-8"), format="nt")

    def ask(self, sparql: str) -> bool:
        result = ox.parse_query_results(self._fetch(sparql, SPARQL_JSON.media_type,
                                                    self.timeout),
                                        format=ox.QueryResultsFormat.JSON)
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
            result = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
            if not isinstance(result, ox.QuerySolutions):
                return write_boolean(bool(result), job.output)
            variables = written_order(prepared.text, [v.value for v in result.variables])
            return write_solutions(variables, ({v: s[v] for v in variables} for s in result),
                                      job.output, job.max_results)
        data = self._fetch(prepared.text, "application/n-triples", timeout, prepared)
        triples = (q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        return write_triples(triples, job.output, job.max_results, job.prefixes)

    def _fetch(self, query: str, accept: str, timeout: float,
               prepared: PreparedQuery | None = None) -> bytes:
        """The raw response body; errors become QueryError subclasses with honest statuses."""
        client = SPARQLWrapper(self.endpoint)
        client.setMethod(POST if len(query) > 1500 else GET)
        client.setRequestMethod("postdirectly" if len(query) > 1500 else "urlencoded")
        client.setQuery(query)
        client.setTimeout(max(1, round(timeout)))
        client.addCustomHttpHeader("Accept", accept)
        client.setOnlyConneg(True)
        if prepared is not None:
            _send_dataset(client, prepared)
        try:
            # The connection is closed once the body is read, not left to the collector.
            with closing(client.query().response) as response:
                body: bytes = response.read()
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
               pool_config: PoolConfig | None = None) -> RemoteGraph:
    """A remote backend described by the locally validated graph's files and version."""
    return RemoteGraph(endpoint, local.files, local.version, local.modified, timeout,
                       pool_config)
