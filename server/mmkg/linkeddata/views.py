"""The linked-data views: /id → 303 → /doc, content negotiation, ontology, VoID, named graphs,
dumps, the JSON-LD context and the landing page.

Views only translate HTTP: documents come from `documents`, pages from `pages`/`timeline`,
bytes from `formats`, headers from `web.http`. Nothing here reads a file named by a request.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import zlib
from collections.abc import Callable, Sequence
from importlib import resources

from flask import Blueprint, Response, render_template, request
from rdflib import Graph, URIRef

from ..formats import (
    DOCUMENT_FORMATS,
    FORMATS_BY_EXTENSION,
    HTML,
    JSON_LD,
    Format,
    MalformedAccept,
    Quad,
    negotiate,
    offered_text,
    serialize,
)
from ..state import State, get_state
from ..uris import KINDS, LOCAL_ID, ONTOLOGY_IRI
from ..web.http import CACHE_CONTROL, Body, cacheable, plain, see_other
from ..web.urls import context_reference, page_path, public_root, script_root
from . import documents, pages, timeline
from .context import CONTEXT_PATH

bp = Blueprint("linkeddata", __name__)

# A served file's graph is named after the file's stem (kg/loader.graph_name).
LOCAL_GRAPH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


# ---------------------------------------------------------------------------------------------
# Building responses


def _choose(fixed: Format | None, offered: Sequence[Format]) -> Format | Response:
    """The format to send, or the 400/406 response that says why none can be."""
    if fixed is not None:
        return fixed
    try:
        fmt = negotiate(request.headers.get("Accept"), offered)
    except MalformedAccept as err:
        return plain(400, f"Malformed Accept header: {err}")
    if fmt is None:
        return plain(406, f"Not acceptable. This resource is offered as: "
                          f"{offered_text(offered)}.", Vary="Accept")
    return fmt


def _etag(state: State, key: str) -> str:
    """The validator of a representation's bytes: the data version, what the bytes are, and
    the settings bodies depend on (the public URL; the script root of a deployment under a
    sub-path). Never the Host header: no body depends on it."""
    tag = f"{state.backend.version}-{key}"
    varies = state.settings.public_url + "|" + script_root()
    return tag if varies == "|" else f"{tag}-{zlib.crc32(varies.encode()):08x}"


def _link_header(path: str, offered: Sequence[Format]) -> str:
    return ", ".join(f'<{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
                     for f in offered)


def _context_link(state: State) -> str:
    """The canonical context, as JSON-LD's Link header names one (JSON-LD 1.1, section 6.1)."""
    return (f'<{state.settings.base}{CONTEXT_PATH.lstrip("/")}>; '
            f'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"')


def finish(body: Body, fmt: Format | None, etag_key: str, *, mimetype: str = "",
           path: str = "", offered: Sequence[Format] = (), negotiated: bool = False,
           headers: dict[str, str] | None = None, compress: bool = True,
           gzipped: Callable[[], bytes] | None = None, ranges: bool = False) -> Response:
    """A data response: its validators, alternates, the canonical JSON-LD context and (when
    negotiated) Content-Location; the body is made only when the client lacks it."""
    state = get_state()
    headers = dict(headers or {})
    if negotiated and fmt is not None:
        headers["Content-Location"] = f"{script_root()}{path}.{fmt.extension}"
    links = [_link_header(script_root() + path, offered)] if path and offered else []
    if fmt is JSON_LD:
        # pyld 3 fails on a response with several rel="alternate" links (it expects one):
        # JSON-LD names only its context; the alternates are on every other representation.
        links = [_context_link(state)]
    if links:
        headers["Link"] = ", ".join(links)
    return cacheable(body, fmt.content_type if fmt else mimetype, _etag(state, etag_key),
                     state.backend.modified, vary=["Accept"] if negotiated else [],
                     headers=headers, compress=compress, gzipped=gzipped, ranges=ranges)


