"""Every shape rule is proven to fire: one small invalid fixture per rule.

Each fixture in tests/data/shapes/invalid/ is loaded beside the valid base graph (those named
ontology-* stand alone) and validated with the shipped shapes; the test asserts the focus
node, the constraint component and the severity of the result, not the report text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from helpers import DATA
from mmkg.kg import validate
from mmkg.kg.loader import LoadError
from mmkg.kg.store import load_graph

SHAPE_CASES = DATA / "shapes"
BASE = SHAPE_CASES / "valid" / "base.ttl"
ID = "https://w3id.org/mmkg/id/"
MM = "https://w3id.org/mmkg/ontology#"

# fixture -> (focus node, constraint component, path or None, severity)
EXPECTED: dict[str, tuple[str, str, str | None, str]] = {
    "label-missing": (f"{ID}person/no-label", "sh:QualifiedMinCountConstraintComponent",
                      "http://www.w3.org/2000/01/rdf-schema#label", "Violation"),
    "provenance-missing": (f"{ID}invocation/mm-2011-test", "sh:MinCountConstraintComponent",
                           "http://www.w3.org/ns/prov#wasDerivedFrom", "Violation"),
    "provenance-not-a-source": (f"{ID}allegation/test-not-a-source",
                                "sh:ClassConstraintComponent",
                                "http://www.w3.org/ns/prov#wasDerivedFrom", "Violation"),
    "confidence-missing": (f"{ID}claim/no-confidence", "sh:MinCountConstraintComponent",
                           f"{MM}confidence", "Violation"),
    "confidence-not-in-scheme": (f"{ID}report/test-confidence", "sh:NodeConstraintComponent",
                                 f"{MM}confidence", "Violation"),
    "invocation-date-missing": (f"{ID}invocation/mm-2011-test",
                                "sh:MinCountConstraintComponent", f"{MM}date", "Violation"),
    "invocation-date-not-a-date": (f"{ID}invocation/mm-2011-test", "sh:OrConstraintComponent",
                                   f"{MM}date", "Violation"),
    "invocation-date-ill-typed": (f"{ID}invocation/mm-2011-test", "sh:OrConstraintComponent",
                                  f"{MM}date", "Violation"),
    "invocation-mechanism-missing": (f"{ID}invocation/mm-2011-test",
                                     "sh:MinCountConstraintComponent", f"{MM}mechanism",
                                     "Violation"),
    "invoked-by-not-a-participating-state": (f"{ID}invocation/mm-2011-test",
                                             "sh:SPARQLConstraintComponent", f"{MM}invokedBy",
                                             "Violation"),
    "lists-state-not-a-participating-state": (f"{ID}claim/test-lists",
                                              "sh:SPARQLConstraintComponent",
                                              f"{MM}listsState", "Violation"),
    "invokers-missing": (f"{ID}invocation/mm-2011-test", "sh:OrConstraintComponent", None,
                         "Violation"),
    "concerned-state-missing": (f"{ID}invocation/mm-2011-test", "sh:OrConstraintComponent",
                                None, "Violation"),
    "subject-state-not-a-state": (f"{ID}invocation/mm-2011-test", "sh:ClassConstraintComponent",
                                  f"{MM}subjectState", "Violation"),
    "inviting-state-not-subject": (f"{ID}invocation/mm-2011-test",
                                   "sh:SPARQLConstraintComponent", f"{MM}invitingState",
                                   "Violation"),
    "moscow-before-1991": (f"{ID}invocation/mm-1990-test", "sh:SPARQLConstraintComponent",
                           f"{MM}date", "Violation"),
    "vienna-before-1989": (f"{ID}invocation/vm-1988-test", "sh:SPARQLConstraintComponent",
                           f"{MM}date", "Violation"),
    "invocation-before-founding-document": (f"{ID}invocation/mm-2000-test",
                                            "sh:SPARQLConstraintComponent", f"{MM}date",
                                            "Violation"),
    "report-before-invocation": (f"{ID}report/test-early", "sh:SPARQLConstraintComponent",
                                 f"{MM}publishedOn", "Violation"),
    "future-date": (f"{ID}source/example-org-future", "sh:SPARQLConstraintComponent",
                    f"{MM}date", "Violation"),
    "stated-count-negative": (f"{ID}claim/test-negative", "sh:MinInclusiveConstraintComponent",
                              f"{MM}statedCount", "Violation"),
    "meeting-number-not-positive": (f"{ID}meeting/pc-2025-09-24",
                                    "sh:MinInclusiveConstraintComponent",
                                    f"{MM}meetingNumber", "Violation"),
    "meeting-iri-date": (f"{ID}meeting/pc-2025-09-26", "sh:SPARQLConstraintComponent",
                         f"{MM}date", "Violation"),
    "qid-pattern": (f"{ID}state/fr-yugoslavia", "sh:PatternConstraintComponent",
                    "http://www.w3.org/2004/02/skos/core#closeMatch", "Violation"),
    "wikidata-class-pattern": (f"{ID}state/fr-yugoslavia", "sh:PatternConstraintComponent",
                               f"{MM}wikidataClass", "Violation"),
    "wikidata-class-unsourced": (f"{ID}state/fr-yugoslavia", "sh:SPARQLConstraintComponent",
                                 f"{MM}wikidataClass", "Violation"),
    "iso-alpha2-pattern": (f"{ID}state/xk", "sh:PatternConstraintComponent",
                           f"{MM}iso3166Alpha2", "Violation"),
    "iso-alpha3-pattern": (f"{ID}state/xk", "sh:PatternConstraintComponent",
                           f"{MM}iso3166Alpha3", "Violation"),
    "participating-state-iri": (f"{ID}state/germany", "sh:SPARQLConstraintComponent",
                                f"{MM}iso3166Alpha2", "Violation"),
    "participation-missing": (f"{ID}state/de", "sh:MinCountConstraintComponent",
                              f"^{MM}participant", "Violation"),
    "former-and-current": (f"{ID}state/fr-yugoslavia", "sh:NotConstraintComponent", None,
                           "Violation"),
    "pref-label-unique": (f"{ID}state/ua", "sh:UniqueLangConstraintComponent",
                          "http://www.w3.org/2004/02/skos/core#prefLabel", "Violation"),
    "identifier-pattern": (f"{ID}invocation/MM-2011-TEST", "sh:PatternConstraintComponent",
                           None, "Violation"),
    "category-not-in-scheme": (f"{ID}allegation/test-category", "sh:NodeConstraintComponent",
                               f"{MM}category", "Violation"),
    "affected-group-not-in-scheme": (f"{ID}allegation/test-group", "sh:NodeConstraintComponent",
                                     f"{MM}affectedGroup", "Violation"),
    "legal-framework-not-in-scheme": (f"{ID}allegation/test-framework",
                                      "sh:NodeConstraintComponent", f"{MM}legalFramework",
                                      "Violation"),
    "procedure-not-in-scheme": (f"{ID}invocation/mm-2011-test", "sh:NodeConstraintComponent",
                                f"{MM}procedure", "Violation"),
    "perpetrator-not-a-state": (f"{ID}allegation/test-perpetrator",
                                "sh:ClassConstraintComponent", f"{MM}allegedPerpetrator",
                                "Violation"),
    "alleged-in-missing": (f"{ID}allegation/test-alleged-in", "sh:MinCountConstraintComponent",
                           f"{MM}allegedIn", "Violation"),
    "alleged-by-not-an-agent": (f"{ID}allegation/test-alleged-by", "sh:NodeConstraintComponent",
                                f"{MM}allegedBy", "Violation"),
    "allegation-period-reversed": (f"{ID}allegation/test-period",
                                   "sh:SPARQLConstraintComponent", f"{MM}periodEnd",
                                   "Violation"),
    "source-iri-not-url-slug": (f"{ID}source/osce-org-wrong", "sh:SPARQLConstraintComponent",
                                "https://schema.org/url", "Violation"),
    "source-url-twice": (f"{ID}source/gov-pl-copy", "sh:SPARQLConstraintComponent",
                         "https://schema.org/url", "Violation"),
    "source-duplicate-without-url": (f"{ID}source/example-report-twice-a",
                                     "sh:SPARQLConstraintComponent",
                                     "http://purl.org/dc/terms/publisher", "Violation"),
    "correction-without-source": (f"{ID}correction/test-no-source",
                                  "sh:MinCountConstraintComponent",
                                  "http://www.w3.org/ns/prov#wasDerivedFrom", "Violation"),
    "source-type-missing": (f"{ID}source/example-org-untyped", "sh:MinCountConstraintComponent",
                            f"{MM}sourceType", "Violation"),
    "source-url-not-iri": (f"{ID}source/example-org-string", "sh:NodeKindConstraintComponent",
                           "https://schema.org/url", "Violation"),
    "mirror-without-original": (f"{ID}source/example-org-mirror",
                                "sh:SPARQLConstraintComponent", f"{MM}mirrorOf", "Violation"),
    "claim-without-value": (f"{ID}claim/no-value", "sh:SPARQLConstraintComponent",
                            f"{MM}claimValue", "Violation"),
    "list-complete-missing": (f"{ID}claim/test-complete", "sh:MinCountConstraintComponent",
                              f"{MM}invokingListComplete", "Violation"),
    "list-complete-not-boolean": (f"{ID}invocation/mm-2011-test",
                                  "sh:DatatypeConstraintComponent",
                                  f"{MM}invokingListComplete", "Violation"),
    "stated-count-disagrees": (f"{ID}claim/test-disagree", "sh:SPARQLConstraintComponent",
                               f"{MM}statedCount", "Warning"),
    "mission-without-invocation": (f"{ID}mission/test-orphan", "sh:MinCountConstraintComponent",
                                   f"^{MM}mission", "Violation"),
    "mission-expert-not-expert": (f"{ID}mission/test-expert", "sh:ClassConstraintComponent",
                                  f"{MM}expert", "Violation"),
    "report-without-invocation": (f"{ID}report/test-orphan", "sh:MinCountConstraintComponent",
                                  f"{MM}answersInvocation", "Violation"),
    "topic-not-language-tagged": (f"{ID}invocation/mm-2011-test",
                                  "sh:DatatypeConstraintComponent", f"{MM}topic", "Violation"),
    "provision-without-instrument": (f"{ID}provision/test-art-1",
                                     "sh:MinCountConstraintComponent", f"{MM}instrument",
                                     "Violation"),
    "provision-supports-non-category": (f"{ID}provision/test-art-2",
                                        "sh:NodeConstraintComponent", f"{MM}supportsCategory",
                                        "Violation"),
    "ontology-participating-state-count": (f"{MM}ParticipatingState",
                                           "sh:SPARQLConstraintComponent", None, "Violation"),
    "ontology-undeclared-term": (f"{ID}state/pl", "sh:SPARQLConstraintComponent", None,
                                 "Violation"),
    "ontology-term-undocumented": (f"{MM}Undocumented", "sh:SPARQLConstraintComponent",
                                   "http://www.w3.org/2004/02/skos/core#definition",
                                   "Violation"),
    "ontology-concept-undocumented": (f"{ID}category/undocumented",
                                      "sh:MinCountConstraintComponent",
                                      "http://www.w3.org/2004/02/skos/core#inScheme",
                                      "Violation"),
}


def fixture_paths(name: str) -> list[Path]:
    invalid = SHAPE_CASES / "invalid" / f"{name}.ttl"
    return [invalid] if name.startswith("ontology-") else [BASE, invalid]


def test_every_invalid_fixture_has_an_expectation() -> None:
    on_disk = {p.stem for p in (SHAPE_CASES / "invalid").glob("*.ttl")}
    assert on_disk == set(EXPECTED)


def test_the_base_fixture_conforms_without_warnings() -> None:
    report = validate.validate_paths([BASE])
    assert report.findings == [], report.to_text()
    assert report.conforms and report.passes


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_rule_fires(name: str) -> None:
    focus, constraint, path, severity = EXPECTED[name]
    report = validate.validate_paths(fixture_paths(name))
    hits = [f for f in report.findings
            if f.focus_node == focus and f.constraint == constraint and f.path == path]
    assert hits, f"{name}: expected {constraint} on {focus}\n{report.to_text()}"
    assert {f.severity for f in hits} == {severity}
    assert report.conforms is False  # sh:conforms: false with any result, a warning too
    assert report.passes is (severity != "Violation")  # only violations fail
    # The finding names the file(s) that describe the focus node, the fixture among them.
    assert f"{name}.ttl" in {Path(f).name for f in (hits[0].file or "").split(", ")}


def test_results_graph_names_focus_node_and_component() -> None:
    """The same facts straight from pyshacl's results graph, not through Finding."""
    from pyshacl import validate as shacl_validate

    graph = load_graph(fixture_paths("invokers-missing"))
    data = validate.validation_data(graph)
    _conforms, results, _text = shacl_validate(data, shacl_graph=validate.shapes_graph(),
                                               inference="none", advanced=True)
    assert isinstance(results, Graph)
    found = {(r, results.value(r, SH.focusNode), results.value(r, SH.sourceConstraintComponent))
             for r in results.subjects(RDF.type, SH.ValidationResult)}
    assert any(focus == URIRef(f"{ID}invocation/mm-2011-test")
               and component == SH.OrConstraintComponent for _r, focus, component in found)


