"""The linked-data views: /id → 303 → /doc, content negotiation, ontology, VoID, dumps, landing.

Views only translate HTTP: documents come from `describe`, pages from `pages`, bytes from
`formats`. Nothing here reads a file named by a request.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, redirect, request
from rdflib import Graph, URIRef

from ..config import Settings
from ..formats import (
    DOCUMENT_FORMATS,
    FORMATS_BY_EXTENSION,
    HTML,
    JSON_LD,
    Format,
    MalformedAccept,
    negotiate,
    offered_text,
    serialize,
)
from ..kg.store import Backend
from ..uris import KINDS, LOCAL_ID, ONTOLOGY_IRI
from . import documents as describe
from . import pages
from .context import CONTEXT_PATH, build_context

bp = Blueprint("resources", __name__)

MAX_PATH_LENGTH = 1024
GZIP_MIN_BYTES = 1400  # below one packet compression buys nothing
CACHE_CONTROL = "public, max-age=300"
DOCUMENT_CACHE_SIZE = 4096
BODY_CACHE_SIZE = 8192
# Encoded slash, backslash or NUL, dot segments: refused before routing (Werkzeug would
# decode some of them into path separators).
_HOSTILE = re.compile(r"%2f|%5c|%00|\x00|\\|(^|/)\.\.?(/|$)|%2e%2e|(^|/)%2e|%2e(/|$)", re.I)


@dataclass
class LinkedData:
    """What the views serve, computed once at start-up (dumps on first request)."""

    kg: Backend
    settings: Settings
    context: dict[str, Any]
    stats: describe.Statistics
    void: Graph
    ontology: Graph
    ontology_html: str
    dumps: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    documents: dict[tuple[str, str], Graph] = field(default_factory=dict)
    bodies: dict[tuple[str, ...], bytes] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.settings.base

    def document(self, kind: str, local: str) -> Graph:
        """A resource's document; the data does not change while serving, so keep it (a
        bounded number of them: the oldest go first)."""
        key = (kind, local)
        graph = self.documents.get(key)
        if graph is None:
            graph = describe.describe(self.kg, kind, local, self.base)
            with self.lock:
                if len(self.documents) >= DOCUMENT_CACHE_SIZE:
                    self.documents.pop(next(iter(self.documents)))
                self.documents[key] = graph
        return graph

    def body(self, key: tuple[str, ...], make: Callable[[], bytes | str]) -> bytes:
        """A serialized representation, made once: documents do not change while serving."""
        data = self.bodies.get(key)
        if data is None:
            made = make()
            data = made.encode("utf-8") if isinstance(made, str) else made
            with self.lock:
                if len(self.bodies) >= BODY_CACHE_SIZE:
                    self.bodies.pop(next(iter(self.bodies)))
                self.bodies[key] = data
        return data

    def dump(self, name: str) -> bytes:
        """A full dump, built once (under a lock, so concurrent first requests build it once)."""
        with self.lock:
            if name not in self.dumps:
                spec = next(d for d in describe.DUMP_FORMATS if d[0] == name)
                _, fmt, gzipped = spec
                body = serialize(describe.full_graph(self.kg), fmt, self.context)
                self.dumps[name] = gzip.compress(body, mtime=0) if gzipped else body
            return self.dumps[name]


def ld() -> LinkedData:
    return current_app.extensions["mmkg_ld"]


def init_app(app: Flask) -> None:
    """Compute the dataset-level documents once and register the views."""
    from ..app import current_graph, current_settings

    kg, settings = current_graph(app), current_settings(app)
    stats = describe.statistics(kg, settings.base)
    ontology = describe.ontology_graph(kg)
    app.extensions["mmkg_ld"] = LinkedData(
        kg=kg, settings=settings, context=build_context(kg), stats=stats,
        void=describe.void_graph(kg, stats, settings.base), ontology=ontology,
        ontology_html=pages.ontology_html(ontology))
    app.before_request(refuse_hostile_paths)
    pages.init_jinja(app)
    app.register_blueprint(bp)


def refuse_hostile_paths() -> Response | None:
    """400 for dot segments, encoded slashes, NUL and over-long paths, on every route."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    raw_path = raw.split("?", 1)[0]
    for path in (raw_path, request.path):
        if len(path) > MAX_PATH_LENGTH:
            return _plain(400, f"Path longer than {MAX_PATH_LENGTH} characters.")
        if _HOSTILE.search(path):
            return _plain(400, "Path not accepted: dot segments, encoded slashes, "
                               "backslashes and NUL are refused.")
    return None


def _plain(status: int, text: str, **headers: str) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers)
    return response


# ---------------------------------------------------------------------------------------------
# Building responses


