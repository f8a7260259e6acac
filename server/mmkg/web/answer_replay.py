"""Repeated SPARQL requests answered in front of the app, from the whole response the app gave
the first time.

The data does not change while the server runs, so a GET of `/sparql` with the same query
string and the same values of the request headers the response varies on (its `Vary`, as an
HTTP cache keys it) gets the same bytes. The answer cache (sparql/cache.py) already spares the
engine; this spares Flask as well (request context, protocol parsing, the guard's cheap
check, negotiation), which is most of what a cached answer costs.

Only answers are kept: status 200, marked by the endpoint's cache header, not HTML (pages
carry per-request state), never errors, refusals, throttling or timeouts, which go to the app
every time. Bounded by bytes, least recently used first; a response too large for a quarter
of the budget is not kept. No Flask here.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from ..metrics import METRICS
from ..sparql.service import CACHE_HEADER
from .prebuilt import CONDITIONAL, PER_RESPONSE, Recorded, WSGIApp

ENTRY_OVERHEAD = 512  # what an entry costs besides its body and headers, roughly
PATH = "/sparql"


class _Catch:
    """The start_response handed to the app: keeps what the app starts its response with."""

    def __init__(self, start_response: Callable[..., Any]) -> None:
        self.start_response = start_response
        self.status = ""
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]],
                 exc_info: Any = None) -> Callable[[bytes], Any]:
        self.status, self.headers = status, headers
        return self.start_response(status, headers, exc_info)  # type: ignore[no-any-return]


class AnswerReplay:
    """WSGI middleware: repeated GET/HEAD requests of /sparql from memory, the app for the
    rest. `hits` and `kept` count per process."""

    def __init__(self, app: WSGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.size = 0
        self.hits = 0
        # query string -> the header names its responses vary on (lower case), and how many
        # entries it has (so that an evicted query's last entry forgets it)
        self._varies: dict[str, tuple[str, ...]] = {}
        self._count_of: dict[str, int] = {}
        self._entries: OrderedDict[tuple[str, tuple[str, ...]], Recorded] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self._eligible(environ):
            return self.app(environ, start_response)
        started = time.perf_counter()
        found = self._find(environ)
        if found is not None:
            start_response(found.status, found.headers)
            self._count(time.perf_counter() - started)
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [found.body]
        if environ["REQUEST_METHOD"] == "HEAD":
            return self.app(environ, start_response)  # no body to keep
        catch = _Catch(start_response)
        chunks = self.app(environ, catch)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        self._keep(environ, catch.status, catch.headers, body)
        return [body]

    def _eligible(self, environ: dict[str, Any]) -> bool:
        if self.max_bytes <= 0 or environ.get("PATH_INFO") != PATH \
                or environ["REQUEST_METHOD"] not in ("GET", "HEAD") \
                or not environ.get("QUERY_STRING") or environ.get("SCRIPT_NAME"):
            return False
        return not any(header in environ for header in CONDITIONAL)

    def _find(self, environ: dict[str, Any]) -> Recorded | None:
        query = environ["QUERY_STRING"]
        with self._lock:
            varies = self._varies.get(query)
            if varies is None:
                return None
            key = (query, _values(environ, varies))
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return found

    def _keep(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
              body: bytes) -> None:
        names = {name.lower(): value for name, value in headers}
        if not status.startswith("200") or CACHE_HEADER.lower() not in names \
                or names.get("content-type", "").startswith("text/html") \
                or "set-cookie" in names:
            return
        varies = tuple(sorted({v.strip().lower() for v in names.get("vary", "").split(",")
                               if v.strip()}))
        if "*" in varies:
            return
        kept = [(name, "hit" if name.lower() == CACHE_HEADER.lower() else value)
                for name, value in headers if name.lower() not in PER_RESPONSE]
        recorded = Recorded(status, kept, body)
        cost = _cost(recorded)
        if cost > self.max_bytes // 4:  # one huge answer must not flush everything else
            return
        query = environ["QUERY_STRING"]
        key = (query, _values(environ, varies))
        with self._lock:
            if self._varies.get(query, varies) != varies or key in self._entries:
                return  # the app varies this query on other headers now: keep the first
            self._varies[query] = varies
            self._count_of[query] = self._count_of.get(query, 0) + 1
            self._entries[key] = recorded
            self.size += cost
            while self.size > self.max_bytes:
                (old_query, _), old = self._entries.popitem(last=False)
                self.size -= _cost(old)
                self._count_of[old_query] -= 1
                if not self._count_of[old_query]:
                    del self._count_of[old_query], self._varies[old_query]

    @staticmethod
    def _count(seconds: float) -> None:
        """What the endpoint's own hooks would have counted (web/ops.py, sparql/views.py)."""
        METRICS.inc("mmkg_http_requests_total", room="sparql", status="2xx")
        METRICS.observe("mmkg_http_request_duration_seconds", seconds, room="sparql")
        METRICS.inc("mmkg_sparql_queries_total", outcome="answered")
        METRICS.count_cache("sparql_results", True)

    def __len__(self) -> int:
        return len(self._entries)


def _values(environ: dict[str, Any], varies: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(environ.get("HTTP_" + name.upper().replace("-", "_"), "") for name in varies)


def _cost(recorded: Recorded) -> int:
    return len(recorded.body) + sum(len(n) + len(v) for n, v in recorded.headers) \
        + ENTRY_OVERHEAD
