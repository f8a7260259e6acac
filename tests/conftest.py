"""Shared graph fixtures. Helpers with their own needs keep their fixtures in their modules."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg import files as package_data
from mmkg.kg.store import KnowledgeGraph, load_graph


@pytest.fixture(scope="session")
def shipped_graph() -> KnowledgeGraph:
    """The shipped ontology and data, loaded once per test session (read-only: do not write)."""
    return load_graph(package_data.default_data_files())


@pytest.fixture(scope="session")
def shipped_app(shipped_graph: KnowledgeGraph) -> Flask:
    """The app with default settings over the shipped graph (validated once by test_graph)."""
    return create_app(Settings(), graph=shipped_graph)


@pytest.fixture()
def shipped_client(shipped_app: Flask) -> FlaskClient:
    return shipped_app.test_client()
