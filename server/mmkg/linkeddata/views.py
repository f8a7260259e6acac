"""The linked-data views: /id → 303 → /doc, content negotiation, ontology, VoID, named graphs,
dumps, the JSON-LD context and the landing page.

Views only translate HTTP: documents come from `documents`, pages from `pages`/`timeline`,
bytes from `formats`, headers from `web.http`. Nothing here reads a file named by a request.
"""

from __future__ import annotations

import functools
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
    negotiate,
    offered_text,
    serialize,
)
from ..state import State, get_state
from ..uris import KINDS, LOCAL_ID, ONTOLOGY_IRI
from ..web.http import cacheable, not_modified, plain, see_other
from ..web.urls import page_path, root_url, script_root
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
    return f"{state.backend.version}-{key}"


def _context_url() -> str:
    """The JSON-LD context on the serving host (RULINGS: never a w3id URL not yet registered)."""
    return root_url() + CONTEXT_PATH


def _jsonld_key(key: str) -> str:
    """A JSON-LD body names the serving host's context, so its validator varies with the host."""
    return f"{key}-{zlib.crc32(_context_url().encode()):08x}"


def _rooted_key(key: str) -> str:
    """A page links to paths under the script root, so its validator varies with the root
    (unchanged at the host's root)."""
    root = script_root()
    return f"{key}-{zlib.crc32(root.encode()):08x}" if root else key


def _link_header(path: str, offered: Sequence[Format]) -> str:
    return ", ".join(f'<{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
                     for f in offered)


def finish(body: bytes | str, fmt: Format | None, etag_key: str, *, mimetype: str = "",
           path: str = "", offered: Sequence[Format] = (), negotiated: bool = False) -> Response:
    """A data response: its validators, alternates and (when negotiated) Content-Location."""
    state = get_state()
    headers = {}
    if negotiated and fmt is not None:
        headers["Content-Location"] = f"{script_root()}{path}.{fmt.extension}"
    if path and offered:
        headers["Link"] = _link_header(script_root() + path, offered)
    return cacheable(body, fmt.content_type if fmt else mimetype, _etag(state, etag_key),
                     state.backend.modified, vary=["Accept"] if negotiated else [],
                     headers=headers)


def represent(path: str, fixed: Format | None, offered: Sequence[Format],
              graph: Callable[[], Graph], html: Callable[[Graph], str], etag_key: str) -> Response:
    """One document in the chosen format (negotiated unless `fixed`)."""
    fmt = _choose(fixed, offered)
    if isinstance(fmt, Response):
        return fmt
    state = get_state()
    key = f"{etag_key}-{fmt.key}"
    if fmt is JSON_LD:
        key = _jsonld_key(key)
    elif fmt is HTML:
        key = _rooted_key(key)
    if not_modified(_etag(state, key), state.backend.modified):
        return finish(b"", fmt, key, path=path, offered=offered,
                      negotiated=fixed is None)  # make_conditional turns it into a 304
    if fmt is HTML:
        body = state.caches.body((etag_key, fmt.key, script_root()), lambda: html(graph()))
    else:
        # The JSON-LD context is named by URL on the serving host, so the host is in the key.
        context_url = _context_url()
        body = state.caches.body(
            (etag_key, fmt.key, context_url),
            lambda: serialize(graph(), fmt, state.dataset.context, context_url))
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


@bp.get("/id/<kind>/<local>")
def thing(kind: str, local: str) -> Response:
    """A thing is not a document: 303 See Other to the document about it (Cool URIs)."""
    state = get_state()
    iri = f"{state.settings.base}id/{kind}/{local}"
    if not _known(state, kind, local):
        return plain(404, f"No resource {iri} in this dataset.")
    response = see_other(page_path(iri, state.settings.base) or "/")
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/doc/<kind>/<name>")
def document(kind: str, name: str) -> Response:
    state = get_state()
    parts = _split_extension(name)
    if parts is None or not _known(state, kind, parts[0]):
        return plain(404, f"No document /doc/{kind}/{name} in this dataset.")
    local, fixed = parts
    base = state.settings.base
    return represent(
        f"/doc/{kind}/{local}", fixed, DOCUMENT_FORMATS,
        lambda: state.caches.document(
            (kind, local), lambda: documents.describe(state.backend, kind, local, base)),
        lambda doc: pages.resource_page(state.backend, doc, kind, local, base),
        f"doc-{kind}-{local}")


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
    dataset = get_state().dataset
    return represent("/ontology", fixed, DOCUMENT_FORMATS, lambda: dataset.ontology,
                     lambda _: dataset.ontology_html or render_template(
                         "ontology_missing.html", title="Ontology",
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
                                                 state.settings.base), "void")


