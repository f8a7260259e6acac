"""A backend that answers through an external SPARQL 1.1 endpoint (Oxigraph server, Fuseki,
Virtuoso, QLever...) with SPARQLWrapper: the same select/construct/ask as KnowledgeGraph."""

from __future__ import annotations

import urllib.error
from datetime import datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node
from SPARQLWrapper import GET, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from ..sparql import engine as qe
from .store import to_rdflib

_RESULTS_MEDIA = {"json": "application/sparql-results+json",
                  "xml": "application/sparql-results+xml"}


class RemoteGraph:
    """Queries go to `endpoint`; `files`, `version` and `modified` describe the local files that
    were validated at start (the remote endpoint is expected to hold the same dump)."""

    def __init__(self, endpoint: str, files: tuple[Path, ...] = (), version: str = "",
                 modified: datetime | None = None, timeout: float = 10.0) -> None:
        self.endpoint, self.files, self.version = endpoint, files, version
        self.modified = modified or datetime.now().astimezone()
        self.timeout = timeout

    # --- the KnowledgeGraph interface (rdflib terms), used by resource pages -----------------

    def select(self, sparql: str) -> list[dict[str, Node]]:
        """A SELECT query's rows, each a dict of variable name -> rdflib term."""
        solutions = ox.parse_query_results(
            self._fetch(sparql, _RESULTS_MEDIA["json"], self.timeout),
            format=ox.QueryResultsFormat.JSON)
        names = [v.value for v in solutions.variables]
        return [{n: to_rdflib(s[n]) for n in names if s[n] is not None} for s in solutions]

    def construct(self, sparql: str) -> Graph:
        """A CONSTRUCT/DESCRIBE query's triples as an rdflib Graph."""
        data = self._fetch(sparql, "application/n-triples", self.timeout)
        return Graph().parse(data=data.decode("utf-8"), format="nt")

    def ask(self, sparql: str) -> bool:
        result = ox.parse_query_results(self._fetch(sparql, _RESULTS_MEDIA["json"],
                                                    self.timeout),
                                        format=ox.QueryResultsFormat.JSON)
        return bool(result)

    def __len__(self) -> int:
        """Triples in the endpoint's default graph (ours: the union of every file, as a set)."""
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        return int(rows[0]["n"]) if rows else 0

    # --- the endpoint's path: capped, serialized answers -------------------------------------

    def run_job(self, job: qe.Job, timeout: float) -> qe.Answer:
        """Answer a prepared query like an embedded worker does, within `timeout` seconds."""
        prepared = job.prepared
        if prepared.form in ("SELECT", "ASK"):
            data = self._fetch(prepared.text, _RESULTS_MEDIA["json"], timeout, prepared)
            result = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
            if prepared.form == "ASK":
                return qe.write_boolean(bool(result), job.output)
            variables = [v.value for v in result.variables]
            return qe.write_solutions(variables, ({v: s[v] for v in variables} for s in result),
                                      job.output, job.max_results)
        data = self._fetch(prepared.text, "application/n-triples", timeout, prepared)
        triples = (q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        return qe.write_triples(triples, job.output, job.max_results, job.prefixes)

    def _fetch(self, query: str, accept: str, timeout: float,
               prepared: qe.PreparedQuery | None = None) -> bytes:
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
            response = client.query().response
            return response.read()
        except SPARQLWrapperException as err:
            raise _remote_query_error(err) from None
        except TimeoutError as err:
            raise qe.QueryTimeout(f"the SPARQL endpoint did not answer within {timeout:g} s"
                                  ) from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise qe.QueryTimeout(f"the SPARQL endpoint did not answer within {timeout:g} s"
                                      ) from err
            raise qe.RemoteError(f"the SPARQL endpoint could not be reached: {err.reason}"
                                 ) from err


def _send_dataset(client: SPARQLWrapper, prepared: qe.PreparedQuery) -> None:
    """The dataset prepare() decided, sent as protocol parameters so that the remote server
    applies the same rule (they override FROM / FROM NAMED in the text)."""
    if prepared.default_graphs is None and prepared.named_graphs is None:
        return
    # An empty default graph has no IRI of its own: name one the store cannot hold.
    for graph in prepared.default_graphs or ("urn:mmkg:empty-default-graph",):
        client.addDefaultGraph(graph)
    for graph in prepared.named_graphs or ():
        client.addNamedGraph(graph)


def _remote_query_error(err: SPARQLWrapperException) -> qe.QueryError:
    message = str(err)
    if type(err).__name__ == "QueryBadFormed":
        return qe.QuerySyntaxError(f"rejected by the SPARQL endpoint: {message}")
    return qe.RemoteError(f"the SPARQL endpoint failed: {message}")


def remote_for(endpoint: str, local: Any, timeout: float) -> RemoteGraph:
    """A remote backend described by the locally validated graph's files and version."""
    return RemoteGraph(endpoint, getattr(local, "files", ()), getattr(local, "version", ""),
                       getattr(local, "modified", None), timeout)
