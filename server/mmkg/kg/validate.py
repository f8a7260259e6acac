"""SHACL validation of the knowledge graph, and the `mmkg validate` command.

One domain function (`validate_graph`) serves the command, the server start-up
(`load_validated`) and the tests.
pyshacl runs on the union of every loaded file, so links across files are checked; the
ontology is part of that data, and no inference runs (it would hide missing triples).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from ..config import Settings, Subcommands
from ..uris import ID, KINDS, ONTOLOGY_IRI, PREFIXES
from . import files as shipped_files
from .loader import LoadError, expand_paths, graph_name
from .store import KnowledgeGraph, load_graph, served_files, to_rdflib

SHAPES = "https://w3id.org/mmkg/shapes#"

# Prefixes for readable output: the standard ones, our shapes, and one per kind of resource
# (state:pl, invocation:mm-2025-07-ua-pow), as the data files write them.
DISPLAY_PREFIXES: dict[str, str] = {
    **{kind: f"{ID}{kind}/" for kind in KINDS},
    **PREFIXES,
    "mmsh": SHAPES,
}

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass
class Finding:
    """One SHACL result, in terms a data editor can act on."""

    severity: str  # "Violation" | "Warning" | "Info"
    file: str | None  # the file(s) where the focus node is described, comma-separated
    focus_node: str  # full IRI (or blank node id)
    path: str | None  # full IRI of the property; "^" + IRI for an inverse path
    message: str
    constraint: str  # e.g. "sh:MinCountConstraintComponent"
    shape: str | None  # the shape (a prefixed name), or the node shape owning a blank one
    value: str | None


@dataclass
class ValidationReport:
    """All findings of one validation run."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def to_text(self) -> str:
        """One readable line per finding (severity, file, focus node, path, message), then a
        summary line."""
        lines = []
        for f in self.findings:
            where = f"{display_file(f.file)}: " if f.file else ""
            path = f" {shorten_path(f.path)}" if f.path else ""
            value = f" (value: {shorten(f.value)})" if f.value is not None else ""
            lines.append(f"{f.severity}: {where}{shorten(f.focus_node)}{path}: {f.message}"
                         f"{value} [{f.constraint}]")
        verdict = "conforms" if self.conforms else "does NOT conform"
        lines.append(f"{verdict}: {len(self.violations)} violation(s), "
                     f"{len(self.warnings)} warning(s)")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({
            "conforms": self.conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "findings": [asdict(f) for f in self.findings],
        }, ensure_ascii=False, indent=2)


def shorten(term: str | None) -> str:
    """A full IRI as a prefixed name where one of our prefixes fits (longest namespace wins)."""
    if term is None:
        return ""
    inverse = term.startswith("^")
    iri = term[1:] if inverse else term
    best = None
    for prefix, namespace in DISPLAY_PREFIXES.items():
        if iri.startswith(namespace) and (best is None or len(namespace) > len(best[1])):
            best = (prefix, namespace)
    if best and _is_local_name(iri[len(best[1]):]):
        short = f"{best[0]}:{iri[len(best[1]):]}"
    elif iri.startswith(("http://", "https://", "urn:")):
        short = f"<{iri}>"
    else:
        short = iri
    return ("^" if inverse else "") + short


def shorten_path(path: str | None) -> str:
    """A path as text with prefixed names (alternatives "a|b" shortened one by one)."""
    return "|".join(shorten(part) for part in (path or "").split("|"))


def _is_local_name(local: str) -> bool:
    return all(c.isalnum() or c in "-_." for c in local) and not local.endswith(".")


def display_file(file: str | None) -> str:
    """A file path relative to the working directory where it is inside it."""
    if not file:
        return ""
    shown = []
    for one in file.split(", "):
        if "://" in one:  # a named graph of a quad file, not a file path
            shown.append(one)
            continue
        try:
            shown.append(str(Path(one).resolve().relative_to(Path.cwd())))
        except ValueError:
            shown.append(one)
    return ", ".join(shown)


@lru_cache(maxsize=8)
def _shapes_graph(files: tuple[Path, ...]) -> Graph:
    shapes = Graph()
    for path in files:
        shapes.parse(path, format="turtle")
    return shapes


def shapes_graph() -> Graph:
    """The shipped data shapes and ontology shapes, parsed once per process."""
    return _shapes_graph(tuple(shipped_files.shapes_files()))


