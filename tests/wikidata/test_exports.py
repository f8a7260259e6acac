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
from mmkg.kg import files
from mmkg.kg.store import KnowledgeGraph, load_graph
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
    poland = next(r for r in rows if r["id"] == "state/pl")
    assert (poland["name"], poland["q"]) == ("Poland", "Q36")
    assert next(r for r in rows if r["id"] == "state/va")["q"] == "Q159583"  # not Q237


def sourced_classes(shipped_graph: KnowledgeGraph) -> dict[str, set[str]]:
    """Each resource's Wikidata classes that a claim with a source states."""
    rows = shipped_graph.select(PREFIXES + """PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT DISTINCT ?s ?class WHERE { ?s mm:wikidataClass ?class .
          ?claim mm:claimAbout ?s ; mm:claimProperty mm:wikidataClass ; mm:claimValue ?class ;
                 prov:wasDerivedFrom ?source . }""")
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(str(row["s"]), set()).add(str(row["class"])[len(WD):])
    return found


def test_mixnmatch_type_is_each_rows_sourced_class(shipped_graph: KnowledgeGraph) -> None:
    """Experts are persons (mm:Expert is a schema:Person): Q5, human. A State has the class a
    sourced claim gives its Wikidata item (country, Q6256, for the 48 that a saved Wikidata
    query lists); the others, and every other row, stay empty."""
    rows = parse_tsv(mixnmatch_tsv(shipped_graph))
    experts = instances(shipped_graph, "Expert")
    states = instances(shipped_graph, "State")
    classes = sourced_classes(shipped_graph)
    assert experts and set(classes) <= states
    for row in rows:
        if row["url"] in experts:
            assert row["type"] == "Q5", row["id"]
        elif row["url"] in classes:
            assert row["type"] in classes[row["url"]], row["id"]
        else:
            assert row["type"] == "", row["id"]
    types = {r["id"]: r["type"] for r in rows}
    assert sum(types[f"state/{s[len(BASE) + 9:]}"] == "Q6256" for s in states) == 48
    assert (types["state/pl"], types["state/ru"], types["state/nl"]) == ("Q6256",) * 3
    # Not in the saved query's answer, or no source for their class: left empty.
    for local in ("ua", "va", "md", "ge", "sfr-yugoslavia", "fr-yugoslavia"):
        assert types[f"state/{local}"] == "", local


def test_a_state_class_without_a_sourced_claim_is_not_exported(tmp_path: Path) -> None:
    """A mm:wikidataClass that no claim with a source states does not reach the catalogue."""
    extra = tmp_path / "unsourced.ttl"
    extra.write_text(f"""@prefix mm: <{MM}> .
        <{BASE}id/state/ua> mm:wikidataClass <{WD}Q3624078> .
        <{BASE}id/claim/test-ua-class> a mm:Claim ; mm:claimAbout <{BASE}id/state/ua> ;
            mm:claimProperty mm:wikidataClass ; mm:claimValue <{WD}Q3624078> .
        """, encoding="utf-8")
    graph = load_graph([*files.default_data_files(), extra])
    ukraine = next(r for r in parse_tsv(mixnmatch_tsv(graph)) if r["id"] == "state/ua")
    assert ukraine["type"] == ""


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
LINE = re.compile(rf"LAST\t(?:(?P<term>Len|Den)\t(?P<text>{STRING})"
                  rf"|(?P<prop>P[1-9][0-9]*)\t(?P<value>{QID}|{TIME})"
                  rf"\tS854\t(?P<ref>{STRING}))")
# A line QuickStatements' v1 parser takes as an edit summary alone, and skips.
COMMENT = re.compile(r"/\* (?P<text>(?:(?!\*/)[^\t\n])*) \*/")


@dataclass
class Block:
    label: str = ""
    description: str = ""
    statements: list[tuple[str, str, str]] = field(default_factory=list)  # (P, value, ref)


@dataclass
class Export:
    blocks: list[Block]
    comments: list[str]


def parse_quickstatements(text: str) -> list[Block]:
    return parse_export(text).blocks


