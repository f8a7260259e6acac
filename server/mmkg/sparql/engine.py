"""Check, run and serialize SPARQL queries safely: no Flask here.

`prepare()` refuses what a public read-only endpoint must never run (updates, LOAD, SERVICE
outside the allow-list, over-long text) before the text reaches any engine. `run()` executes
a prepared query in a worker process that is killed at the deadline, because pyoxigraph has
no cancellation API (RULINGS: Timeouts).
"""

from __future__ import annotations

import csv
import functools
import io
import ipaddress
import json
import logging
import multiprocessing
import os
import queue
import re
import signal
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
from pyparsing import ParseBaseException
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from ..config import Settings
from ..kg.loader import EMPTY_GRAPH
from .sandbox import deny_network

log = logging.getLogger(__name__)

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")

# SPARQL 1.1 query results formats: name -> (media type, W3C format IRI).
RESULTS_FORMATS: dict[str, tuple[str, str]] = {
    "json": ("application/sparql-results+json",
             "http://www.w3.org/ns/formats/SPARQL_Results_JSON"),
    "xml": ("application/sparql-results+xml",
            "http://www.w3.org/ns/formats/SPARQL_Results_XML"),
    "csv": ("text/csv", "http://www.w3.org/ns/formats/SPARQL_Results_CSV"),
    "tsv": ("text/tab-separated-values", "http://www.w3.org/ns/formats/SPARQL_Results_TSV"),
}
_OX_RESULTS = {
    "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
}


# --- errors: each carries the HTTP status the endpoint answers with ------------------------

class QueryError(Exception):
    """A query the endpoint does not answer; `status` is the HTTP status to send."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QuerySyntaxError(QueryError):
    """Malformed query text: the parser's message and where it stopped."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"SPARQL syntax error at {where}{message}")
        self.line, self.column = line, column


class QueryTooLong(QueryError):
    status = 413


class QueryForbidden(QueryError):
    """Well-formed but refused by policy (update, LOAD, SERVICE not allowed)."""

    status = 403


class QueryTimeout(QueryError):
    status = 503


class RemoteError(QueryError):
    """The external SPARQL endpoint failed or could not be reached."""

    status = 502


class EngineFault(Exception):
    """The engine or a worker failed: a server fault (HTTP 500), never a client error."""


# --- prepare: everything that happens before a query may reach an engine --------------------

@dataclass(frozen=True)
class PreparedQuery:
    """A query that passed every check, with its form and the dataset it may read.

    `default_graphs`/`named_graphs` are None when the query names no dataset: then the default
    graph is the union of all graphs and every named graph is visible.
    """

    text: str
    form: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    services: tuple[str, ...] = field(default=())


def prepare(query_text: str, settings: Settings, default_graph_uris: Iterable[str] = (),
            named_graph_uris: Iterable[str] = (), fast: bool = True) -> PreparedQuery:
    """Check length, parse, classify and apply the safety rules; raise a QueryError if refused.

    The protocol's default-graph-uri / named-graph-uri override the query's FROM / FROM NAMED
    (SPARQL 1.1 Protocol 2.1.4). Either way only graphs the store already holds are read:
    an unknown graph IRI is simply empty, never fetched. `fast=False` always parses here
    (the remote mode: syntax errors are then reported the same whatever the endpoint).
    """
    if len(query_text) > settings.max_query_length:
        raise QueryTooLong(f"query is {len(query_text)} characters long; this endpoint accepts "
                           f"at most {settings.max_query_length}")
    query_text = apply_codepoint_escapes(query_text)
    defaults, named = tuple(default_graph_uris), tuple(named_graph_uris)
    form = _plain_query_form(query_text) if fast else None
    if form is not None:
        services: tuple[str, ...] = ()
    else:
        form, clauses, terms = _analyse(query_text)
        services = tuple(_check_service(term, settings) for term in terms)
        if not defaults and not named:
            defaults = tuple(g for kind, g in clauses if kind == "default")
            named = tuple(g for kind, g in clauses if kind == "named")
    if defaults or named:
        return PreparedQuery(query_text, form, defaults, named, services)
    return PreparedQuery(query_text, form, None, None, services)