def union_graph(graph: KnowledgeGraph) -> Graph:
    """Every triple of every named graph of the store, as one rdflib Graph (what pyshacl reads).

    Read from the store, not the files: what is validated is exactly what is served.
    """
    union = Graph()
    add = union.add
    terms: dict[object, Node] = {}  # each term converted once: literals are costly to build

    def term(value: object) -> Node:
        found = terms.get(value)
        if found is None:
            found = terms[value] = to_rdflib(value)
        return found

    # rdflib logs a traceback for each ill-typed literal ("2011-02-30"^^xsd:date); the
    # shapes report those as findings, so the log would only repeat them noisily.
    term_log = logging.getLogger("rdflib.term")
    level = term_log.level
    term_log.setLevel(logging.CRITICAL)
    try:
        for quad in graph.store:
            add((term(quad.subject), term(quad.predicate), term(quad.object)))
    finally:
        term_log.setLevel(level)
    return union


def validate_graph(graph: KnowledgeGraph, shapes: Graph | None = None) -> ValidationReport:
    """Validate the union of a loaded graph against the shapes (default: the shipped ones)."""
    shapes = resolve_sparql_targets(shapes if shapes is not None else shapes_graph(), graph)
    data = union_graph(graph)
    # sh:class follows rdfs:subClassOf in the data graph; the shipped class hierarchy makes a
    # file checkable without the ontology beside it (this adds no instance data).
    data += class_hierarchy()
    _conforms, results, _text = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True,
        inplace=True, abort_on_first=False,
    )
    if not isinstance(results, Graph):  # pyshacl reports broken shapes this way
        raise RuntimeError(f"the shapes could not be applied: {results}")
    files_by_graph = {graph_name(Path(p)).value: str(p) for p in graph.files}
    findings = [_finding(results, shapes, r, graph, files_by_graph)
                for r in results.subjects(RDF.type, SH.ValidationResult)]
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    findings.sort(key=lambda f: (order.get(f.severity, 3), f.file or "", f.focus_node,
                                 f.path or "", f.constraint))
    return ValidationReport(findings)


def resolve_sparql_targets(shapes: Graph, graph: KnowledgeGraph) -> Graph:
    """A copy of the shapes with each SHACL-AF SPARQL target replaced by the nodes it selects.

    The target queries run in Oxigraph over the union of all graphs (milliseconds), not in
    rdflib's engine; pyshacl then checks only those nodes. A rule's target selects the
    resources that break it, so on valid data its SPARQL constraint never runs.
    """
    resolved = Graph()
    for triple in shapes:
        resolved.add(triple)
    for shape, target in list(shapes.subject_objects(SH.target)):
        if (target, RDF.type, SH.SPARQLTarget) not in shapes:
            continue
        select = shapes.value(target, SH.select)
        header = "".join(f"PREFIX {prefix}: <{namespace}>\n"
                         for prefix, namespace in _declared_prefixes(shapes, target))
        resolved.remove((shape, SH.target, target))
        for row in graph.select(header + str(select)):
            resolved.add((shape, SH.targetNode, row["this"]))
    return resolved


def _declared_prefixes(shapes: Graph, node: Node) -> list[tuple[str, str]]:
    prefixes = []
    for owner in shapes.objects(node, SH.prefixes):
        for declaration in shapes.objects(owner, SH.declare):
            prefixes.append((str(shapes.value(declaration, SH.prefix)),
                             str(shapes.value(declaration, SH.namespace))))
    return prefixes


@lru_cache(maxsize=1)
def _class_hierarchy(files: tuple[Path, ...]) -> Graph:
    ontology = Graph()
    for path in files:
        ontology.parse(path, format="turtle")
    hierarchy = Graph()
    for triple in ontology.triples((None, RDFS.subClassOf, None)):
        hierarchy.add(triple)
    return hierarchy


def class_hierarchy() -> Graph:
    """The rdfs:subClassOf axioms of the shipped ontology (read once per process)."""
    return _class_hierarchy(tuple(sorted(shipped_files.ontology_dir().glob("*.ttl"))))