@bp.get("/graph/<name>")
def named_graph(name: str) -> Response:
    """A named graph of the store (one per served file) is a document: served as it is."""
    state = get_state()
    parts = _split_extension(name)
    iri = f"{state.settings.base}graph/{parts[0]}" if parts else ""
    if parts is None or not LOCAL_GRAPH.fullmatch(parts[0]) or \
            not documents.named_graph_exists(state.backend, iri):
        return plain(404, f"No named graph /graph/{name} in this dataset.")
    local, fixed = parts
    path = f"/graph/{local}"
    return represent(path, fixed, DOCUMENT_FORMATS,
                     lambda: documents.named_graph(state.backend, iri),
                     lambda doc: pages.named_graph_page(state.backend, doc, iri, path,
                                                        state.settings.base),
                     f"graph-{local}")


@bp.get("/dataset")
def dataset() -> Response:
    """The dataset's IRI (<base>dataset) is described by the VoID document."""
    return see_other(f"{script_root()}/.well-known/void")


@bp.get("/dump/<name>")
def dump(name: str) -> Response:
    spec = next((d for d in documents.DUMP_FORMATS if d[0] == name), None)
    if spec is None:
        return plain(404, f"No dump {name}; dumps: "
                          + ", ".join(d[0] for d in documents.DUMP_FORMATS))
    _, fmt, gzipped = spec
    state = get_state()
    key = _jsonld_key(f"dump-{name}") if fmt is JSON_LD else f"dump-{name}"
    if not_modified(_etag(state, key), state.backend.modified):
        return finish(b"", None, key, mimetype=fmt.media_type)
    body = state.caches.dump(name, lambda: documents.dump(state.backend, name,
                                                          state.dataset.context))
    if gzipped:
        # Already compressed: sent as a .gz file, not re-encoded.
        return cacheable(body, "application/gzip", _etag(state, key), state.backend.modified,
                         headers={"Content-Disposition": f'attachment; filename="{name}"'},
                         compress=False)
    if fmt is JSON_LD:
        context_url = _context_url()
        body = state.caches.body(("dump", name, context_url),
                                 lambda: _with_context(body, context_url))
    return finish(body, fmt, key)


def _with_context(jsonld: bytes, context_url: str) -> bytes:
    doc = json.loads(jsonld)
    doc["@context"] = context_url
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


@bp.get(CONTEXT_PATH)
def context() -> Response:
    body = json.dumps({"@context": get_state().dataset.context}, indent=2)
    return finish(body, None, "context", mimetype="application/ld+json")


# ---------------------------------------------------------------------------------------------
# Pages for people


@bp.get("/")
def landing() -> Response:
    state = get_state()
    key = _rooted_key("landing-html")
    if not_modified(_etag(state, key), state.backend.modified):
        return finish(b"", HTML, key)
    body = timeline.landing_page(state.backend, state.dataset.stats, state.settings.base)
    response = finish(body, HTML, key)
    response.headers["Link"] = (
        '</.well-known/void>; rel="describedby"; type="text/turtle", '
        f'</sparql>; rel="service", <{CONTEXT_PATH}>; rel="alternate"; '
        'type="application/ld+json"')
    return response


@functools.cache
def _favicon() -> bytes:
    return (resources.files("mmkg") / "static" / "favicon.ico").read_bytes()


@bp.get("/favicon.ico")
def favicon() -> Response:
    return finish(_favicon(), None, "favicon", mimetype="image/x-icon")