_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def apply_codepoint_escapes(query_text: str) -> str:
    """The one query text: SPARQL's \\u and \\U escapes applied once, here (SPARQL 1.1
    Query, 19.2: they are replaced in the whole text before parsing).

    rdflib reads them only inside strings and IRIs while Oxigraph applies them everywhere, so
    a check on the raw text and an engine on the raw text could see two different queries
    (a string that hides a SERVICE call from the check). The check reads and the engine runs
    the text returned here. A result that still holds an escape would be decoded a second time
    by the engine, so it is refused: one text means one reading.
    """
    if "\\" not in query_text:
        return query_text

    def decode(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise QuerySyntaxError(f"{match.group(0)} is not a Unicode character",
                                   *_position(query_text, match.start()))
        return chr(code)

    text = _CODEPOINT_ESCAPE.sub(decode, query_text)
    again = _CODEPOINT_ESCAPE.search(text)
    if again:
        raise QuerySyntaxError(f"the escapes in this query produce another escape "
                               f"({again.group(0)}); write the character itself")
    return text


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# A prologue (comments, BASE, PREFIX) followed by a query form keyword.
_PLAIN_QUERY = re.compile(
    r"(?:\s+|#[^\n]*(?:\n|$)|BASE\s*<[^<>\s]*>|PREFIX\s*[^\s:<>]*:\s*<[^<>\s]*>)*"
    r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def _plain_query_form(query_text: str) -> str | None:
    """The form of a query that cannot contain SERVICE, FROM or an update, else None.

    rdflib's parser costs ~20 ms a query, far more than most queries take in Oxigraph. A text
    in which the letters "service" and "from" never occur (in any case, anywhere) cannot hold
    a SERVICE call or a dataset clause (keywords have no escapes), and one that starts with a
    query form is not an update: such a query goes straight to Oxigraph, whose parser then
    reports any syntax error with its position. Anything else takes the full parse below.
    """
    lowered = query_text.lower()
    if "service" in lowered or "from" in lowered:
        return None
    match = _PLAIN_QUERY.match(query_text)
    return match.group(1).upper() if match else None


@functools.lru_cache(maxsize=256)
def _analyse(query_text: str) -> tuple[str, tuple[tuple[str, str], ...], tuple[Any, ...]]:
    """(form, dataset clauses, SERVICE targets) from rdflib's parser; cached per text, while
    the allow-list checks run on every request."""
    try:
        algebra = translateQuery(parseQuery(query_text)).algebra
    except ParseBaseException as err:
        _refuse_if_update(query_text)
        raise QuerySyntaxError(err.msg + _found(err), err.lineno, err.col) from None
    except Exception as err:  # rdflib raises plain exceptions, e.g. for an unknown prefix
        raise QuerySyntaxError(str(err)) from None
    form = algebra.name.removesuffix("Query").upper()
    if form not in FORMS:
        raise QuerySyntaxError(f"unsupported query form {algebra.name}")
    clauses: list[tuple[str, str]] = []
    for clause in algebra.get("datasetClause") or ():
        for kind in ("default", "named"):
            if kind in clause:
                clauses.append((kind, str(clause[kind])))
    return form, tuple(clauses), tuple(_service_terms(algebra))


def _found(err: ParseBaseException) -> str:
    line = err.line.strip()
    return f" (near: {line[:80]!r})" if line else ""


def _refuse_if_update(query_text: str) -> None:
    """An update sent as a query (LOAD, INSERT, CLEAR...) is refused as such, not as a typo."""
    try:
        parseUpdate(query_text)
    except Exception:
        return
    raise QueryForbidden("SPARQL Update (including LOAD) is not accepted: this endpoint is "
                         "read-only")


def _service_terms(node: Any) -> Iterator[Any]:
    """Every SERVICE target in the algebra, including inside sub-queries and EXISTS."""
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            yield node["term"]
        for value in node.values():
            yield from _service_terms(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _service_terms(value)


def _check_service(term: Any, settings: Settings) -> str:
    """Allow SERVICE only to an allow-listed endpoint that is not a private address."""
    if isinstance(term, Variable) or not isinstance(term, URIRef):
        raise QueryForbidden("SERVICE with a variable endpoint is not allowed")
    iri = str(term)
    if iri not in settings.federation_allowlist:
        raise QueryForbidden(f"SERVICE <{iri}> is not allowed: federation is limited to the "
                             f"configured allow-list ({len(settings.federation_allowlist)} "
                             f"endpoint(s))")
    if not settings.federation_allow_private:
        problem = private_address(iri)
        if problem:
            raise QueryForbidden(f"SERVICE <{iri}> is not allowed: {problem}")
    return iri


def private_address(url: str) -> str | None:
    """Why a URL must not be called (loopback/private/link-local/unresolvable), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "only http and https endpoints can be called"
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as err:
        return f"host {parts.hostname} does not resolve ({err})"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if (address.is_loopback or address.is_private or address.is_link_local
                or address.is_unspecified or address.is_reserved or address.is_multicast):
            return f"host {parts.hostname} resolves to a non-public address ({address})"
    return None


# --- serializers (shared by the embedded workers and the remote backend) --------------------

@dataclass
class Answer:
    """A serialized answer: the bytes, their media type and whether rows were cut."""

    body: bytes
    media_type: str
    truncated: bool = False
    count: int = 0


def term_json(term: Any) -> dict[str, str]:
    # https://www.w3.org/TR/sparql11-results-json/#select-encode-terms
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    raise EngineFault(f"cannot serialize term {term!r}")


def _term_xml(term: Any) -> str:
    # https://www.w3.org/TR/rdf-sparql-XMLres/#results
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attr = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attr = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attr = ""
        return f"<literal{attr}>{escape(term.value)}</literal>"
    raise EngineFault(f"cannot serialize term {term!r}")


def _term_csv(term: Any) -> str:
    # https://www.w3.org/TR/sparql11-results-csv-tsv/#csv-terms: plain values, bnodes as _:x
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def write_solutions(variables: list[str], rows: Iterable[Any], fmt: str,
                    max_results: int) -> Answer:
    """SELECT results in one of RESULTS_FORMATS, cut after `max_results` rows.

    pyoxigraph serializes only a whole QuerySolutions, so capped output is written here,
    following each format's W3C recommendation.
    """
    kept: list[list[Any]] = []
    truncated = False
    for row in rows:
        if len(kept) >= max_results:
            truncated = True
            break
        kept.append([row[v] for v in variables])
    media_type = RESULTS_FORMATS[fmt][0]
    if fmt == "json":
        bindings = [{v: term_json(t) for v, t in zip(variables, r, strict=True) if t is not None}
                    for r in kept]
        body = json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False).encode()
    elif fmt == "xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
               "<head>"]
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head><results>")
        for r in kept:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>"
                    for v, t in zip(variables, r, strict=True) if t is not None]
            out.append("</result>")
        out.append("</results></sparql>\n")
        body = "".join(out).encode()
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_term_csv(t) for t in r] for r in kept)
        body = buffer.getvalue().encode()
        media_type += "; charset=utf-8"
    elif fmt == "tsv":
        # https://www.w3.org/TR/sparql11-results-csv-tsv/#tsv: terms in their Turtle form
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join("" if t is None else str(t) for t in r) for r in kept]
        body = ("\n".join(lines) + "\n").encode()
        media_type += "; charset=utf-8"
    else:
        raise ValueError(f"unknown results format {fmt!r}")
    return Answer(body, media_type, truncated, len(kept))


def write_boolean(value: bool, fmt: str) -> Answer:
    """ASK result, serialized by pyoxigraph."""
    result = ox.Store().query("ASK { FILTER(true) }" if value else "ASK { FILTER(false) }")
    body = result.serialize(format=_OX_RESULTS[fmt])
    media_type = RESULTS_FORMATS[fmt][0]
    if fmt in ("csv", "tsv"):
        media_type += "; charset=utf-8"
    return Answer(body, media_type, False, 1)


def write_triples(triples: Iterable[Any], media_type: str, max_results: int,
                  prefixes: dict[str, str] | None = None) -> Answer:
    """CONSTRUCT/DESCRIBE triples cut after `max_results`, serialized by pyoxigraph.

    `media_type` must be one pyoxigraph writes (RdfFormat.from_media_type); the endpoint asks
    for N-Triples and converts with rdflib for any other format of the registry.
    """
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"pyoxigraph does not write {media_type}")
    kept: list[Any] = []
    truncated = False
    for triple in triples:
        if len(kept) >= max_results:
            truncated = True
            break
        kept.append(triple)
    use_prefixes = prefixes if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    body = ox.serialize(kept, format=fmt, prefixes=use_prefixes)
    return Answer(body or b"", fmt.media_type, truncated, len(kept))


class _OverBudget(Exception):
    pass


class _BoundedBuffer:
    """A binary sink for pyoxigraph's serializers that gives up past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.parts: list[bytes] = []
        self.size, self.limit = 0, limit

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _OverBudget
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _serialize_capped(result: Any, fmt: str, max_results: int) -> Answer | None:
    """SELECT results written by pyoxigraph (fast), then cut to `max_results` rows on the
    bytes; None when the answer is too large to buffer (the caller streams it instead)."""
    buffer = _BoundedBuffer(1_000_000 + 1_000 * max_results)
    try:
        result.serialize(buffer, _OX_RESULTS[fmt])
    except _OverBudget:
        return None
    body = b"".join(buffer.parts)
    media_type = RESULTS_FORMATS[fmt][0]
    if fmt == "json":
        doc = json.loads(body)
        rows = doc["results"]["bindings"]
        count = len(rows)
        if count > max_results:
            doc["results"]["bindings"] = rows[:max_results]
            body = json.dumps(doc, ensure_ascii=False).encode()
    elif fmt == "xml":
        # Values are escaped, so "<result>" only ever opens a row.
        count = body.count(b"<result>")
        if count > max_results:
            end = 0
            for _ in range(max_results):
                end = body.index(b"</result>", end) + len(b"</result>")
            body = body[:end] + b"</results></sparql>"
    elif fmt == "tsv":
        # TSV escapes line breaks inside terms: one line per row after the header.
        lines = body.split(b"\n")
        count = len(lines) - 2
        if count > max_results:
            body = b"\n".join(lines[:max_results + 1]) + b"\n"
        media_type += "; charset=utf-8"
    else:
        rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
        count = len(rows) - 1
        if count > max_results:
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerows(rows[:max_results + 1])
            body = out.getvalue().encode()
        media_type += "; charset=utf-8"
    return Answer(body, media_type, count > max_results, min(count, max_results))


@dataclass(frozen=True)
class Job:
    """What a worker needs: the query, its dataset, the output format and the row cap."""

    prepared: PreparedQuery
    output: str  # a RESULTS_FORMATS name (SELECT/ASK) or an RDF media type (CONSTRUCT/DESCRIBE)
    max_results: int
    prefixes: dict[str, str] | None = None


def dataset_kwargs(prepared: PreparedQuery) -> dict[str, Any]:
    """pyoxigraph's dataset arguments: explicit graphs, or the store's default graph (which
    the loader fills with the union of every graph, as a set)."""
    if prepared.default_graphs is None and prepared.named_graphs is None:
        return {}
    # FROM NAMED without FROM: the default graph is empty (SPARQL 1.1 Query, 13.2).
    defaults = [ox.NamedNode(g) for g in prepared.default_graphs or ()] or [EMPTY_GRAPH]
    return {"default_graph": defaults,
            "named_graphs": [ox.NamedNode(g) for g in prepared.named_graphs or ()]}


def execute(store: ox.Store, job: Job) -> Answer:
    """Run one job on a store and serialize its answer (what a worker process does)."""
    prepared = job.prepared
    try:
        result = store.query(prepared.text, **dataset_kwargs(prepared))
    except SyntaxError as err:  # the query's fault, with Oxigraph's message and position
        raise _oxigraph_syntax_error(err) from None
    expected = {"SELECT": ox.QuerySolutions, "ASK": ox.QueryBoolean}.get(prepared.form,
                                                                        ox.QueryTriples)
    if not isinstance(result, expected):
        raise EngineFault(f"{prepared.form} query gave {type(result).__name__}")
    if prepared.form == "SELECT":
        answer = _serialize_capped(result, job.output, job.max_results)
        if answer is not None:
            return answer
        # A very large answer: run again and stream only the first rows through our writer.
        result = store.query(prepared.text, **dataset_kwargs(prepared))
        variables = [v.value for v in result.variables]
        return write_solutions(variables, ({v: s[v] for v in variables} for s in result),
                               job.output, job.max_results)
    if prepared.form == "ASK":
        return write_boolean(bool(result), job.output)
    return write_triples(result, job.output, job.max_results, job.prefixes)


def _oxigraph_syntax_error(err: SyntaxError) -> QuerySyntaxError:
    """Oxigraph says "error at LINE:COLUMN: message"; keep both parts."""
    match = re.match(r"error at (\d+):(\d+): (.*)", str(err), re.DOTALL)
    if match:
        return QuerySyntaxError(match.group(3), int(match.group(1)), int(match.group(2)))
    return QuerySyntaxError(str(err))


# --- the worker pool ---------------------------------------------------------------------

def _worker_main(store: ox.Store, conn: Any, parent: int, allow_network: bool) -> None:
    """A forked worker: answer jobs until the parent goes away.

    Without a federation allow-list the worker first gives up the network for good (see
    sandbox.py): if the kernel will not enforce that, it answers every job with a fault rather
    than run queries that could call out.
    """
    # The parent's Python signal handlers (gunicorn's, Flask's reloader's) were copied by the
    # fork; a worker must simply die when told to, so that shutdowns do not hang.
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH",
                 "SIGTTIN", "SIGTTOU", "SIGCHLD"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    refusal = None
    if not allow_network:
        try:
            deny_network()
        except OSError as err:
            refusal = f"query worker could not give up the network, so it runs nothing: {err}"
    while True:
        try:
            if not conn.poll(1.0):
                if os.getppid() != parent:  # the server died without telling us
                    return
                continue
            job = conn.recv()
        except (EOFError, OSError):
            return
        if refusal:
            conn.send(("fault", refusal))
            continue
        try:
            conn.send(("ok", execute(store, job)))
        except QueryError as err:
            conn.send(("query-error", type(err).__name__, err.message))
        except Exception as err:  # reported to the parent, which logs it as a 500
            conn.send(("fault", f"{type(err).__name__}: {err}"))


class _Worker:
    def __init__(self, store: ox.Store, allow_network: bool) -> None:
        context = multiprocessing.get_context("fork")  # the child shares the loaded store
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main,
                                       args=(store, child, os.getpid(), allow_network),
                                       daemon=True, name="mmkg-query-worker")
        self.process.start()
        child.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """Long-lived forked workers, each holding the store; a worker past its deadline is killed
    and replaced, so a runaway query really stops and other queries keep being answered.

    Workers may open network connections only when `allow_network` (a federation allow-list
    is configured); otherwise the kernel refuses them every socket but a Unix one.
    """

    def __init__(self, store: ox.Store, size: int = 2, allow_network: bool = False) -> None:
        self.store, self.size, self.allow_network = store, max(1, size), allow_network
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        self._pid = os.getpid()
        weakref.finalize(self, WorkerPool._stop_all, self._all)

    def _start(self) -> None:
        with self._lock:
            if self._started and self._pid != os.getpid():
                # This process was forked (e.g. gunicorn --preload): the inherited workers
                # belong to the parent; start our own.
                self._idle, self._started = queue.Queue(), False
                self._all.clear()  # this process's copy only; the parent keeps its workers
            if not self._started:
                self._pid = os.getpid()
                for _ in range(self.size):
                    self._add()
                self._started = True

    def _add(self) -> None:
        worker = _Worker(self.store, self.allow_network)
        self._all.add(worker)
        self._idle.put(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.stop()
        self._all.discard(worker)
        self._add()

    @staticmethod
    def _stop_all(workers: set[_Worker]) -> None:
        for worker in list(workers):
            worker.stop()

    def close(self) -> None:
        self._stop_all(self._all)
        self._all.clear()

    def _acquire(self, deadline: float, timeout: float, job: Job) -> _Worker:
        """An idle worker that accepted the job; a worker found dead before the query started
        (killed from outside, say) is replaced and the job goes to another one."""
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise QueryTimeout(f"every query worker stayed busy for the {timeout:g} s "
                                   "timeout; try again later") from None
            try:
                if worker.process.is_alive():
                    worker.conn.send(job)
                    return worker
            except OSError:
                pass
            self._discard(worker)

    def run(self, job: Job, timeout: float) -> Answer:
        """Run a job within `timeout` seconds (waiting for a free worker counts too)."""
        self._start()
        deadline = time.monotonic() + timeout
        worker: _Worker | None = self._acquire(deadline, timeout, job)
        try:
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                self._discard(worker)
                worker = None
                raise QueryTimeout(f"query stopped after the {timeout:g} s timeout; simplify "
                                   "it or add a LIMIT")
            reply = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as err:
            if worker is not None:
                self._discard(worker)
                worker = None
            raise EngineFault(f"query worker died: {err!r}") from err
        finally:
            if worker is not None:
                self._idle.put(worker)
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "query-error":
            error_type = {c.__name__: c for c in (QuerySyntaxError, QueryForbidden,
                                                  QueryTooLong, QueryTimeout, QueryError)}
            error = QueryError(reply[2])
            error.status = error_type.get(reply[1], QueryError).status
            raise error
        raise EngineFault(reply[1])


_pools: dict[int, WorkerPool] = {}
_pools_lock = threading.Lock()


def pool_for(store: ox.Store, size: int, allow_network: bool = False) -> WorkerPool:
    """One pool per store per process (a forked gunicorn worker gets its own)."""
    key = id(store)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None or pool.store is not store or pool.allow_network != allow_network:
            pool = _pools[key] = WorkerPool(store, size, allow_network)
        return pool


def run(graph: Any, prepared: PreparedQuery, output: str, settings: Settings,
        prefixes: dict[str, str] | None = None, pool: WorkerPool | None = None) -> Answer:
    """Answer a prepared query from a backend: the embedded store (in a worker) or remote."""
    job = Job(prepared, output, settings.max_results, prefixes)
    if hasattr(graph, "run_job"):  # the remote backend answers jobs itself
        return graph.run_job(job, settings.query_timeout)
    pool = pool or pool_for(graph.store, settings.query_workers,
                            bool(settings.federation_allowlist))
    return pool.run(job, settings.query_timeout)
