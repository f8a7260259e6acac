"""The package's layout keeps its promises: no module imports another that imports it back
(at the top or inside a function), and domain rooms stay free of Flask."""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from pathlib import Path

import mmkg
from helpers import REPOSITORY

PACKAGE = REPOSITORY / "server" / "mmkg"  # the source, also when CI installs a copy
# Rooms that must not know about HTTP (they serve the command line, the tests, the views).
NO_FLASK = ("mmkg.kg", "mmkg.config", "mmkg.uris", "mmkg.formats", "mmkg.cachedir",
            "mmkg.progress", "mmkg.sparql.cache",
            "mmkg.sparql.errors", "mmkg.sparql.guard", "mmkg.sparql.results",
            "mmkg.sparql.workers", "mmkg.sparql.sandbox", "mmkg.sparql.service",
            "mmkg.sparql.admission", "mmkg.metrics",
            "mmkg.linkeddata.documents", "mmkg.linkeddata.context", "mmkg.linkeddata.caches",
            "mmkg.linkeddata.ontology_docs", "mmkg.wikidata.identifiers",
            "mmkg.wikidata.reconcile", "mmkg.wikidata.extend", "mmkg.wikidata.exports")


def module_name(path: Path) -> str:
    parts = ["mmkg", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module this one imports, anywhere in its code (absolute names)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: {i for i in imports(path) if i in MODULES and i != name}
         for name, path in MODULES.items()}


def test_there_are_modules_to_check() -> None:
    assert {"mmkg.app", "mmkg.state", "mmkg.kg.store", "mmkg.sparql.views"} <= set(MODULES)


def test_no_import_cycles() -> None:
    """A depth-first search over the import graph (package __init__ files are docstrings
    only, so importing `mmkg.kg.store` is an edge to that module alone)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_package_inits_hold_no_code() -> None:
    for name, path in MODULES.items():
        if path.name == "__init__.py" and name != "mmkg":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert all(isinstance(n, ast.Expr) for n in tree.body), name


def test_domain_rooms_do_not_import_flask() -> None:
    for name, path in MODULES.items():
        if name.startswith(NO_FLASK):
            flask = {i for i in imports(path) if i == "flask" or i.startswith("flask.")}
            assert not flask, f"{name} imports {sorted(flask)}"


def test_the_version_is_written_once() -> None:
    """pyproject.toml reads the version from mmkg.__version__: the two always agree."""
    assert importlib.metadata.version("mmkg") == mmkg.__version__
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
