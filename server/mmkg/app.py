"""The Flask app factory: load and validate the graph once at start, then register the views."""

from __future__ import annotations

from flask import Flask

from .config import Settings
from .kg.store import Backend, KnowledgeGraph, load_graph, served_files


class DataNotValid(Exception):
    """The data does not conform to the shapes; the server refuses to start on it."""

    def __init__(self, report: object) -> None:
        super().__init__(str(report))
        self.report = report


def build_graph(settings: Settings) -> KnowledgeGraph:
    """Load every served file and refuse data with any SHACL violation."""
    from .kg.validate import validate_graph

    graph = load_graph(served_files(settings))
    report = validate_graph(graph)
    if not report.conforms:
        raise DataNotValid(report.to_text())
    return graph


def create_app(settings: Settings | None = None, graph: KnowledgeGraph | None = None) -> Flask:
    """A configured app. Pass `graph` to reuse an already validated graph (tests, workers)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MMKG_SETTINGS"] = settings
    graph = graph if graph is not None else build_graph(settings)
    backend: Backend
    if settings.sparql_endpoint:
        # Queries and resource pages read through the external endpoint; the local files were
        # still validated above, and describe the dataset (version, files).
        from .kg.remote import remote_for

        backend = remote_for(settings.sparql_endpoint, graph, settings.query_timeout)
    else:
        backend = graph.serving(settings)
    app.extensions["mmkg"] = backend
    for register in _blueprint_registrars():
        register(app)
    return app


def _blueprint_registrars() -> list:
    """Each view module exposes `init_app(app)`; the order is the routing order."""
    from .linkeddata import views as resources
    from .sparql import views as sparql
    from .wikidata import views as linking

    return [sparql.init_app, linking.init_app, resources.init_app]


def current_graph(app: Flask) -> Backend:
    return app.extensions["mmkg"]


def current_settings(app: Flask) -> Settings:
    return app.config["MMKG_SETTINGS"]