def _choose(fixed: Format | None, offered: Sequence[Format]) -> Format | Response:
    """The format to send, or the 400/406 response that says why none can be."""
    if fixed is not None:
        return fixed
    try:
        fmt = negotiate(request.headers.get("Accept"), offered)
    except MalformedAccept as err:
        return _plain(400, f"Malformed Accept header: {err}")
    if fmt is None:
        return _plain(406, f"Not acceptable. This resource is offered as: "
                           f"{offered_text(offered)}.", Vary="Accept")
    return fmt


def _etag(fmt_key: str) -> str:
    return f"{ld().kg.version}-{fmt_key}"


def _context_url() -> str:
    """The JSON-LD context on the serving host (RULINGS: never a w3id URL not yet registered)."""
    return request.host_url.rstrip("/") + CONTEXT_PATH


def _jsonld_key(key: str) -> str:
    """A JSON-LD body names the serving host's context, so its validator varies with the host."""
    return f"{key}-{zlib.crc32(_context_url().encode()):08x}"


def _not_modified(etag: str) -> bool:
    """A conditional GET the client already has the answer to."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag) or \
            request.if_none_match.contains_weak(etag + "-gzip")
    since = request.if_modified_since
    return since is not None and ld().kg.modified <= since


def _link_header(path: str, offered: Sequence[Format]) -> str:
    return ", ".join(f'<{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
                     for f in offered)


def finish(body: bytes | str, fmt: Format | None, etag_key: str, *, mimetype: str = "",
           path: str = "", offered: Sequence[Format] = (), negotiated: bool = False,
           status: int = 200) -> Response:
    """Headers every data response carries: caching, CORS, alternates, gzip, conditional."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(status=status)
    response.headers["Content-Type"] = fmt.content_type if fmt else mimetype
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = CACHE_CONTROL
    vary = ["Accept"] if negotiated else []
    if negotiated and fmt is not None:
        response.headers["Content-Location"] = f"{path}.{fmt.extension}"
    if path and offered:
        response.headers["Link"] = _link_header(path, offered)
    etag = _etag(etag_key)
    if len(data) >= GZIP_MIN_BYTES and not response.headers.get("Content-Encoding"):
        vary.append("Accept-Encoding")
        if "gzip" in request.accept_encodings:
            data = gzip.compress(data, compresslevel=6, mtime=0)
            response.headers["Content-Encoding"] = "gzip"
            etag += "-gzip"
    if vary:
        response.headers["Vary"] = ", ".join(vary)
    response.set_data(data)
    response.set_etag(etag)
    response.last_modified = ld().kg.modified
    return response.make_conditional(request)


def represent(path: str, fixed: Format | None, offered: Sequence[Format],
              graph: Callable[[], Graph], html: Callable[[Graph], str], etag_key: str) -> Response:
    """One document in the chosen format (negotiated unless `fixed`)."""
    fmt = _choose(fixed, offered)
    if isinstance(fmt, Response):
        return fmt
    key = f"{etag_key}-{fmt.key}"
    if fmt is JSON_LD:
        key = _jsonld_key(key)
    if _not_modified(_etag(key)):
        return finish(b"", fmt, key, path=path, offered=offered,
                      negotiated=fixed is None)  # make_conditional turns it into a 304
    state = ld()
    if fmt is HTML:
        body = state.body((etag_key, fmt.key), lambda: html(graph()))
    else:
        # The JSON-LD context is named by URL on the serving host, so the host is in the key.
        context_url = _context_url()
        body = state.body((etag_key, fmt.key, context_url),
                          lambda: serialize(graph(), fmt, state.context, context_url))
    return finish(body, fmt, key, path=path, offered=offered, negotiated=fixed is None)


def _split_extension(name: str) -> tuple[str, Format | None] | None:
    """`pl.ttl` → ("pl", Turtle); `pl` → ("pl", None); an unknown extension → None."""
    stem, dot, ext = name.partition(".")
    if not dot:
        return stem, None
    fmt = FORMATS_BY_EXTENSION.get(ext)
    return (stem, fmt) if fmt else None


# ---------------------------------------------------------------------------------------------
# Resources


def _known(kind: str, local: str) -> bool:
    return kind in KINDS and bool(LOCAL_ID.fullmatch(local)) and \
        describe.exists(ld().kg, f"{ld().base}id/{kind}/{local}")


# A served file's graph is named after the file's stem (loader.graph_name).
LOCAL_GRAPH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@bp.get("/id/<kind>/<local>")
def thing(kind: str, local: str) -> Response:
    """A thing is not a document: 303 See Other to the document about it (Cool URIs)."""
    if not _known(kind, local):
        return _plain(404, f"No resource {ld().base}id/{kind}/{local} in this dataset.")
    response = redirect(f"/doc/{kind}/{local}", code=303)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/doc/<kind>/<name>")
def document(kind: str, name: str) -> Response:
    parts = _split_extension(name)
    if parts is None or not _known(kind, parts[0]):
        return _plain(404, f"No document /doc/{kind}/{name} in this dataset.")
    local, fixed = parts
    state = ld()
    return represent(
        f"/doc/{kind}/{local}", fixed, DOCUMENT_FORMATS,
        lambda: state.document(kind, local),
        lambda doc: pages.resource_page(state.kg, doc, kind, local, state.base),
        f"doc-{kind}-{local}")


