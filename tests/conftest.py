"""Shared graph fixtures. Helpers with their own needs keep their fixtures in their modules."""

from __future__ import annotations

import pytest

from mmkg import package_data
from mmkg.store import KnowledgeGraph, load_graph


@pytest.fixture(scope="session")
def shipped_graph() -> KnowledgeGraph:
    """The shipped ontology and data, loaded once per test session (read-only: do not write)."""
    return load_graph(package_data.default_data_files())
