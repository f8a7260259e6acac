"""SHACL validation of the knowledge graph, and the `mmkg validate` command.

One domain function (`validate_graph`) serves the command, the server start-up
(`load_validated`) and the tests.
pyshacl runs on the union of every loaded file, so links across files are checked; the
ontology is part of that data, and no inference runs (it would hide missing triples).

Verdicts are SHACL's: the findings are exactly the report's `sh:result`s (not the results
nested in their `sh:detail`), and `conforms` is the report's `sh:conforms`, false as soon as
there is any result, warnings included. Whether the data *passes* is a separate, explicit
rule: it passes when no result is a violation (what the command's exit code and the server's
start-up check use).
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
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from .. import cachedir
from ..cachedir import write_atomically
from ..config import Settings, Subcommands
from ..progress import Progress
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
    """All findings of one validation run: one per `sh:result` of the SHACL report."""

    findings: list[Finding] = field(default_factory=list)
    # sh:conforms of the SHACL report: true only when there is no result at all (what SHACL
    # defines it as, and what it is taken to be when no report says).
    conforms: bool | None = None

    def __post_init__(self) -> None:
        if self.conforms is None:
            self.conforms = not self.findings

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Warning"]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Info"]

    @property
    def passes(self) -> bool:
        """The pass/fail rule of `mmkg validate` and of the server's start-up: no violation.
        Warnings and infos are reported (and make `conforms` false) but do not fail."""
        return not self.violations

    def summary(self) -> str:
        counts = (f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s), "
                  f"{len(self.infos)} info(s)")
        if not self.passes:
            verdict = "fails: there are violations"
        elif self.findings:
            verdict = "passes: only violations fail"
        else:
            verdict = "passes"
        return f"conforms: {str(self.conforms).lower()} ({counts}); {verdict}"

    def to_text(self) -> str:
        """One readable line per finding (severity, file, focus node, path, message), then a
        summary line: SHACL's conforms, the counts, and whether it passes."""
        lines = []
        for f in self.findings:
            where = f"{display_file(f.file)}: " if f.file else ""
            path = f" {shorten_path(f.path)}" if f.path else ""
            value = f" (value: {shorten(f.value)})" if f.value is not None else ""
            lines.append(f"{f.severity}: {where}{shorten(f.focus_node)}{path}: {f.message}"
                         f"{value} [{f.constraint}]")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({
            "conforms": self.conforms,  # sh:conforms: false with warnings too
            "passes": self.passes,  # no violation: the exit-code rule
            "results": len(self.findings),
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "infos": len(self.infos),
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


@lru_cache(maxsize=256)
def _prepared(text: str, namespaces: tuple[tuple[str, str], ...]) -> Query:
    return prepareQuery(text, initNs=dict(namespaces))


class PreparedQueryGraph(Graph):
    """An rdflib Graph that parses each SPARQL text once.

    pyshacl hands rdflib the same SPARQL constraint text for every focus node (the node comes
    as a binding), and rdflib parses a text each time it is given one, which costs far more
    than running it. This only caches the parse (with the prefixes rdflib would use: the
    graph's own): rdflib still runs every query, with the same bindings.
    """

    def query(self, query_object: Any, processor: Any = "sparql", result: Any = "sparql",
              initNs: Any = None, initBindings: Any = None,  # noqa: N803 (rdflib's names)
              use_store_provided: bool = True, **kwargs: Any) -> Any:
        if (isinstance(query_object, str) and processor == "sparql" and not initNs
                and not kwargs):
            namespaces = tuple((prefix, str(ns)) for prefix, ns in self.namespaces())
            query_object = _prepared(query_object, namespaces)
        return super().query(query_object, processor, result, initNs, initBindings,
                             use_store_provided, **kwargs)


def union_graph(graph: KnowledgeGraph) -> Graph:
    """Every triple of every named graph of the store, as one rdflib Graph (what pyshacl reads).

    Read from the store, not the files: what is validated is exactly what is served.
    """
    union = PreparedQueryGraph()
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


def validation_data(graph: KnowledgeGraph) -> Graph:
    """The data graph the shapes run on: the union of the store, plus the shipped class
    hierarchy (sh:class follows rdfs:subClassOf in the data graph; the hierarchy makes a file
    checkable without the ontology beside it, and adds no instance data)."""
    data = union_graph(graph)
    data += class_hierarchy()
    return data


def shacl_report(data: Graph, shapes: Graph) -> Graph:
    """pySHACL's report graph for a data graph (changed in place: pass a fresh one).

    `advanced=True` because one rule (mmsh:VocabularyUseShape) has a SHACL-AF SPARQL target
    that nothing standard can replace (shapes/README.md); every other rule uses SHACL Core
    and SHACL-SPARQL only.
    """
    _conforms, results, _text = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False,
        inplace=True, abort_on_first=False,
    )
    if not isinstance(results, Graph):  # pyshacl reports broken shapes this way
        raise RuntimeError(f"the shapes could not be applied: {results}")
    return results


def validate_graph(graph: KnowledgeGraph, shapes: Graph | None = None) -> ValidationReport:
    """Validate the union of a loaded graph against the shapes (default: the shipped ones)."""
    shapes = shapes if shapes is not None else shapes_graph()
    results = shacl_report(validation_data(graph), shapes)
    report = results.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
    files_by_graph = {graph_name(Path(p)).value: str(p) for p in graph.files}
    # The report's own sh:result list. Results nested in a result's sh:detail (pyshacl's
    # explanation of an sh:node or sh:or failure) are not results of the report.
    findings = [_finding(results, shapes, r, graph, files_by_graph)
                for r in results.objects(report, SH.result)]
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    findings.sort(key=lambda f: (order.get(f.severity, 3), f.file or "", f.focus_node,
                                 f.path or "", f.constraint))
    conforms = results.value(report, SH.conforms)
    return ValidationReport(findings, conforms=None if conforms is None
                            else isinstance(conforms, Literal) and conforms.toPython() is True)


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


def validate_paths(paths: Iterable[Path | str], add_shipped_ontology: bool = False,
                   progress: bool = False) -> ValidationReport:
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
    if not progress:
        return validate_graph(graph)
    # Once the files are read (a load error is then the first line on stderr).
    with Progress(f"validating {graph.triple_count():,} triples against the SHACL shapes"):
        return validate_graph(graph)


class DataNotValid(Exception):
    """The data does not conform to the shapes; the server refuses to start on it."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


def load_validated(settings: Settings) -> KnowledgeGraph:
    """Load every served file and refuse data with any SHACL violation (DataNotValid);
    warnings are reported by `mmkg validate` but do not refuse.

    The verdict is kept in the cache directory under a hash of the data, the shapes and the
    code, so the same data is validated once, not at every start.
    """
    files = served_files(settings)
    graph = load_graph(files)
    verdict_file = verdict_path(settings, files)
    verdict = _read_verdict(verdict_file)
    if verdict is None:
        with Progress(f"validating {graph.triple_count():,} triples against the SHACL shapes "
                      "(once per data version)"):
            report = validate_graph(graph)
        # violations only: warnings (sh:conforms false) do not refuse
        verdict = {"passes": report.passes, "report": report.to_text()}
        try:
            write_atomically(verdict_file, json.dumps(verdict).encode("utf-8"))
        except OSError as err:  # a read-only cache costs time, not correctness
            print(f"mmkg: cannot keep the verdict in {verdict_file}: {err}", file=sys.stderr)
    if not verdict["passes"]:
        raise DataNotValid(str(verdict["report"]))
    return graph


def verdict_path(settings: Settings, files: Sequence[Path]) -> Path:
    """Where the SHACL verdict on these files is kept: keyed by the data, the shapes and the
    code (a changed shape or rule means validating again)."""
    name = cachedir.key(cachedir.files_digest(files),
                        cachedir.files_digest(shipped_files.shapes_files()),
                        cachedir.code_fingerprint())
    return cachedir.cache_root(settings) / "verdicts" / f"{name}.json"


def _read_verdict(path: Path) -> dict[str, Any] | None:
    try:
        verdict = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("passes"), bool):
        return None
    return verdict


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
                    "all files. The report lists every sh:result of the SHACL report, and "
                    "'conforms' is SHACL's sh:conforms (false when there is any result, a "
                    "warning included). Exit code: 0 when no result is a violation (warnings "
                    "and infos are reported but do not fail), 1 on any violation, 2 when a "
                    "file cannot be read or parsed.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="RDF files or folders (default: the shipped ontology and data)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="report format (default: text)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    paths: Sequence[Path | str] = args.paths or shipped_files.default_data_files()
    try:
        report = validate_paths(paths, add_shipped_ontology=True, progress=True)
    except LoadError as err:
        print(str(err), file=sys.stderr)  # file:line:column: message
        if args.format == "json":
            print(json.dumps({"conforms": False, "error": {
                "file": str(err.path), "line": err.line, "column": err.column,
                "message": err.message}}, ensure_ascii=False, indent=2))
        return 2
    print(report.to_json() if args.format == "json" else report.to_text())
    return 0 if report.passes else 1  # only violations fail (RULINGS: SHACL verdicts)
