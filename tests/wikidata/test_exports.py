"""The Mix'n'match catalogue and the QuickStatements export: they parse, and they hold what the
graph holds."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mmkg import cli
from mmkg.kg.store import KnowledgeGraph
from mmkg.uris import BASE
from mmkg.wikidata.exports import MIXNMATCH_CLASSES, mixnmatch_tsv, quickstatements

MM = "https://w3id.org/mmkg/ontology#"
WD = "http://www.wikidata.org/entity/"
PREFIXES = f"""PREFIX mm: <{MM}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX schema: <https://schema.org/>"""


def instances(shipped_graph: KnowledgeGraph, cls: str) -> set[str]:
    rows = shipped_graph.select(PREFIXES + f"""SELECT DISTINCT ?s WHERE {{
        ?s a/rdfs:subClassOf* mm:{cls} FILTER(STRSTARTS(STR(?s), "{BASE}id/")) }}""")
    return {str(r["s"]) for r in rows}


def exact_qids(shipped_graph: KnowledgeGraph) -> dict[str, str]:
    rows = shipped_graph.select(PREFIXES + f"""SELECT ?s ?item WHERE {{ ?s skos:exactMatch ?item
        FILTER(STRSTARTS(STR(?item), "{WD}")) }}""")
    return {str(r["s"]): str(r["item"])[len(WD):] for r in rows}


# ---------------------------------------------------------------------------------------------
# Mix'n'match


def parse_tsv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    assert reader.fieldnames == ["id", "name", "description", "type", "q", "url"]
    rows = list(reader)
    assert all(None not in row and all(v is not None for v in row.values()) for row in rows)
    return rows


def test_mixnmatch_counts_what_the_graph_holds(shipped_graph: KnowledgeGraph) -> None:
    rows = parse_tsv(mixnmatch_tsv(shipped_graph))
    by_url = {r["url"]: r for r in rows}
    assert len(by_url) == len(rows) == len({r["id"] for r in rows})
    class_labels = {}
    for row in shipped_graph.select(PREFIXES + "SELECT ?c ?l WHERE { ?c rdfs:label ?l "
                            "FILTER(STRSTARTS(STR(?c), STR(mm:)) && LANG(?l) = 'en') }"):
        class_labels[str(row["c"])[len(MM):]] = str(row["l"])
    seen: set[str] = set()
    for cls in MIXNMATCH_CLASSES:
        # an entity is listed once, under its first class
        members = instances(shipped_graph, cls) - seen
        assert members, cls
        exported = {u for u, r in by_url.items()
                    if r["description"].split(";")[0] == class_labels[cls]}
        assert exported == members, cls
        seen |= members
    assert set(by_url) == seen
    assert len(instances(shipped_graph, "State")) == 59  # 57 participating and 2 former States


def test_mixnmatch_ids_names_and_qids(shipped_graph: KnowledgeGraph) -> None:
    rows = parse_tsv(mixnmatch_tsv(shipped_graph))
    qids = exact_qids(shipped_graph)
    for row in rows:
        assert row["url"] == f"{BASE}id/{row['id']}"
        assert row["name"] and "\t" not in row["name"]
        assert row["q"] == qids.get(row["url"], "")
        assert row["type"] == ""  # no sourced Wikidata class QIDs for our classes
    poland = next(r for r in rows if r["id"] == "state/pl")
    assert (poland["name"], poland["q"]) == ("Poland", "Q36")
    assert next(r for r in rows if r["id"] == "state/va")["q"] == "Q159583"  # not Q237


