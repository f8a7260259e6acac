"""Pre-built responses: the app's own answers to every published GET, recorded once per data
version and replayed byte for byte, so a document costs what a static file costs.

`record()` asks the app itself (Flask's test client) for each path in each format it offers,
with and without gzip, so what is replayed is exactly what the views answer: the same bodies,
ETags, Vary, Link and CORS headers, whatever the views and `web/http.py` define. The answers
go to a `ResponseStore` (one SQLite file per data version in the cache directory, written
whole and then renamed into place) or to any other sink (`mmkg publish` writes files).

`Replay` is WSGI middleware in front of the app: a plain GET or HEAD of a recorded path is
answered from the store, after the same content negotiation the views use; anything else
(conditional requests, query strings, a sub-path deployment, an unknown path, an Accept
header that is malformed or matches nothing) goes to the app, which answers as always.
No Flask request context is made on the replay path: that is where its speed comes from.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import Flask

from ..formats import FORMATS_BY_KEY, Format, MalformedAccept, negotiate
from ..metrics import METRICS
from ..progress import Progress
from .http import gzip_accepted

IDENTITY, GZIP = "identity", "gzip"
# Requests that the app answers itself: it evaluates validators and ranges.
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
               "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE", "HTTP_RANGE")
# Headers that belong to one response, not to the representation: the server sets its own.
PER_RESPONSE = frozenset({"date", "server", "connection", "keep-alive"})
MMAP_BYTES = 1 << 30  # address space, not memory: pages are the OS file cache's
KEEP_STORES = 3  # per cache directory: the current data version and a few before it


@dataclass(frozen=True)
class Published:
    """A path the app publishes: in each of `offered` (negotiated), or as it is (())."""

    path: str
    offered: tuple[Format, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """One recorded answer: status line, header list and body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes


class Sink(Protocol):
    def add(self, path: str, offered: tuple[Format, ...], variant: str,
            recorded: Recorded) -> None: ...


def variant(fmt: Format | None, encoding: str) -> str:
    """The key of one representation: the format's key (or "-") and the coding."""
    return f"{fmt.key if fmt else '-'}:{encoding}"


def record(app: Flask, published: Iterable[Published], sink: Sink, total: int | None = None,
           what: str = "building every document and page") -> int:
    """Ask the app for every published path in every offered format, with and without gzip,
    and hand each 2xx/3xx answer to `sink`. Returns the number of answers recorded."""
    client = app.test_client()
    count = 0
    with Progress(what, total) as progress:
        for item in published:
            for fmt in item.offered or (None,):
                for encoding in (IDENTITY, GZIP):
                    headers = {"Accept-Encoding": encoding}
                    if fmt is not None:
                        headers["Accept"] = fmt.media_type
                    response = client.get(item.path, headers=headers)
                    if not 200 <= response.status_code < 400:
                        continue  # not published in this form: the app answers it live
                    if fmt is not None and response.mimetype != fmt.media_type:
                        continue
                    kept = [(name, value) for name, value in response.headers.to_wsgi_list()
                            if name.lower() not in PER_RESPONSE]
                    sink.add(item.path, item.offered, variant(fmt, encoding),
                             Recorded(response.status, kept, response.get_data()))
                    count += 1
            progress.advance()
    return count


# ---------------------------------------------------------------------------------------------
# The store: one SQLite file per data version

SCHEMA = """
CREATE TABLE paths (path TEXT PRIMARY KEY, offered TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE bodies (id INTEGER PRIMARY KEY, digest BLOB UNIQUE NOT NULL, data BLOB NOT NULL);
CREATE TABLE responses (path TEXT NOT NULL, variant TEXT NOT NULL, status TEXT NOT NULL,
                        headers TEXT NOT NULL, body INTEGER NOT NULL REFERENCES bodies(id),
                        PRIMARY KEY (path, variant)) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


class StoreWriter:
    """Writes a new store to a temporary file; `commit()` renames it into place whole, so a
    server starting meanwhile sees no store or a complete one."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.temporary.unlink(missing_ok=True)
        self.db = sqlite3.connect(self.temporary)
        # Small pages: bodies are a few kilobytes, and a large page wastes half of its last
        # one per body (measured: 122 MB with 4 KiB pages, 80 MB with 1 KiB).
        self.db.executescript("PRAGMA page_size=1024; PRAGMA journal_mode=OFF; "
                              "PRAGMA synchronous=OFF;" + SCHEMA)
        self.bodies: dict[bytes, int] = {}
        self.paths: set[str] = set()

    def add(self, path: str, offered: tuple[Format, ...], variant: str,
            recorded: Recorded) -> None:
        if path not in self.paths:
            self.paths.add(path)
            self.db.execute("INSERT INTO paths VALUES (?, ?)",
                            (path, " ".join(f.key for f in offered)))
        digest = hashlib.sha256(recorded.body).digest()
        body = self.bodies.get(digest)
        if body is None:  # the negotiated and the fixed URL of a format share one body
            cursor = self.db.execute("INSERT INTO bodies (digest, data) VALUES (?, ?)",
                                     (digest, recorded.body))
            body = self.bodies[digest] = int(cursor.lastrowid or 0)
        self.db.execute("INSERT INTO responses VALUES (?, ?, ?, ?, ?)",
                        (path, variant, recorded.status, json.dumps(recorded.headers), body))

    def commit(self, meta: dict[str, str]) -> None:
        self.db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        self.db.commit()
        self.db.close()
        os.replace(self.temporary, self.path)

    def abandon(self) -> None:
        self.db.close()
        self.temporary.unlink(missing_ok=True)


