"""Everything the server publishes as documents, made once per data version: every resource's
document in every format and its page, the ontology, the VoID, the named graphs, the dumps,
the JSON-LD context and the landing page.

`published()` lists the paths; `prebuilt()` records the app's answers to all of them in the
cache directory (web/prebuilt.py) so that requests are answered from there; `static_site.py`
writes the same answers to a folder for any static host (`mmkg publish`).
"""

from __future__ import annotations

import sys

from flask import Flask

from .. import __version__, cachedir
from ..formats import DOCUMENT_FORMATS
from ..state import State, get_state
from ..web.prebuilt import Published, ResponseStore, Sink, StoreWriter, open_or_build, record
from . import documents
from .caches import Caches
from .context import CONTEXT_PATH
from .kinds import INDEX_PAGES
from .views import LOCAL_GRAPH


def _negotiated(path: str) -> list[Published]:
    """A negotiated document and its fixed-format URLs (path.ttl, path.html, ...)."""
    return [Published(path, DOCUMENT_FORMATS),
            *(Published(f"{path}.{fmt.extension}") for fmt in DOCUMENT_FORMATS)]


def published(state: State) -> list[Published]:
    """Every path the linked-data views answer with a document, a page or a redirect that
    does not depend on the request (beyond Accept and Accept-Encoding)."""
    backend, base = state.backend, state.settings.base
    paths = [Published("/"), Published(CONTEXT_PATH), Published("/favicon.ico"),
             Published("/dataset"), *_negotiated("/ontology"), *_negotiated("/.well-known/void")]
    paths += [Published(f"/dump/{name}") for name, _, _ in documents.DUMP_FORMATS]
    # The index pages, the corrections log and what crawlers read (linkeddata/site_views.py).
    paths += [Published(f"/{name}") for name in INDEX_PAGES]
    paths += [Published("/corrections"), Published("/sitemap.xml"), Published("/robots.txt")]
    for name in documents.named_graphs(backend, base):
        if LOCAL_GRAPH.fullmatch(name):
            paths += _negotiated(f"/graph/{name}")
    for kind, local in documents.resources(backend, base):
        paths += [Published(f"/id/{kind}/{local}"), *_negotiated(f"/doc/{kind}/{local}")]
    return paths


def store_path(state: State) -> str:
    """The store's file name: a hash of the data, the code and the settings that shape
    responses (any change means a new store; the old ones are pruned)."""
    return cachedir.key(cachedir.files_digest(state.backend.files), cachedir.code_fingerprint(),
                        cachedir.settings_fingerprint(state.settings)) + ".sqlite"


def record_all(app: Flask, sink: Sink, what: str) -> int:
    """Record every published answer of `app` into `sink`, then drop what the views kept in
    memory while answering (the recorded bytes are what is served from now on)."""
    state = get_state(app)
    paths = published(state)
    count = record(app, paths, sink, total=len(paths), what=what)
    state.caches = Caches()
    return count


def prebuilt(app: Flask) -> ResponseStore:
    """The app's pre-built answers for this data version, recorded first if missing (a cold
    first start: progress is shown on stderr)."""
    state = get_state(app)
    path = cachedir.cache_root(state.settings) / "responses" / store_path(state)

    def build(writer: StoreWriter) -> dict[str, str]:
        print(f"mmkg: no pre-built documents for this data version in {path.parent}: "
              "building them once (later starts reuse them)", file=sys.stderr, flush=True)
        count = record_all(app, writer, "building every document and page")
        return {"data": state.backend.version, "mmkg": __version__, "responses": str(count)}

    return open_or_build(path, build)
