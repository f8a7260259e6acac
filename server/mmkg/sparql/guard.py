"""The safety guard: everything that happens to a query before it may reach an engine.

Two steps, so that no costly parse ever runs in the process that answers other requests:

- `screen()` runs in the web process and only does O(n) work: the length limit, SPARQL's
  codepoint escapes applied once (the text it keeps is the text the engine runs), the nesting
  limit, and the query form read from the prologue. It decides "safe to run as is" for a
  query whose text cannot hold SERVICE, FROM or an update; it never overrules the full check.
- `check()` is the full check with rdflib's parser: updates and LOAD, SERVICE outside the
  allow-list or to private addresses, and the dataset a query reads (FROM / FROM NAMED or
  the protocol's graph parameters). It runs inside a query worker (workers.py), under the
  query's deadline, and only for what the screen did not clear.

`prepare()` is both at once, for the command line and the tests. No Flask here.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from pyparsing import ParseBaseException
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from ..config import Settings
from .errors import QueryForbidden, QuerySyntaxError, QueryTooDeep, QueryTooLong
from .querytext import explain, position

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
# Deepest nesting of { ( [ accepted. Oxigraph's parser recurses: 3,200 braces overflow a
# worker's stack (a crash, not an error), and rdflib's gives up near 40 levels. Hand-written
# queries stay far below 20.
MAX_NESTING = 100


@dataclass(frozen=True)
class Federation:
    """What the full check needs to judge SERVICE: the allow-list and the private switch."""

    allowlist: tuple[str, ...] = ()
    allow_private: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Federation:
        return cls(settings.federation_allowlist, settings.federation_allow_private)


@dataclass(frozen=True)
class PreparedQuery:
    """A query on its way to an engine: its one text, form and the dataset it may read.

    `default_graphs`/`named_graphs` are None when the query names no dataset: then the default
    graph is the union of all graphs and every named graph is visible. `pending` is set while
    the full check is still to run (with the federation rules it applies); `check()` clears
    it. A query with `pending` set must never reach an engine.
    """

    text: str
    form: str | None  # None only while pending, when the prologue did not name a form
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    services: tuple[str, ...] = field(default=())
    pending: Federation | None = None


def screen(query_text: str, settings: Settings, default_graph_uris: Iterable[str] = (),
           named_graph_uris: Iterable[str] = (), always_check: bool = False) -> PreparedQuery:
    """The web process's part: O(n) checks only; raise a QueryError if refused.

    The result is ready to run when the text cannot hold SERVICE, a dataset clause or an
    update; otherwise it is `pending` and `check()` must run on it first (in a worker).
    `always_check` leaves every query pending (the remote mode: syntax errors are then
    reported the same whatever the endpoint).
    """
    if len(query_text) > settings.max_query_length:
        raise QueryTooLong(f"query is {len(query_text)} characters long; this endpoint accepts "
                           f"at most {settings.max_query_length}")
    query_text = apply_codepoint_escapes(query_text)
    depth = nesting_depth(query_text)
    if depth > MAX_NESTING:
        raise QueryTooDeep(f"query nests brackets {depth} levels deep; this endpoint accepts "
                           f"at most {MAX_NESTING}")
    defaults, named = tuple(default_graph_uris), tuple(named_graph_uris)
    form = query_form(query_text)
    pending = None
    if always_check or form is None or _may_reach_out(query_text):
        pending = Federation.of(settings)
    if defaults or named:
        return PreparedQuery(query_text, form, defaults, named, pending=pending)
    return PreparedQuery(query_text, form, pending=pending)


def rdflib_error_position(text: str) -> tuple[int, int] | None:
    """Where rdflib's parser stops reading `text` (line, column), or None when it reads it:
    a second opinion for error messages only, never for the safety verdict."""
    try:
        parseQuery(text)
    except ParseBaseException as err:
        return err.lineno, err.col
    except RecursionError:
        return None
    return None


def check(query: PreparedQuery) -> PreparedQuery:
    """The full check of a pending query (rdflib's parser; seconds for long hostile texts,
    which is why it runs in a worker, under the deadline). A checked query is returned as is."""
    if query.pending is None:
        return query
    form, clauses, terms = _analyse(query.text)
    services = tuple(_check_service(term, query.pending) for term in terms)
    defaults, named = query.default_graphs, query.named_graphs
    if defaults is None and named is None and clauses:
        defaults = tuple(g for kind, g in clauses if kind == "default")
        named = tuple(g for kind, g in clauses if kind == "named")
    return replace(query, form=form, default_graphs=defaults, named_graphs=named,
                   services=services, pending=None)


def prepare(query_text: str, settings: Settings, default_graph_uris: Iterable[str] = (),
            named_graph_uris: Iterable[str] = (), fast: bool = True) -> PreparedQuery:
    """Screen and fully check in this process (the command line, tests); `fast=False` always
    parses. The endpoint screens here and checks in a worker instead."""
    return check(screen(query_text, settings, default_graph_uris, named_graph_uris,
                        always_check=not fast))


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
                                   *position(query_text, match.start()))
        return chr(code)

    text = _CODEPOINT_ESCAPE.sub(decode, query_text)
    again = _CODEPOINT_ESCAPE.search(text)
    if again:
        raise QuerySyntaxError(f"the escapes in this query produce another escape "
                               f"({again.group(0)}); write the character itself")
    return text


# A prologue (comments, BASE, PREFIX) followed by a query form keyword. Every quantifier is
# possessive: a text that fails to match (20,000 spaces and an "x") is rejected in one pass
# instead of backtracking through every way of splitting the whitespace.
_PLAIN_QUERY = re.compile(
    r"(?:\s++|#[^\n]*+(?:\n|$)|BASE\s*+<[^<>\s]*+>|PREFIX\s*+[^\s:<>]*+:\s*+<[^<>\s]*+>)*+"
    r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(query_text: str) -> str | None:
    """The form keyword after the prologue, or None: not a query (an update, a syntax error)
    or a prologue this scan does not read (the full check then decides)."""
    match = _PLAIN_QUERY.match(query_text)
    return match.group(1).upper() if match else None


def _may_reach_out(query_text: str) -> bool:
    """Whether the text might hold a SERVICE call or a dataset clause.

    rdflib's parser costs ~20 ms a query, far more than most queries take in Oxigraph. A text
    in which the letters "service" and "from" never occur (in any case, anywhere) cannot hold
    either (keywords have no escapes once codepoint escapes are applied), and one that starts
    with a query form is not an update: such a query goes straight to Oxigraph, whose parser
    then reports any syntax error with its position. Anything else takes the full check.
    """
    lowered = query_text.lower()
    return "service" in lowered or "from" in lowered


# What the nesting scan skips (brackets inside them are not syntax) and what it counts. IRIs
# hold no braces or spaces; the less-than operator never starts one of these.
_NESTING_TOKENS = re.compile(
    r"#[^\n\r]*+"
    r"|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*+\"\"\"|'\'\'(?:[^'\\]|\\.|'(?!''))*+'\'\'"
    r"|\"(?:[^\"\\\n\r]|\\.)*+\"|'(?:[^'\\\n\r]|\\.)*+'"
    r"|<[^<>\"{}|^`\\\x00-\x20]*+>"
    r"|[{(\[]|[})\]]", re.DOTALL)


def nesting_depth(query_text: str) -> int:
    """The deepest nesting of { ( [ outside comments, strings and IRIs, in one pass."""
    depth = deepest = 0
    for match in _NESTING_TOKENS.finditer(query_text):
        token = match.group()
        if token in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "})]":
            depth = max(0, depth - 1)
    return deepest


@functools.lru_cache(maxsize=256)
def _analyse(query_text: str) -> tuple[str, tuple[tuple[str, str], ...], tuple[Any, ...]]:
    """(form, dataset clauses, SERVICE targets) from rdflib's parser; cached per text, while
    the allow-list checks run on every request."""
    try:
        algebra = translateQuery(parseQuery(query_text)).algebra
    except ParseBaseException as err:
        _refuse_if_update(query_text)
        raise explain(query_text, err.msg, err.lineno, err.col) from None
    except RecursionError:
        raise QueryTooDeep("query nests too deeply for the safety check; flatten its groups "
                           "or leave out SERVICE and FROM") from None
    except Exception as err:  # rdflib raises plain exceptions, e.g. for an unknown prefix
        raise explain(query_text, str(err)) from None
    form = algebra.name.removesuffix("Query").upper()
    if form not in FORMS:
        raise QuerySyntaxError(f"unsupported query form {algebra.name}")
    clauses: list[tuple[str, str]] = []
    for clause in algebra.get("datasetClause") or ():
        for kind in ("default", "named"):
            if kind in clause:
                clauses.append((kind, str(clause[kind])))
    return form, tuple(clauses), tuple(_service_terms(algebra))


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


def _check_service(term: Any, federation: Federation) -> str:
    """Allow SERVICE only to an allow-listed endpoint that is not a private address."""
    if isinstance(term, Variable) or not isinstance(term, URIRef):
        raise QueryForbidden("SERVICE with a variable endpoint is not allowed")
    iri = str(term)
    if iri not in federation.allowlist:
        raise QueryForbidden(f"SERVICE <{iri}> is not allowed: federation is limited to the "
                             f"configured allow-list ({len(federation.allowlist)} "
                             f"endpoint(s))")
    if not federation.allow_private:
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
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if (address.is_loopback or address.is_private or address.is_link_local
                or address.is_unspecified or address.is_reserved or address.is_multicast):
            return f"host {parts.hostname} resolves to a non-public address ({address})"
    return None
