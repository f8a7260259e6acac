"""The competency questions run on the shipped data and give the sourced answers."""

from __future__ import annotations

import pytest

from mmkg.kg import competency
from mmkg.kg.store import KnowledgeGraph

ID = "https://w3id.org/mmkg/id/"


def run(graph: KnowledgeGraph, name: str) -> list[dict[str, str]]:
    rows = graph.select(competency.question(name).sparql)
    return [{k: str(v) for k, v in row.items()} for row in rows]


def test_every_question_has_a_title_and_a_description() -> None:
    questions = competency.questions()
    assert len(questions) >= 7
    for q in questions:
        assert q.title and q.description, q.name
        assert q.sparql.startswith("# title: ")


@pytest.mark.parametrize("name", [q.name for q in competency.questions()])
def test_every_question_answers(shipped_graph: KnowledgeGraph, name: str) -> None:
    assert run(shipped_graph, name), f"{name} gives no answer on the shipped data"


def test_who_invoked_on_24_july_2025(shipped_graph: KnowledgeGraph) -> None:
    rows = {r["claim"].removeprefix(f"{ID}claim/"): r
            for r in run(shipped_graph, "01-invokers-2025-07-24")}
    seed = rows["mm-2025-07-ua-pow-invokers-gov-pl"]
    assert (seed["statedCount"], seed["listedCount"], seed["listComplete"]) == ("41", "45", "true")
    assert "gov.pl" in seed["sources"]
    # ODIHR and the governments: 41 stated, 41 named.
    complete_41 = [r for r in rows.values()
                   if r["statedCount"] == "41" and r["listedCount"] == "41"
                   and r["listComplete"] == "true"]
    assert complete_41 and any("ODIHR" in r["sources"] or "odihr" in r["sources"].lower()
                               or "joint statement" in r["sources"].lower() for r in complete_41)
    # The four names the seed lists and the 41 do not.
    ours = complete_41[0]["states"]
    for name in ("Hungary", "Serbia", "Türkiye", "United States of America"):
        assert name in seed["states"] and name not in ours
    # The accepted list on the invocation is the 41.
    assert shipped_graph.ask(f"""
        ASK {{ {{ SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{
            <{ID}invocation/mm-2025-07-ua-pow> <https://w3id.org/mmkg/ontology#invokedBy> ?s }} }}
            FILTER (?n = 41) }}""")


def test_invocations_concerning_russia(shipped_graph: KnowledgeGraph) -> None:
    rows = run(shipped_graph, "02-invocations-concerning-russia")
    roles: dict[str, set[str]] = {}
    for r in rows:
        roles.setdefault(r["invocation"].removeprefix(f"{ID}invocation/"), set()).add(r["role"])
    assert "mm-2018-ru-chechnya" in roles and "mm-2022-07-ru" in roles
    assert "subject" in roles["mm-2022-07-ru"]
    # The paragraph 8 missions on Ukraine concern Russia's conduct, not Russia as subject.
    for local in ("mm-2022-03-ua", "mm-2022-06-ua", "mm-2023-03-ua-children",
                  "mm-2024-02-ua-civilians", "mm-2025-07-ua-pow"):
        assert roles[local] == {"conduct"}, local
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates)


def test_violations_against_prisoners_of_war(shipped_graph: KnowledgeGraph) -> None:
    rows = run(shipped_graph, "03-violations-against-prisoners-of-war")
    categories = {r["category"].removeprefix(f"{ID}category/") for r in rows}
    assert {"torture-ill-treatment", "executions-deaths-in-custody"} <= categories
    report = [r for r in rows if r["document"] == f"{ID}report/mm-2025-07-ua-pow"]
    assert report and all("Veronika Bílková" in r["allegedBy"] for r in report)
    assert all(r["documentLabel"] and r["allegedBy"] for r in rows)


def test_experts_on_several_missions(shipped_graph: KnowledgeGraph) -> None:
    rows = {r["expert"].removeprefix(f"{ID}person/"): r
            for r in run(shipped_graph, "04-experts-on-several-missions")}
    assert "veronika-bilkova" in rows
    assert int(rows["veronika-bilkova"]["missions"]) > 1
    assert all(int(r["missions"]) > 1 for r in rows.values())


def test_invocations_per_year(shipped_graph: KnowledgeGraph) -> None:
    rows = {r["year"]: int(r["invocations"]) for r in run(shipped_graph, "05-invocations-per-year")}
    assert rows["2025"] >= 1 and rows["2022"] >= 3
    assert all(len(year) == 4 and year.isdigit() for year in rows)
    total = shipped_graph.select(
        "SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE "
        "{ ?i a <https://w3id.org/mmkg/ontology#Invocation> }")[0]["n"]
    assert sum(rows.values()) == int(total)


def test_state_wikidata_items(shipped_graph: KnowledgeGraph) -> None:
    rows = {r["state"].removeprefix(f"{ID}state/"): r
            for r in run(shipped_graph, "06-state-wikidata-items")}
    assert rows["pl"]["qid"] == "Q36"
    assert rows["pl"]["item"] == "http://www.wikidata.org/entity/Q36"
    participating = [r for r in rows.values() if r["type"] == "participating"]
    assert len(participating) == 57 and all(r["qid"].startswith("Q") for r in participating)


def test_source_disagreements(shipped_graph: KnowledgeGraph) -> None:
    rows = run(shipped_graph, "07-source-disagreements")
    seed = [r for r in rows if r["claim"] == f"{ID}claim/mm-2025-07-ua-pow-invokers-gov-pl"]
    assert seed and (seed[0]["statedCount"], seed[0]["listedCount"]) == ("41", "45")
    assert all(r["statedCount"] != r["listedCount"] for r in rows)