# ---------------------------------------------------------------------------------------------
# Ontology, dataset metadata, dumps


@bp.get("/ontology")
@bp.get("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    fixed = None
    if ext is not None:
        fixed = FORMATS_BY_EXTENSION.get(ext)
        if fixed is None:
            return _plain(404, f"No ontology document /ontology.{ext}.")
    state = ld()
    return represent("/ontology", fixed, DOCUMENT_FORMATS, lambda: state.ontology,
                     lambda _: state.ontology_html, "ontology")


@bp.get("/ontology/<version>")
def ontology_version(version: str) -> Response:
    """The version IRI (owl:versionIRI) answers with the current ontology when it matches."""
    iri = URIRef(f"{ONTOLOGY_IRI}/{version}")
    if (URIRef(ONTOLOGY_IRI), None, iri) not in ld().ontology:
        return _plain(404, f"No ontology version {iri}.")
    return redirect("/ontology", code=303)


@bp.get("/.well-known/void")
@bp.get("/.well-known/void.<ext>")
def void(ext: str | None = None) -> Response:
    fixed = None
    if ext is not None:
        fixed = FORMATS_BY_EXTENSION.get(ext)
        if fixed is None:
            return _plain(404, f"No dataset description /.well-known/void.{ext}.")
    state = ld()
    return represent("/.well-known/void", fixed, DOCUMENT_FORMATS, lambda: state.void,
                     lambda doc: pages.void_page(state.kg, doc, state.stats, state.base),
                     "void")


@bp.get("/graph/<name>")
def named_graph(name: str) -> Response:
    """A named graph of the store (one per served file) is a document: served as it is."""
    parts = _split_extension(name)
    state = ld()
    iri = f"{state.base}graph/{parts[0]}" if parts else ""
    if parts is None or not LOCAL_GRAPH.fullmatch(parts[0]) or \
            not describe.named_graph_exists(state.kg, iri):
        return _plain(404, f"No named graph /graph/{name} in this dataset.")
    local, fixed = parts
    path = f"/graph/{local}"
    return represent(path, fixed, DOCUMENT_FORMATS, lambda: describe.named_graph(state.kg, iri),
                     lambda doc: pages.named_graph_page(state.kg, doc, iri, path, state.base),
                     f"graph-{local}")


@bp.get("/dataset")
def dataset() -> Response:
    """The dataset's IRI (<base>dataset) is described by the VoID document."""
    return redirect("/.well-known/void", code=303)


@bp.get("/dump/<name>")
def dump(name: str) -> Response:
    spec = next((d for d in describe.DUMP_FORMATS if d[0] == name), None)
    if spec is None:
        return _plain(404, f"No dump {name}; dumps: "
                           + ", ".join(d[0] for d in describe.DUMP_FORMATS))
    _, fmt, gzipped = spec
    state = ld()
    key = _jsonld_key(f"dump-{name}") if fmt is JSON_LD else f"dump-{name}"
    if _not_modified(_etag(key)):
        return finish(b"", None, key, mimetype=fmt.media_type)
    body = state.dump(name)
    if gzipped:
        # Already compressed: sent as a .gz file, not re-encoded.
        response = finish(b"", None, f"dump-{name}", mimetype="application/gzip")
        response.set_data(body)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    if fmt is JSON_LD:
        context_url = _context_url()
        body = state.body(("dump", name, context_url),
                          lambda: _with_context(state.dump(name), context_url))
    return finish(body, fmt, key)


def _with_context(jsonld: bytes, context_url: str) -> bytes:
    doc = json.loads(jsonld)
    doc["@context"] = context_url
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


@bp.get(CONTEXT_PATH)
def context() -> Response:
    body = json.dumps({"@context": ld().context}, indent=2)
    return finish(body, None, "context", mimetype="application/ld+json")


# ---------------------------------------------------------------------------------------------
# Pages for people


@bp.get("/")
def landing() -> Response:
    state = ld()
    if _not_modified(_etag("landing-html")):
        return finish(b"", HTML, "landing-html")
    body = pages.landing_page(state.kg, state.stats, state.base)
    response = finish(body, HTML, "landing-html")
    response.headers["Link"] = (
        '</.well-known/void>; rel="describedby"; type="text/turtle", '
        f'</sparql>; rel="service", <{CONTEXT_PATH}>; rel="alternate"; '
        'type="application/ld+json"')
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    return finish(pages.favicon_ico(), None, "favicon", mimetype="image/x-icon")


@bp.app_errorhandler(404)
def not_found(_: Exception) -> Response:
    return _plain(404, f"Nothing at {request.path[:200]}.")


@bp.app_errorhandler(405)
def not_allowed(_: Exception) -> Response:
    return _plain(405, "Method not allowed.")