class ResponseStore:
    """A complete store, read only: the recorded answer for a path and representation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: tuple[int, sqlite3.Connection] | None = None
        self._lock = threading.Lock()
        self._offered: dict[str, str | None] = {}
        self.meta = dict(self._read("SELECT key, value FROM meta", (), every=True))

    def _read(self, sql: str, parameters: tuple[str, ...], every: bool = False) -> Any:
        """One query on this process's connection, one at a time. A connection per process,
        not per thread: under gevent a thread-local is a greenlet-local, and every request
        would open the file anew; a forked worker opens its own."""
        with self._lock:
            if self._connection is None or self._connection[0] != os.getpid():
                # immutable: the file never changes once renamed into place, so SQLite need
                # not lock or check it on every read.
                db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                                     check_same_thread=False)
                # Read through a memory map: a crawler's walk over many documents then costs
                # no read() call per page, as one repeated document already does not.
                db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
                self._connection = (os.getpid(), db)
            cursor = self._connection[1].execute(sql, parameters)
            return cursor.fetchall() if every else cursor.fetchone()

    def offered(self, path: str) -> str | None:
        """None: not recorded; "": one representation; else the keys of the formats it is
        offered in, space-separated."""
        if path in self._offered:
            return self._offered[path]
        row = self._read("SELECT offered FROM paths WHERE path = ?", (path,))
        found = None if row is None else str(row[0])
        if len(self._offered) > 65536:  # bounded: a crawler's walk does not grow it forever
            self._offered.clear()
        self._offered[path] = found
        return found

    def response(self, path: str, key: str) -> Recorded | None:
        row = self._read(
            "SELECT r.status, r.headers, b.data FROM responses r JOIN bodies b "
            "ON b.id = r.body WHERE r.path = ? AND r.variant = ?", (path, key))
        if row is None:
            return None
        return Recorded(row[0], [tuple(h) for h in json.loads(row[1])], row[2])

    def paths(self) -> Iterator[tuple[str, tuple[Format, ...]]]:
        for path, offered in self._read("SELECT path, offered FROM paths ORDER BY path", (),
                                        every=True):
            yield path, tuple(FORMATS_BY_KEY[k] for k in offered.split())

    def variants(self, path: str) -> Iterator[tuple[str, Recorded]]:
        for key, status, headers, data in self._read(
                "SELECT r.variant, r.status, r.headers, b.data FROM responses r JOIN bodies b "
                "ON b.id = r.body WHERE r.path = ? ORDER BY r.variant", (path,), every=True):
            yield key, Recorded(status, [tuple(h) for h in json.loads(headers)], data)


def open_or_build(path: Path, build: Callable[[StoreWriter], dict[str, str]]) -> ResponseStore:
    """The store at `path`, built first when missing (`build` fills a writer and returns its
    metadata). Older stores beside it beyond KEEP_STORES are removed."""
    if not path.exists():
        writer = StoreWriter(path)
        try:
            meta = build(writer)
        except BaseException:
            writer.abandon()
            raise
        writer.commit(meta)
    os.utime(path)  # most recently used: kept by the pruning below
    _prune(path)
    return ResponseStore(path)


def _prune(current: Path) -> None:
    stores = sorted(current.parent.glob("*.sqlite"), key=lambda p: p.stat().st_mtime,
                    reverse=True)
    for old in stores[KEEP_STORES:]:
        if old != current:
            old.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Replay in front of the app

@functools.lru_cache(maxsize=1024)
def _negotiated(accept: str | None, offered: str) -> Format | None:
    """The views' own negotiation, remembered per Accept header (clients send few)."""
    try:
        return negotiate(accept, [FORMATS_BY_KEY[k] for k in offered.split()])
    except MalformedAccept:
        return None  # the app answers 400, saying what is wrong


@functools.lru_cache(maxsize=256)
def _takes_gzip(accept_encoding: str | None) -> bool:
    """The views' own decision (web/http.py), remembered per header."""
    return gzip_accepted(accept_encoding)


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Replay:
    """WSGI middleware: recorded answers for plain GET/HEAD requests, the app for the rest."""

    def __init__(self, app: WSGIApp, store: ResponseStore) -> None:
        self.app, self.store = app, store
        self.replayed = 0  # answers sent from the store (per process)

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        found = self._recorded(environ)
        if found is None:
            return self.app(environ, start_response)
        self.replayed += 1
        start_response(found.status, found.headers)
        # What the app's hooks would have counted (web/ops.py): pre-built documents and
        # pages alike count in the linked-data room.
        METRICS.inc("mmkg_http_requests_total", room="linkeddata",
                    status=found.status[0] + "xx")
        METRICS.count_cache("documents", True)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [found.body]

    def _recorded(self, environ: dict[str, Any]) -> Recorded | None:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("QUERY_STRING") \
                or environ.get("SCRIPT_NAME"):
            return None
        for header in CONDITIONAL:
            if header in environ:
                return None
        path = environ.get("PATH_INFO", "")
        offered = self.store.offered(path)
        if offered is None:
            return None
        fmt = None
        if offered:
            fmt = _negotiated(environ.get("HTTP_ACCEPT"), offered)
            if fmt is None:
                return None
        coding = GZIP if _takes_gzip(environ.get("HTTP_ACCEPT_ENCODING")) else IDENTITY
        return self.store.response(path, variant(fmt, coding))