def represent(path: str, fixed: Format | None, offered: Sequence[Format],
              graph: Callable[[], Graph], html: Callable[[Graph], str], etag_key: str,
              quads: Callable[[], list[Quad]] | None = None) -> Response:
    """One document in the chosen format (negotiated unless `fixed`). A quad format gets
    `quads` (the triples in their named graphs) where given, else the graph's triples in the
    default graph."""
    fmt = _choose(fixed, offered)
    if isinstance(fmt, Response):
        return fmt
    state = get_state()
    key = f"{etag_key}-{fmt.key}"

    def body() -> bytes:
        if fmt is HTML:
            return state.caches.body((key, script_root()), lambda: html(graph()))
        content: Callable[[], Graph | list[Quad]] = \
            quads if fmt.quads and quads is not None else graph
        reference = context_reference(state.settings, CONTEXT_PATH)
        return state.caches.body(
            (key, reference),
            lambda: serialize(content(), fmt, state.dataset.context, reference))

    if fmt is HTML:
        # A page is made by templates and, for the ontology, by pyLODE, which lists terms in
        # an order that changes from process to process: its validator names its bytes, so
        # that replicas never send different pages under one ETag.
        page = body()
        return finish(page, fmt, f"{key}-{zlib.crc32(page):08x}", path=path,
                      offered=offered, negotiated=fixed is None)
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


def _known(state: State, kind: str, local: str) -> bool:
    return kind in KINDS and bool(LOCAL_ID.fullmatch(local)) and \
        documents.exists(state.backend, f"{state.settings.base}id/{kind}/{local}")


def _renamed(state: State, path: str) -> Response | None:
    """301 to the new identifier of one renamed in a release (graph/redirects.csv)."""
    new = state.site.redirect_for(path)
    if new is None:
        return None
    response = Response(status=301)
    response.headers["Location"] = f"{script_root()}/{new}"
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@bp.get("/id/<kind>/<local>")
def thing(kind: str, local: str) -> Response:
    """A thing is not a document: 303 See Other to the document about it (Cool URIs)."""
    state = get_state()
    iri = f"{state.settings.base}id/{kind}/{local}"
    if not _known(state, kind, local):
        return _renamed(state, f"id/{kind}/{local}") or plain(
            404, f"No resource {iri} in this dataset.")
    response = see_other(page_path(iri, state.settings.base) or "/")
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/doc/<kind>/<name>")
def document(kind: str, name: str) -> Response:
    state = get_state()
    parts = _split_extension(name)
    if parts is None or not _known(state, kind, parts[0]):
        return _renamed(state, f"doc/{kind}/{name}") or plain(
            404, f"No document /doc/{kind}/{name} in this dataset.")
    local, fixed = parts
    base = state.settings.base
    return represent(
        f"/doc/{kind}/{local}", fixed, DOCUMENT_FORMATS,
        lambda: state.caches.document(
            (kind, local), lambda: documents.describe(state.backend, kind, local, base)),
        lambda doc: pages.resource_page(state.backend, doc, kind, local, base, state.site),
        f"doc-{kind}-{local}",
        lambda: documents.describe_quads(state.backend, kind, local, base))


# ---------------------------------------------------------------------------------------------
# Ontology, dataset metadata, named graphs, dumps


def _fixed(ext: str | None, missing: str) -> Format | None | Response:
    """The format an extension names; a 404 saying `missing` for an unknown extension."""
    if ext is None:
        return None
    fixed = FORMATS_BY_EXTENSION.get(ext)
    return fixed if fixed is not None else plain(404, missing)


