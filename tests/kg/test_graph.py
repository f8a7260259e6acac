"""The shipped data conforms to the shapes; the known source disagreement is a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmkg.kg import files as package_data
from mmkg.kg import validate
from mmkg.kg.store import KnowledgeGraph

SEED_CLAIM = "https://w3id.org/mmkg/id/claim/mm-2025-07-ua-pow-invokers-gov-pl"
MM = "https://w3id.org/mmkg/ontology#"
ID = "https://w3id.org/mmkg/id/"


@pytest.fixture(scope="module")
def shipped_report(shipped_graph: KnowledgeGraph) -> validate.ValidationReport:
    return validate.validate_graph(shipped_graph)


def test_the_shipped_files_are_there() -> None:
    files = package_data.default_data_files()
    assert [f for f in files if f.parent.name == "ontology"], "no ontology file ships"
    assert [f for f in files if f.parent.name == "graph"], "no data file ships"
    assert package_data.shapes_files(), "no shapes file ships"


def test_the_shipped_data_has_no_violation(shipped_report: validate.ValidationReport) -> None:
    assert shipped_report.violations == [], shipped_report.to_text()
    assert shipped_report.passes
    # SHACL's verdict: the known warning is a result, so the report does not conform.
    assert shipped_report.conforms is False


def test_the_seed_disagreement_is_a_warning_on_the_seed_claim(
        shipped_graph: KnowledgeGraph, shipped_report: validate.ValidationReport) -> None:
    """The seed states 41 invoking States but its footnote lists 45 names: both kept, and the
    shapes warn on the seed's claim about the invocation of 24 July 2025."""
    warnings = [w for w in shipped_report.warnings if w.focus_node == SEED_CLAIM]
    assert len(warnings) == 1
    warning = warnings[0]
    assert warning.constraint == "sh:SPARQLConstraintComponent"
    assert warning.shape == "mmsh:StatedCountDisagreementShape"
    assert warning.path == f"{MM}statedCount" and warning.value == "41"
    assert Path(warning.file or "").name == "gov-pl-2025-07-24.ttl"
    # The claim it warns on is the seed's, about the invocation of 24 July 2025.
    seed = f"{ID}source/gov-pl-web-osce-invocation-of-the-osce-moscow-mechanism2"
    assert shipped_graph.ask(f"""
        PREFIX mm: <{MM}>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        ASK {{ <{SEED_CLAIM}> mm:claimAbout/mm:date "2025-07-24"^^xsd:date ;
                   prov:wasDerivedFrom <{seed}> }}""")


def test_start_up_refuses_violations_only(tmp_path: Path) -> None:
    """The server's start-up check: the shipped data (one warning, so sh:conforms false) is
    accepted; a violation is refused with the report."""
    from mmkg.config import Settings
    from mmkg.kg.validate import DataNotValid
    from mmkg.kg.validate import load_validated as build_graph

    assert build_graph(Settings()).triple_count() > 0
    unsourced = tmp_path / "unsourced.ttl"
    unsourced.write_text(
        f"<{ID}invocation/mm-2011-unsourced> a <{MM}Invocation> .\n", encoding="utf-8")
    with pytest.raises(DataNotValid) as refused:
        build_graph(Settings(data=(unsourced,)))
    assert f"{ID}invocation/mm-2011-unsourced".rsplit("/", 1)[1] in str(refused.value)
    assert "; fails: there are violations" in str(refused.value)


def test_every_warning_is_a_known_disagreement(shipped_report: validate.ValidationReport) -> None:
    """Warnings are only the stated-versus-listed disagreements, nothing else slips in: the
    report's results are exactly the one known warning."""
    assert {w.shape for w in shipped_report.warnings} == {"mmsh:StatedCountDisagreementShape"}
    assert [(f.severity, f.focus_node) for f in shipped_report.findings] == [
        ("Warning", SEED_CLAIM)]
