"""The shared fixtures: graphs and apps over the shipped data and over the small linked-data
fixture, each built once per session (read-only: do not write to them). Fixtures a single
module needs stay in that module, under names that say what they are."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers import SCRIPT_LABEL, ld_fixture_settings
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg import files
from mmkg.kg.store import Backend, KnowledgeGraph, load_graph, served_files
from mmkg.state import get_state


@pytest.fixture(scope="session", autouse=True)
def user_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never read or write the user's cache directory (verdicts, pre-built
    responses): the default one is a fresh folder for the session."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def shipped_graph() -> KnowledgeGraph:
    """The shipped ontology and data, loaded once (validated by kg/test_graph.py)."""
    return load_graph(files.default_data_files())


@pytest.fixture(scope="session")
def shipped_app(shipped_graph: KnowledgeGraph) -> Iterator[Flask]:
    """The app with default settings over the shipped graph."""
    app = create_app(Settings(), graph=shipped_graph)
    yield app
    get_state(app).backend.close()


@pytest.fixture()
def shipped_client(shipped_app: Flask) -> FlaskClient:
    return shipped_app.test_client()


@pytest.fixture(scope="session")
def fixture_app() -> Iterator[Flask]:
    """The app over the linked-data fixture and a label that is markup (not validated: the
    views are tested while the data may be being edited)."""
    settings = ld_fixture_settings(SCRIPT_LABEL)
    app = create_app(settings, graph=load_graph(served_files(settings)))
    yield app
    get_state(app).backend.close()


@pytest.fixture(scope="session", params=["fixture", "shipped"])
def ld_app(request: pytest.FixtureRequest) -> Flask:
    """The linked-data views over the small fixture, then over the shipped data."""
    app: Flask = request.getfixturevalue(f"{request.param}_app")
    return app


@pytest.fixture()
def ld_client(ld_app: Flask) -> FlaskClient:
    return ld_app.test_client()


@pytest.fixture(scope="session")
def ld_backend(ld_app: Flask) -> Backend:
    return get_state(ld_app).backend
