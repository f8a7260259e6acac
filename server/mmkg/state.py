"""The one owner of the app's state: the settings, the backend that answers, and what each
room computed once at start or keeps once made. Views reach it with `get_state()`, as
flaskr's views reach the database with `get_db()`; nothing else is kept on the app."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from .config import Settings
from .kg import files
from .kg.store import Backend
from .linkeddata.caches import Caches, DatasetDocuments
from .linkeddata.site import REDIRECTS_FILE, Site
from .sparql.cache import AnswerCache
from .web.urls import permanent_root
from .wikidata.identifiers import WikidataLinks

_KEY = "mmkg"


@dataclass
class State:
    """Everything an app serves from: built by `create_app`, read by every view."""

    settings: Settings
    backend: Backend
    dataset: DatasetDocuments  # VoID, ontology, JSON-LD context, statistics
    wikidata: WikidataLinks  # QID links, identifier patterns, reconciliation index
    site: Site  # release, redirects, search index: what the pages for people need
    answers: AnswerCache  # SPARQL answers, bounded by --query-cache-mb
    caches: Caches = field(default_factory=Caches)  # documents, bodies, dumps
    graph_sizes: list[tuple[str, int]] | None = None  # the service description's, on first use
    # True while pages are written for a static host (`mmkg publish`): they link to what
    # needs the app (search, /sparql, /reconcile) only where --public-url names one.
    static: bool = False

    @classmethod
    def build(cls, settings: Settings, backend: Backend, local: Backend | None = None) -> State:
        """Compute what is computed once: the dataset-level documents and the Wikidata index.
        `local` is the validated local graph when `backend` is another (remote) one: the
        ontology ships with the server and is documented from it."""
        # Identifiers renamed in a release redirect to the new ones (the shipped data only).
        redirects = None if settings.no_default_data else files.graph_dir() / REDIRECTS_FILE
        return cls(settings=settings, backend=backend,
                   dataset=DatasetDocuments.build(backend, settings.base, local or backend),
                   wikidata=WikidataLinks.build(backend, settings.base),
                   site=Site.build(backend, settings.base, redirects,
                                   permanent_root(settings)),
                   answers=AnswerCache(settings.query_cache_half))


def init_app(app: Flask, state: State) -> None:
    app.extensions[_KEY] = state


def get_state(app: Flask | None = None) -> State:
    """The state of `app`, or of the app handling the current request."""
    state: State = (app or current_app).extensions[_KEY]
    return state