@bp.get("/ontology")
@bp.get("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    fixed = _fixed(ext, f"No ontology document /ontology.{ext}.")
    if isinstance(fixed, Response):
        return fixed
    state = get_state()
    dataset = state.dataset
    return represent("/ontology", fixed, DOCUMENT_FORMATS, lambda: dataset.ontology,
                     lambda _: pages.ontology_page(dataset.ontology_html, state.settings.base)
                     if dataset.ontology_html else render_template(
                         "ontology_missing.html", title="Ontology", path="/ontology",
                         problem=dataset.ontology_problem), "ontology")


@bp.get("/ontology/<version>")
def ontology_version(version: str) -> Response:
    """The version IRI (owl:versionIRI) answers with the current ontology when it matches."""
    iri = URIRef(f"{ONTOLOGY_IRI}/{version}")
    if (URIRef(ONTOLOGY_IRI), None, iri) not in get_state().dataset.ontology:
        return plain(404, f"No ontology version {iri}.")
    return see_other(f"{script_root()}/ontology")


@bp.get("/.well-known/void")
@bp.get("/.well-known/void.<ext>")
def void(ext: str | None = None) -> Response:
    fixed = _fixed(ext, f"No dataset description /.well-known/void.{ext}.")
    if isinstance(fixed, Response):
        return fixed
    state = get_state()
    return represent("/.well-known/void", fixed, DOCUMENT_FORMATS, lambda: state.dataset.void,
                     lambda doc: pages.void_page(state.backend, doc, state.dataset.stats,
                                                 state.settings.base, state.site), "void")


@bp.get("/graph/<name>")
def named_graph(name: str) -> Response:
    """A named graph of the store (one per served file) is a document: served as it is."""
    state = get_state()
    parts = _split_extension(name)
    iri = f"{state.settings.base}graph/{parts[0]}" if parts else ""
    if parts is None or not LOCAL_GRAPH.fullmatch(parts[0]) or \
            not documents.named_graph_exists(state.backend, iri):
        return _renamed(state, f"graph/{name}") or plain(
            404, f"No named graph /graph/{name} in this dataset.")
    local, fixed = parts
    path = f"/graph/{local}"
    return represent(path, fixed, DOCUMENT_FORMATS,
                     lambda: documents.named_graph(state.backend, iri),
                     lambda doc: pages.named_graph_page(state.backend, doc, iri, path,
                                                        state.settings.base),
                     f"graph-{local}", lambda: documents.named_graph_quads(state.backend, iri))


@bp.get("/dataset")
def dataset() -> Response:
    """The dataset's IRI (<base>dataset) is described by the VoID document."""
    return see_other(f"{script_root()}/.well-known/void")


@bp.get("/dump/<name>")
def dump(name: str) -> Response:
    """The whole dataset in one file: RDF by URL (compressed in transit when the client
    accepts it), or the .gz file to download; byte ranges resume either."""
    spec = next((d for d in documents.DUMP_FORMATS if d[0] == name), None)
    if spec is None:
        return plain(404, f"No dump {name}; dumps: "
                          + ", ".join(d[0] for d in documents.DUMP_FORMATS))
    _, fmt, gzipped = spec
    state = get_state()

    def made(file: str) -> bytes:
        # JSON-LD carries its context inline: a saved dump expands without this server.
        return state.caches.dump(file, lambda: documents.dump(state.backend, file,
                                                              state.dataset.context))

    if gzipped:
        # A file of gzip bytes, not a coding of the N-Triples: sent as it is. Compressed
        # from the very bytes of /dump/mmkg.nt (made first: the lock is not re-entrant).
        def download() -> bytes:
            plain_bytes = made(name.removesuffix(".gz"))
            return state.caches.dump(name, lambda: gzip.compress(plain_bytes, mtime=0))

        return finish(download, None, f"dump-{name}", mimetype="application/gzip",
                      headers={"Content-Disposition": f'attachment; filename="{name}"'},
                      compress=False, ranges=True)

    def body() -> bytes:
        return made(name)

    def coded() -> bytes:
        identity = body()  # made first: the dump cache's lock is not re-entrant
        return state.caches.dump(f"{name} gzip-coded",
                                 lambda: gzip.compress(identity, compresslevel=6, mtime=0))

    return finish(body, fmt, f"dump-{name}", ranges=True, gzipped=coded)


@bp.get(CONTEXT_PATH)
def context() -> Response:
    body = json.dumps({"@context": get_state().dataset.context}, indent=2)
    return finish(body, None, "context", mimetype="application/ld+json")


# ---------------------------------------------------------------------------------------------
# Pages for people


def html_page(name: str, build: Callable[[State], str]) -> Response:
    """A page for people that depends only on the data: built once, served with validators."""
    state = get_state()
    return finish(lambda: state.caches.body((name, HTML.key, script_root()),
                                            lambda: build(state)), HTML, f"{name}-html")


@bp.get("/")
def landing() -> Response:
    root = script_root()
    response = html_page("landing", lambda state: timeline.landing_page(
        state.backend, state.dataset.stats, state.settings.base, state.site,
        public_root(state.settings)))
    response.headers["Link"] = (
        f'<{root}/.well-known/void>; rel="describedby"; type="text/turtle", '
        f'<{root}/sparql>; rel="service", <{root}{CONTEXT_PATH}>; rel="alternate"; '
        'type="application/ld+json"')
    return response


@functools.cache
def _favicon() -> bytes:
    return (resources.files("mmkg") / "static" / "favicon.ico").read_bytes()


@bp.get("/favicon.ico")
def favicon() -> Response:
    return finish(_favicon(), None, "favicon", mimetype="image/x-icon")
