"""Where the shipped ontology, data and shapes are: package data of the installed distribution."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("mmkg") / "data" / name))


def ontology_dir() -> Path:
    return _package_dir("ontology")


def graph_dir() -> Path:
    return _package_dir("graph")


def shapes_dir() -> Path:
    return _package_dir("shapes")


def default_data_files() -> list[Path]:
    """The files served by default: the ontology and vocabularies, then the data."""
    return sorted(ontology_dir().glob("*.ttl")) + sorted(graph_dir().glob("*.ttl"))


def shapes_files() -> list[Path]:
    return sorted(shapes_dir().glob("*.ttl"))
