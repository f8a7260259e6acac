"""The safety guard: everything that happens to a query before it may reach an engine.

`prepare()` applies SPARQL's codepoint escapes once (the text it checks is the text the engine
runs), then refuses what a public read-only endpoint must never run: over-long text, updates
and LOAD, SERVICE outside the allow-list or to private addresses. It also decides the dataset
a query reads (FROM / FROM NAMED or the protocol's graph parameters). No Flask here.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pyparsing import ParseBaseException
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from ..config import Settings
from .errors import QueryForbidden, QuerySyntaxError, QueryTooLong
from .querytext import explain, in_written_order, position, select_star_order

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


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
    # For SELECT *: the variables in the order the query first names them (querytext.py).
    star_order: tuple[str, ...] | None = None

    def columns(self, variables: list[str]) -> list[str]:
        """An engine's result variables in the order the query wrote them."""
        return in_written_order(variables, self.star_order)


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
    star_order = select_star_order(query_text) if form == "SELECT" else None
    if defaults or named:
        return PreparedQuery(query_text, form, defaults, named, services, star_order)
    return PreparedQuery(query_text, form, None, None, services, star_order)


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
        raise explain(query_text, err.msg, err.lineno, err.col) from None
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
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if (address.is_loopback or address.is_private or address.is_link_local
                or address.is_unspecified or address.is_reserved or address.is_multicast):
            return f"host {parts.hostname} resolves to a non-public address ({address})"
    return None