def test_mixnmatch_download_and_command_agree(shipped_graph, shipped_client,
                                              tmp_path: Path) -> None:
    response = shipped_client.get("/export/mixnmatch.tsv")
    assert response.status_code == 200
    assert response.mimetype == "text/tab-separated-values"
    out = tmp_path / "catalogue.tsv"
    assert cli.main(["export", "mixnmatch", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == response.get_data(as_text=True)
    assert parse_tsv(out.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# QuickStatements: a small strict parser for the v1 commands we write

QID = r"Q[1-9][0-9]*"
STRING = r'"[^"\t\n]*"'
TIME = r"\+(\d{4})-(\d{2})-(\d{2})T00:00:00Z/(9|10|11)"
LINE = re.compile(rf"LAST\t(?:(?P<label>Len)\t(?P<text>{STRING})"
                  rf"|(?P<prop>P[1-9][0-9]*)\t(?P<value>{QID}|{TIME})"
                  rf"\tS854\t(?P<ref>{STRING}))")


@dataclass
class Block:
    label: str = ""
    statements: list[tuple[str, str, str]] = field(default_factory=list)  # (P, value, ref)


def parse_quickstatements(text: str) -> list[Block]:
    """Every line is CREATE, or LAST with Len "…", or LAST Pn value S854 "url"."""
    assert text.endswith("\n")
    blocks: list[Block] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line == "CREATE":
            blocks.append(Block())
            continue
        match = LINE.fullmatch(line)
        assert match, f"line {number} is not a QuickStatements v1 command we allow: {line!r}"
        assert blocks, f"line {number}: LAST before any CREATE"
        if match["label"]:
            assert not blocks[-1].label, f"line {number}: second label"
            blocks[-1].label = match["text"][1:-1]
        else:
            ref = match["ref"][1:-1]
            assert re.fullmatch(r"https?://\S+", ref), f"line {number}: reference {ref!r}"
            blocks[-1].statements.append((match["prop"], match["value"], ref))
    return blocks


def test_quickstatements_parse_and_every_statement_is_referenced(shipped_graph) -> None:
    blocks = parse_quickstatements(quickstatements(shipped_graph))
    assert blocks
    held = set(exact_qids(shipped_graph).values())
    for block in blocks:
        assert block.label and block.statements
        for prop, value, _ in block.statements:
            assert prop in {"P585", "P710", "P921"}  # no P31 etc.: no QIDs for their values
            if prop in {"P710", "P921"}:
                assert value in held


def _time_of(literal) -> str:
    value, datatype = str(literal), str(literal.datatype)
    if datatype.endswith("#date"):
        return f"+{value}T00:00:00Z/11"
    if datatype.endswith("#gYearMonth"):
        return f"+{value}-00T00:00:00Z/10"
    assert datatype.endswith("#gYear")
    return f"+{value}-00-00T00:00:00Z/9"


def test_quickstatements_state_what_the_graph_holds(shipped_graph) -> None:
    blocks = {b.label: b for b in parse_quickstatements(quickstatements(shipped_graph))}
    invocations = shipped_graph.select(PREFIXES + """SELECT ?inv ?label ?date WHERE {
        ?inv a mm:Invocation ; rdfs:label ?label ; mm:date ?date FILTER(LANG(?label) = 'en') }""")
    assert len(blocks) <= len(invocations)
    mirrors = {str(r["u"]) for r in shipped_graph.select(PREFIXES + """SELECT ?u WHERE {
        ?s mm:sourceType <https://w3id.org/mmkg/id/source-type/mirror> ; schema:url ?u }""")}
    by_label = {str(r["label"]): r for r in invocations}
    for label, block in blocks.items():
        row = by_label[label]
        dates = [v for p, v, _ in block.statements if p == "P585"]
        assert dates == [_time_of(row["date"])]
        participants = {v for p, v, _ in block.statements if p == "P710"}
        expected = {str(r["item"])[len(WD):] for r in shipped_graph.select(PREFIXES + f"""
            SELECT ?item WHERE {{ <{row['inv']}> mm:invokedBy/skos:exactMatch ?item
            FILTER(STRSTARTS(STR(?item), "{WD}")) }}""")}
        assert participants == expected, label
        subjects = {v for p, v, _ in block.statements if p == "P921"}
        assert subjects == {str(r["item"])[len(WD):] for r in shipped_graph.select(PREFIXES + f"""
            SELECT ?item WHERE {{ <{row['inv']}> mm:subjectState/skos:exactMatch ?item
            FILTER(STRSTARTS(STR(?item), "{WD}")) }}""")}, label
        assert not {ref for *_, ref in block.statements} & mirrors
    pow_2025 = blocks[next(k for k, r in by_label.items() if str(r["date"]) == "2025-07-24")]
    assert ("P585", "+2025-07-24T00:00:00Z/11") in {(p, v) for p, v, _ in pow_2025.statements}
    assert len([1 for p, *_ in pow_2025.statements if p == "P710"]) == 41
    assert [v for p, v, _ in pow_2025.statements if p == "P921"] == ["Q212"]  # Ukraine


def test_strict_parser_rejects_bad_lines() -> None:
    with pytest.raises(AssertionError):
        parse_quickstatements('CREATE\nLAST\tP710\tQ36\n')  # no reference
    with pytest.raises(AssertionError):
        parse_quickstatements('CREATE\nLAST\tP585\t+2025-07-24T00:00:00Z/12\tS854\t"https://x"\n')
    with pytest.raises(AssertionError):
        parse_quickstatements('LAST\tLen\t"x"\n')


def test_quickstatements_download_and_command_agree(shipped_graph, shipped_client,
                                                    tmp_path: Path) -> None:
    response = shipped_client.get("/export/quickstatements.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    out = tmp_path / "qs.txt"
    assert cli.main(["export", "quickstatements", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == response.get_data(as_text=True)


def test_downloads_are_stable_and_unknown_ones_404(shipped_client) -> None:
    first = shipped_client.get("/export/mixnmatch.tsv").get_data()
    assert shipped_client.get("/export/mixnmatch.tsv").get_data() == first  # built once, kept
    missing = shipped_client.get("/export/nothing.csv")
    assert missing.status_code == 404 and "/export/mixnmatch.tsv" in missing.get_data(as_text=True)