def test_results_nested_in_sh_detail_are_not_findings() -> None:
    """pySHACL explains an sh:node failure with a nested result (sh:detail) about the value:
    here the concept, which is valid. The report has one sh:result, and so do the findings."""
    graph = load_graph(fixture_paths("confidence-not-in-scheme"))
    results = validate.shacl_report(validate.validation_data(graph), validate.shapes_graph())
    report_node = results.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
    top = set(results.objects(report_node, SH.result))
    nested = set(results.subjects(RDF.type, SH.ValidationResult)) - top
    assert len(top) == 1 and nested  # pySHACL does nest one here
    concept = URIRef(f"{ID}category/torture-ill-treatment")
    assert {results.value(r, SH.focusNode) for r in nested} == {concept}

    report = validate.validate_graph(graph)
    assert [(f.focus_node, f.constraint) for f in report.findings] == [
        (f"{ID}report/test-confidence", "sh:NodeConstraintComponent")]
    assert report.to_text().splitlines()[-1].startswith("conforms: false (1 violation(s), ")
    assert json.loads(report.to_json())["violations"] == 1


def test_only_the_vocabulary_rule_needs_shacl_af() -> None:
    """Every rule has a standard target but one, which shapes/README.md names as needing
    SHACL-AF (an engine without it skips the rule silently)."""
    shapes = validate.shapes_graph()
    shapes_ns = validate.SHAPES
    assert set(shapes.subjects(SH.target, None)) == {URIRef(f"{shapes_ns}VocabularyUseShape")}
    advanced = {SH.rule, SH.SPARQLTarget, SH.SPARQLTargetType, SH.SPARQLFunction,
                URIRef(f"{SH}shape"), URIRef(f"{SH}filterShape")}
    used = {p for p in shapes.predicates()} | {o for o in shapes.objects(None, RDF.type)}
    assert used & advanced == {SH.SPARQLTarget}
    readme = (Path(__file__).parents[2] / "shapes" / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## SHACL Core, SHACL-SPARQL and SHACL-AF"):]
    section = section[:section.index("\n## ", 1)]
    assert "**One rule needs SHACL-AF**" in section and "`mmsh:VocabularyUseShape`" in section


def test_a_rule_that_had_a_sparql_target_runs_without_shacl_af() -> None:
    """pySHACL without advanced features (`pyshacl` without -a) runs the SPARQL rules on their
    standard targets: an OSCE non-member among the invokers is reported."""
    from pyshacl import validate as shacl_validate

    graph = load_graph(fixture_paths("invoked-by-not-a-participating-state"))
    _conforms, results, _text = shacl_validate(
        validate.validation_data(graph), shacl_graph=validate.shapes_graph(), inference="none",
        advanced=False)
    assert isinstance(results, Graph)
    found = {(str(results.value(r, SH.focusNode)), str(results.value(r, SH.sourceShape)))
             for r in results.subjects(RDF.type, SH.ValidationResult)}
    assert (f"{ID}invocation/mm-2011-test", f"{validate.SHAPES}InvokingPartyShape") in found


def test_incomplete_list_with_a_different_count_does_not_warn() -> None:
    """A gap (mm:invokingListComplete false) is not a disagreement: no warning."""
    gap = f"{ID}claim/mm-2025-07-ua-pow-invokers-gap"
    graph = load_graph([BASE])
    assert graph.ask(f"ASK {{ <{gap}> <{MM}invokingListComplete> false ; "
                     f"<{MM}statedCount> 45 }}")
    report = validate.validate_graph(graph)
    assert not [f for f in report.findings if f.focus_node == gap]


def test_a_gyear_report_in_the_invocation_year_is_not_early() -> None:
    """Dates of different precision compare on their common prefix: 2025 is not before
    2025-07-24 (the base's report is dated "2025"^^xsd:gYear)."""
    graph = load_graph([BASE])
    assert graph.ask(f'ASK {{ <{ID}report/mm-2025-07-ua-pow> <{MM}date> ?d '
                     f'FILTER (DATATYPE(?d) = <http://www.w3.org/2001/XMLSchema#gYear>) }}')
    report = validate.validate_graph(graph)
    assert report.conforms


def test_report_text_and_json() -> None:
    report = validate.validate_paths(fixture_paths("invocation-date-missing"))
    text = report.to_text()
    assert "invocation:mm-2011-test mm:date" in text
    assert "Violation" in text and "invocation-date-missing.ttl" in text


    data = json.loads(report.to_json())
    assert data["conforms"] is False
    assert {"severity", "file", "focus_node", "path", "message", "constraint", "shape",
            "value"} <= set(data["findings"][0])


def test_malformed_file_raises_load_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n")
    with pytest.raises(LoadError) as caught:
        validate.validate_paths([BASE, bad])
    assert caught.value.path == bad and caught.value.line == 2
