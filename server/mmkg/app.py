"""The Flask app factory: load and validate the graph once, open the backend, build the state,
then register the app-wide hooks and the views of each room."""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from . import __version__
from .config import Settings
from .kg.remote import remote_for
from .kg.store import Backend, KnowledgeGraph
from .kg.validate import load_validated
from .linkeddata import site_views
from .linkeddata import views as linkeddata_views
from .linkeddata.facts import format_date
from .linkeddata.kinds import APP_ONLY, NAVIGATION
from .sparql import views as sparql_views
from .sparql.workers import PoolConfig
from .state import State, get_state, init_app
from .web import ops
from .web.answer_replay import AnswerReplay
from .web.errors import error_pages_for_browsers, not_allowed, not_found
from .web.hardening import refuse_hostile_paths
from .web.http import allow_cross_origin, answer_preflight
from .web.urls import app_root, permanent_root
from .wikidata import views as wikidata_views


def create_app(settings: Settings | None = None, graph: KnowledgeGraph | None = None) -> Flask:
    """A configured app. Pass `graph` to reuse an already validated graph (tests, workers)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    graph = graph if graph is not None else load_validated(settings)
    init_app(app, State.build(settings, open_backend(settings, graph), graph))

    app.jinja_env.autoescape = True
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["mmkg_version"] = __version__
    app.jinja_env.globals["navigation"] = NAVIGATION
    app.jinja_env.globals["app_only"] = APP_ONLY
    app.context_processor(_site_context)
    app.context_processor(_links_to_the_app)
    # Hooks for every route: hostile paths are refused before anything else runs; any web
    # page may read any response (CORS, set here only); error messages are plain text, shown
    # to browsers as pages in the site's layout.
    app.before_request(ops.start_timer)  # first in, so refusals are timed and counted too
    app.before_request(refuse_hostile_paths)
    app.before_request(answer_preflight)
    app.before_request(_find_the_app)
    app.after_request(allow_cross_origin)
    app.after_request(error_pages_for_browsers)
    app.after_request(ops.record)
    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_allowed)
    # Routes do not overlap, so the order of registration does not matter.
    for views in (linkeddata_views, site_views, sparql_views, wikidata_views, ops):
        app.register_blueprint(views.bp)
    # A repeated query is answered in front of Flask, from the whole response it got the
    # first time (web/answer_replay.py): half of --query-cache-mb; the answer cache, which
    # spares the engine for requests that differ only in ways the replay does not know,
    # has the other half.
    app.wsgi_app = AnswerReplay(  # type: ignore[method-assign]
        app.wsgi_app, settings.query_cache_half)
    return app


def _site_context() -> dict[str, Any]:
    """What the layout shows on every page: the release and where to report an error."""
    state = get_state()
    return {"release": state.site.release, "report_to": state.settings.report_errors_to,
            "site_base": permanent_root(state.settings),
            "dataset_iri": state.settings.base + "dataset"}


def _find_the_app() -> None:
    """Where pages link for what needs the app (search, /sparql, /reconcile): here, or only
    where --public-url names one when pages are written for a static host. On `g` for the
    links that values of the data make (web.urls.page_path), and for the templates."""
    state = get_state()
    g.app_root = app_root(state.static, state.settings.public_url)


def _links_to_the_app() -> dict[str, str | None]:
    return {"app_root": g.get("app_root", app_root(False, ""))}


def open_backend(settings: Settings, graph: KnowledgeGraph) -> Backend:
    """The embedded store with its own query workers, or the external endpoint when one is
    set (the local files were still validated, and describe the dataset: version, files)."""
    if settings.sparql_endpoint:
        return remote_for(settings.sparql_endpoint, graph, settings.query_timeout,
                          PoolConfig.of(settings), settings.sparql_default_graph)
    return graph.serving(settings)