def validate_paths(paths: Iterable[Path | str],
                   add_shipped_ontology: bool = False) -> ValidationReport:
    """Parse files (folders mean their RDF files) all or nothing, then validate them.

    With `add_shipped_ontology` (what `mmkg validate` does), data without the ontology beside
    it (a copy of graph/, an extract) is validated together with the shipped ontology and
    vocabularies, which hold the concepts and classes it uses.
    Raises loader.LoadError for a missing or malformed file; nothing is validated then.
    """
    files = expand_paths(paths)
    if not files:
        raise LoadError(Path(" ".join(str(p) for p in paths) or "."), "no RDF files to validate")
    graph = load_graph(files)
    if add_shipped_ontology and not graph.ask(f"ASK {{ <{ONTOLOGY_IRI}> a <{OWL.Ontology}> }}"):
        shipped = sorted(shipped_files.ontology_dir().glob("*.ttl"))
        graph = load_graph([*shipped, *files])
    return validate_graph(graph)


class DataNotValid(Exception):
    """The data does not conform to the shapes; the server refuses to start on it."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


def load_validated(settings: Settings) -> KnowledgeGraph:
    """Load every served file and refuse data with any SHACL violation (DataNotValid)."""
    graph = load_graph(served_files(settings))
    report = validate_graph(graph)
    if not report.conforms:
        raise DataNotValid(report.to_text())
    return graph


def _finding(results: Graph, shapes: Graph, result: Node, graph: KnowledgeGraph,
             files_by_graph: dict[str, str]) -> Finding:
    focus = results.value(result, SH.focusNode)
    path = results.value(result, SH.resultPath)
    value = results.value(result, SH.value)
    message = results.value(result, SH.resultMessage)
    shape = results.value(result, SH.sourceShape)
    component = results.value(result, SH.sourceConstraintComponent)
    severity = results.value(result, SH.resultSeverity)
    return Finding(
        severity=(SEVERITIES.get(severity) if isinstance(severity, URIRef) else None)
        or str(severity),
        file=_files_of(focus, graph, files_by_graph),
        focus_node=str(focus),
        path=_path_text(results, path),
        message=str(message) if message is not None else "",
        constraint=shorten(str(component)),
        shape=_shape_name(shapes, shape),
        value=str(value) if value is not None else None,
    )


def _files_of(focus: Node | None, graph: KnowledgeGraph,
              files_by_graph: dict[str, str]) -> str | None:
    """The files whose named graph describes the focus node (has it as a subject)."""
    if not isinstance(focus, URIRef):
        return None
    names = {q.graph_name.value for q in graph.store.quads_for_pattern(ox.NamedNode(focus), None,
                                                                        None, None)
             if isinstance(q.graph_name, ox.NamedNode)}
    files = sorted(files_by_graph.get(name, name) for name in names)
    return ", ".join(files) or None


def _path_text(results: Graph, path: Node | None) -> str | None:
    """A SHACL path as text: an IRI, ^IRI for an inverse path, a/b for a sequence."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    inverse = results.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + (_path_text(results, inverse) or "")
    alternatives = results.value(path, SH.alternativePath)
    if alternatives is not None:
        return "|".join(_path_text(results, p) or "" for p in Collection(results, alternatives))
    if results.value(path, RDF.first) is not None:
        return "/".join(_path_text(results, p) or "" for p in Collection(results, path))
    return str(path)


def _shape_name(shapes: Graph, shape: Node | None) -> str | None:
    """A named shape as a prefixed name; a blank property shape as the shape that owns it."""
    seen = 0
    while isinstance(shape, BNode) and seen < 5:
        owner = next(shapes.subjects(SH.property, shape), None)
        if owner is None:
            owner = next(shapes.subjects(SH.sparql, shape), None)
        shape, seen = owner, seen + 1
    return shorten(str(shape)) if isinstance(shape, URIRef) else None


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------

def add_command(subparsers: Subcommands) -> None:
    """Add `mmkg validate [PATH ...] [--format text|json]`."""
    parser = subparsers.add_parser(
        "validate", help="check RDF data against the SHACL shapes",
        description="Parse the data (all or nothing) and run the SHACL shapes on the union of "
                    "all files. Exit 0 when it conforms, 1 on any violation, 2 when a file "
                    "cannot be read or parsed.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="RDF files or folders (default: the shipped ontology and data)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="report format (default: text)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    paths: Sequence[Path | str] = args.paths or shipped_files.default_data_files()
    try:
        report = validate_paths(paths, add_shipped_ontology=True)
    except LoadError as err:
        print(str(err), file=sys.stderr)  # file:line:column: message
        if args.format == "json":
            print(json.dumps({"conforms": False, "error": {
                "file": str(err.path), "line": err.line, "column": err.column,
                "message": err.message}}, ensure_ascii=False, indent=2))
        return 2
    print(report.to_json() if args.format == "json" else report.to_text())
    return 0 if report.conforms else 1