def parse_export(text: str) -> Export:
    """Every line is a /* comment */, CREATE, or LAST with Len/Den "…", or LAST Pn value
    S854 "url"."""
    assert text.endswith("\n")
    blocks: list[Block] = []
    comments: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line == "CREATE":
            blocks.append(Block())
            continue
        comment = COMMENT.fullmatch(line)
        if comment:
            comments.append(comment["text"])
            continue
        match = LINE.fullmatch(line)
        assert match, f"line {number} is not a QuickStatements v1 command we allow: {line!r}"
        assert blocks, f"line {number}: LAST before any CREATE"
        if match["term"] == "Len":
            assert not blocks[-1].label, f"line {number}: second label"
            blocks[-1].label = match["text"][1:-1]
        elif match["term"] == "Den":
            assert not blocks[-1].description, f"line {number}: second description"
            blocks[-1].description = match["text"][1:-1]
        else:
            ref = match["ref"][1:-1]
            assert re.fullmatch(r"https?://\S+", ref), f"line {number}: reference {ref!r}"
            blocks[-1].statements.append((match["prop"], match["value"], ref))
    return Export(blocks, comments)


def test_quickstatements_parse_and_every_statement_is_referenced(shipped_graph) -> None:
    blocks = parse_quickstatements(quickstatements(shipped_graph))
    assert blocks
    held = set(exact_qids(shipped_graph).values())
    for block in blocks:
        assert block.label and block.statements
        # What patrollers expect of a new item: a description, lower-case, no full stop.
        assert block.description.startswith("invocation of the OSCE ")
        assert not block.description.endswith(".")
        for prop, value, _ in block.statements:
            assert prop in {"P585", "P710"}  # P31: no sourced class; P921: see the header
            if prop == "P710":
                assert value in held


def _time_of(literal) -> str:
    value, datatype = str(literal), str(literal.datatype)
    if datatype.endswith("#date"):
        return f"+{value}T00:00:00Z/11"
    if datatype.endswith("#gYearMonth"):
        return f"+{value}-00T00:00:00Z/10"
    assert datatype.endswith("#gYear")
    return f"+{value}-00-00T00:00:00Z/9"


def _claim_urls(shipped_graph, pattern: str) -> set[tuple[str, str, str]]:
    """(invocation, value, url) of the claims matching `pattern` (binding ?claim, ?inv,
    ?value), through sources that are not mirrors and have a URL."""
    rows = shipped_graph.select(PREFIXES + f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?inv ?value ?url WHERE {{ {pattern}
          ?claim prov:wasDerivedFrom ?src . ?src schema:url ?url .
          FILTER NOT EXISTS {{ ?src mm:sourceType <{BASE}id/source-type/mirror> }} }}""")
    return {(str(r["inv"]), str(r["value"]), str(r["url"])) for r in rows}


def test_every_reference_states_the_value_it_supports(shipped_graph) -> None:
    """Issue 9: P585 only from a date claim whose value is the invocation's date; P710 only
    from an invoking-States list that names that party; never a mirror, never a fallback to
    the invocation's other sources."""
    text = quickstatements(shipped_graph)
    export = parse_export(text)
    blocks = {b.label: b for b in export.blocks}
    invocations = shipped_graph.select(PREFIXES + """SELECT ?inv ?label ?date WHERE {
        ?inv a mm:Invocation ; rdfs:label ?label ; mm:date ?date FILTER(LANG(?label) = 'en') }""")
    dates = _claim_urls(shipped_graph, """?claim mm:claimProperty mm:date ; mm:claimAbout ?inv ;
                                          mm:claimValue ?value .""")
    lists = _claim_urls(shipped_graph, """?claim a mm:InvokingStatesClaim ; mm:claimAbout ?inv ;
                                          mm:listsState ?value .""")
    qid_of = exact_qids(shipped_graph)
    party_of = {}
    for state, qid in qid_of.items():
        party_of.setdefault(qid, set()).add(state)
    for row in invocations:
        inv, local = str(row["inv"]), str(row["inv"])[len(BASE) + 3:]
        block = blocks.get(str(row["label"]))
        if block is None:  # left out whole: a comment says so and why
            assert any(c.startswith(f"{local} left out: ") for c in export.comments), local
            continue
        for prop, value, ref in block.statements:
            if prop == "P585":
                assert value == _time_of(row["date"])
                assert (inv, str(row["date"]), ref) in dates, (local, ref)
            else:
                assert any((inv, party, ref) in lists for party in party_of[value]), (local, value)
        if not any(p == "P585" for p, *_ in block.statements):
            assert any(c.startswith(f"{local}: P585 ") for c in export.comments), local
    # The cases the audit found: Turkmenistan's date is only in mirrors (and csce.gov says
    # "2003"), so no P585 for it.
    tm = next(b for label, b in blocks.items() if "Turkmenistan" in label)
    assert not any(p == "P585" for p, *_ in tm.statements)
    assert any(c.startswith("invocation/hdm-1999-04 left out: marked uncertain")
               for c in export.comments)
    for heading in ("P31 (instance of) is not written", "P921 (main subject) is not written"):
        assert any(c.startswith(heading) for c in export.comments)


def _with_invocation_class(tmp_path: Path, sources: str) -> KnowledgeGraph:
    """The shipped graph plus a claim linking mm:Invocation to a Wikidata class, derived from
    `sources` (Turtle). The QID and URLs are stand-ins that exercise the P31 path (no class
    for an invocation is sourced in the data); they are not facts."""
    extra = tmp_path / "invocation-class.ttl"
    extra.write_text(f"""@prefix mm: <{MM}> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix prov: <http://www.w3.org/ns/prov#> . @prefix schema: <https://schema.org/> .
        mm:Invocation skos:exactMatch <{WD}Q1> .
        <{BASE}id/claim/test-invocation-class> a mm:Claim ; mm:claimAbout mm:Invocation ;
            mm:claimProperty skos:exactMatch ; mm:claimValue <{WD}Q1> ;
            prov:wasDerivedFrom {sources} .
        <{BASE}id/source/test-copy> schema:url <https://example.org/copy> ;
            mm:sourceType <{BASE}id/source-type/mirror> .
        <{BASE}id/source/test-original> schema:url <https://example.org/original> ;
            mm:sourceType <{BASE}id/source-type/dataset> .
        """, encoding="utf-8")
    return load_graph([*files.default_data_files(), extra])


def test_p31_is_written_only_with_a_reference_that_is_not_a_mirror(tmp_path: Path) -> None:
    copy, original = f"<{BASE}id/source/test-copy>", f"<{BASE}id/source/test-original>"
    export = parse_export(quickstatements(_with_invocation_class(tmp_path, copy)))
    assert not any(p == "P31" for b in export.blocks for p, *_ in b.statements)
    assert any(c.startswith("P31 (instance of) is not written") for c in export.comments)

    export = parse_export(quickstatements(_with_invocation_class(tmp_path, f"{copy}, {original}")))
    assert export.blocks
    for block in export.blocks:
        p31 = [(value, ref) for prop, value, ref in block.statements if prop == "P31"]
        assert p31 == [("Q1", "https://example.org/original")], block.label
    assert not any(c.startswith("P31 (instance of) is not written") for c in export.comments)


def test_a_comment_cannot_close_early() -> None:
    from mmkg.wikidata.exports import _comment

    line = _comment("a */ b\nc")
    assert COMMENT.fullmatch(line) and line.count("*/") == 1


def test_strict_parser_rejects_bad_lines() -> None:
    with pytest.raises(AssertionError):
        parse_quickstatements('CREATE\nLAST\tP710\tQ36\n')  # no reference
    with pytest.raises(AssertionError):
        parse_quickstatements('CREATE\nLAST\tP585\t+2025-07-24T00:00:00Z/12\tS854\t"https://x"\n')
    with pytest.raises(AssertionError):
        parse_quickstatements('LAST\tLen\t"x"\n')
    with pytest.raises(AssertionError):
        parse_quickstatements('# a comment QuickStatements does not know\n')


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
