"""The data as a publication: plain words only, and the audited facts, checked mechanically.

Self-contained: reads graph/, ontology/ and shapes/ from the repository root with rdflib and
the standard library only (no Flask app), so it runs wherever the tests are regrouped.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = [*sorted((ROOT / "graph").glob("*.ttl")), *sorted((ROOT / "ontology").glob("*.ttl")),
             *sorted((ROOT / "shapes").glob("*.ttl"))]

MM = Namespace("https://w3id.org/mmkg/ontology#")
ID = "https://w3id.org/mmkg/id/"
WD = Namespace("http://www.wikidata.org/entity/")
STATE = Namespace(ID + "state/")
INV = Namespace(ID + "invocation/")
CLAIM = Namespace(ID + "claim/")
DOC = Namespace(ID + "document/")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")

# Phrases that describe how the data was compiled, not what it says (RULINGS: scaffolding words).
SCAFFOLDING = [
    "the seed", "seed page", "seed's", "(seed", "as cited by the seed",
    "the reference", "reference's", "project reference", "reference compilation",
    "states.csv", "facts.md", "invocations.csv", "other_qids", "violation-provisions.csv",
    "legal-and-vocabularies", "public github file", "wikidata-derived", "project ruling",
]
# A real document keeps its own title even where it contains one of those words: allowed by
# exact title only.
ALLOWED_TITLES = [
    "OSCE Human Dimension Commitments reference guide",
]


@cache
def graph() -> Graph:
    g = Graph()
    for path in PUBLISHED:
        g.parse(path, format="turtle")
    return g


def _scrub(text: str) -> str:
    for title in ALLOWED_TITLES:
        text = text.replace(title, "")
    return text.lower()


def test_no_published_literal_speaks_in_scaffolding() -> None:
    found = []
    for s, p, o in graph():
        if isinstance(o, Literal):
            text = _scrub(str(o))
            for phrase in SCAFFOLDING:
                if phrase in text:
                    found.append(f"{s} {p}: ...{phrase}...")
    assert not found, "\n".join(found[:20])


def test_no_identifier_carries_scaffolding_words() -> None:
    words = re.compile(r"seed|reference|github|wikidata-derived|states-csv|facts-md")
    bad = sorted({str(term) for triple in graph() for term in triple
                  if isinstance(term, URIRef) and str(term).startswith(ID)
                  and words.search(str(term)[len(ID):])})
    assert not bad, bad


def test_redirects_map_every_renamed_identifier_once() -> None:
    with open(ROOT / "graph" / "redirects.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"old", "new"}
    olds = [row["old"] for row in rows]
    assert len(olds) == len(set(olds)), "an old identifier is listed twice"
    subjects = {str(s) for s in graph().subjects()}
    for row in rows:
        assert row["old"].startswith("https://w3id.org/mmkg/")
        assert row["old"] not in subjects, f"{row['old']} is still described"
        if row["new"].startswith(ID):
            assert row["new"] in subjects, f"{row['new']} (redirect target) is not described"
    assert "https://w3id.org/mmkg/graph/seed" in olds


def test_eu_statements_at_pc_1369_and_1382_are_one_node_each() -> None:
    """Each statement is its EEAS page; the identifiers without an address redirect to it."""
    g = graph()
    with open(ROOT / "graph" / "redirects.csv", newline="", encoding="utf-8") as handle:
        redirects = {row["old"]: row["new"] for row in csv.DictReader(handle)}
    for number, date in (("1369", "2022-04-13"), ("1382", "2022-07-14")):
        merged = URIRef(redirects[f"{ID}source/eeas-eu-statement-pc-{number}"])
        assert str(g.value(merged, URIRef("https://schema.org/url"))).startswith(
            "https://www.eeas.europa.eu/delegations/vienna-international-organisations/")
        assert (merged, MM.date, Literal(date, datatype=XSD.date)) in g
        assert f"No. {number}" in str(g.value(merged, RDFS.label))


def _iso(states) -> set[str]:
    g = graph()
    return {str(g.value(s, MM.iso3166Alpha2)) for s in states}


def _listed(claim: URIRef) -> set[str]:
    return _iso(graph().objects(claim, MM.listsState))


# The 45 delegations named by the joint statement of 3 March 2022 (German Permanent Mission's
# page), as ISO 3166-1 alpha-2 codes.
MARCH_2022 = set("""AL AD AT BE BA BG CA HR CY CZ DK EE FI FR GE DE GR HU IS IE IT LV LI LT LU MT
MD MC ME NL MK NO PL PT RO SM RS SK SI ES SE CH TR GB US""".split())


def test_sfr_yugoslavia_is_q83286_not_the_general_item() -> None:
    g = graph()
    assert (STATE["sfr-yugoslavia"], SKOS.exactMatch, WD.Q83286) in g
    assert (STATE["sfr-yugoslavia"], SKOS.exactMatch, WD.Q36704) not in g
    assert (STATE["sfr-yugoslavia"], SKOS.closeMatch, WD.Q36704) in g


def test_fr_yugoslavia_choice_is_sourced_to_the_item() -> None:
    g = graph()
    assert set(g.objects(STATE["fr-yugoslavia"], SKOS.exactMatch)) == {WD.Q838261}
    assert (STATE["fr-yugoslavia"], SKOS.closeMatch, WD.Q37024) in g
    claim = CLAIM["state-fr-yugoslavia-wikidata"]
    assert (claim, MM.claimValue, WD.Q838261) in g
    assert URIRef(ID + "source/wikidata-org-wiki-q838261") in set(
        g.objects(claim, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")))


def test_every_wikidata_link_is_sourced_to_its_item() -> None:
    g = graph()
    prov = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
    for claim in g.subjects(MM.claimProperty, SKOS.exactMatch):
        value = g.value(claim, MM.claimValue)
        if not str(value).startswith(str(WD)) or "conflicting" in str(claim):
            continue
        item = URIRef(ID + "source/wikidata-org-wiki-" + str(value).rsplit("/", 1)[1].lower())
        assert item in set(g.objects(claim, prov)), claim


def test_every_wikidata_class_is_sourced_to_the_states_item_and_the_copy_read() -> None:
    """A State's Wikidata class (P31) is Wikidata's statement on the State's own item: its
    claim cites that item and the saved query answer it was read in, a mirror."""
    g = graph()
    prov = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
    copy = URIRef(ID + "source/sdm-test-data-countries-wikidata")
    assert (copy, MM.sourceType, URIRef(ID + "source-type/mirror")) in g
    classed = set(g.subjects(MM.wikidataClass, None))
    assert len(classed) == 48
    for state in classed:
        item = str(g.value(state, SKOS.exactMatch)).rsplit("/", 1)[1]
        for cls in g.objects(state, MM.wikidataClass):
            assert cls == WD.Q6256, state
            claims = [c for c in g.subjects(MM.claimAbout, state)
                      if (c, MM.claimProperty, MM.wikidataClass) in g
                      and (c, MM.claimValue, cls) in g]
            assert len(claims) == 1, state
            assert set(g.objects(claims[0], prov)) == {
                URIRef(ID + "source/wikidata-org-wiki-" + item.lower()), copy}, state
    # Not in the copy: no class is stated for them.
    for local in ("ua", "md", "ba", "ge", "mc", "sm", "lu", "rs", "va",
                  "sfr-yugoslavia", "fr-yugoslavia"):
        assert STATE[local] not in classed, local


def test_march_2022_list_is_the_german_pages_45() -> None:
    claim = CLAIM["mm-2022-03-ua-invokers-joint-statement"]
    assert _listed(claim) == MARCH_2022
    assert len(MARCH_2022) == 45
    assert _iso(graph().objects(INV["mm-2022-03-ua"], MM.invokedBy)) == MARCH_2022
    assert (INV["mm-2022-03-ua"], MM.invokingListComplete, Literal(True)) in graph()
    assert (URIRef(ID + "meeting/pc-2022-03-03"), MM.meetingNumber,
            Literal(1360, datatype=XSD.integer)) in graph()


@pytest.mark.parametrize(("meeting", "number"), [
    ("pc-2022-03-03", 1360), ("pc-2023-05-04", 1421), ("pc-2024-04-25", 1470),
    ("pc-2026-01-29", 1551)])
def test_permanent_council_meeting_numbers_as_the_sources_give_them(meeting: str,
                                                                   number: int) -> None:
    g = graph()
    node = URIRef(ID + "meeting/" + meeting)
    assert list(g.objects(node, MM.meetingNumber)) == [Literal(number, datatype=XSD.integer)]
    assert str(number) in str(g.value(node, RDFS.label))


@pytest.mark.parametrize("resource", [
    "mechanism/moscow", "mechanism/vienna", "org/osce", "org/odihr", "org/permanent-council",
    "org/csce-committee-of-senior-officials"])
def test_every_name_in_another_language_is_a_sourced_claim(resource: str) -> None:
    g = graph()
    node = URIRef(ID + resource)
    foreign = {label for label in g.objects(node, SKOS.altLabel)
               if isinstance(label, Literal) and label.language not in (None, "en")}
    assert foreign, f"{resource} has no name in another language"
    claimed = {value for claim in g.subjects(MM.claimAbout, node)
               if (claim, MM.claimProperty, SKOS.altLabel) in g
               and any(True for _ in g.objects(claim, PROV.wasDerivedFrom))
               for value in g.objects(claim, MM.claimValue)}
    assert foreign <= claimed, foreign - claimed


def test_june_2022_list_is_a_set_of_45() -> None:
    claim = CLAIM["mm-2022-06-ua-invokers-joint-statement"]
    listed = _listed(claim)
    assert len(listed) == 45
    assert listed == MARCH_2022  # the same 18 named delegations and the EU Member States
    assert (INV["mm-2022-06-ua"], MM.deliveredBy, STATE.fr) in graph()


def test_georgia_2026_is_two_claims_23_and_24() -> None:
    g = graph()
    counts = {int(g.value(c, MM.statedCount)) for c in g.subjects(MM.claimAbout,
                                                                   INV["mm-2026-01-ge"])
              if (c, RDF.type, MM.InvokingStatesClaim) in g}
    assert {23, 24} <= counts
    joint = _listed(CLAIM["mm-2026-01-ge-invokers-joint-statement"])
    assert len(joint) == 24 and "BA" in joint
    assert (INV["mm-2026-01-ge"], MM.procedure,
            URIRef(ID + "procedure/moscow-para-12")) in g


def test_georgia_2024_vienna_list_of_38() -> None:
    listed = _listed(CLAIM["vm-2024-12-ge-invokers-delfi"])
    assert len(listed) == 38 and {"UA", "GB", "US", "LT"} <= listed


def test_vienna_belarus_2021_has_35_states() -> None:
    g = graph()
    inv = INV["vm-2021-11-by"]
    assert (inv, MM.date, Literal("2021-11-04", datatype=XSD.date)) in g
    assert len(_iso(g.objects(inv, MM.invokedBy))) == 35
    assert (inv, MM.mechanism, URIRef(ID + "mechanism/vienna")) in g


def test_vienna_belarus_2021_is_two_claims_35_and_34() -> None:
    """gov.uk names 35; the French Ministry's page of 5 November 2021 says 34: both kept."""
    g = graph()
    counts = {int(g.value(c, MM.statedCount)) for c in g.subjects(MM.claimAbout,
                                                                   INV["vm-2021-11-by"])
              if (c, RDF.type, MM.InvokingStatesClaim) in g}
    assert counts == {34, 35}
    french = CLAIM["vm-2021-11-by-invokers-diplomatie-gouv-fr"]
    assert (french, MM.invokingListComplete, Literal(False)) in g  # a count, not a list
    assert _listed(french) == {"FR"}
    page = "diplomatie-gouv-fr-fr-dossiers-pays-bielorussie-evenements-article-bielorussie-d"
    assert (french, PROV.wasDerivedFrom, URIRef(f"{ID}source/{page}")) in g
    # France's delegation to the OSCE says 35: a count beside the Ministry's 34.
    delegation = CLAIM["vm-2021-11-by-invokers-delegfrance"]
    assert g.value(delegation, MM.statedCount).toPython() == 35
    assert _listed(delegation) == {"FR"}
    source = g.value(delegation, PROV.wasDerivedFrom)
    assert str(g.value(source, SCHEMA.url)) == ("https://osce.delegfrance.org/Bielorussie-Droits-"
                                                 "de-l-Homme-Declenchement-du-Mecanisme-de-Vienne")


def test_belarus_2020_report_title_is_the_one_its_sources_quote() -> None:
    g = graph()
    report = URIRef(ID + "report/mm-2020-by")
    title = Literal("On Alleged Human Rights Violations Related to the Presidential Elections of "
                    "9 August 2020 in Belarus", lang="en")
    assert (report, URIRef("http://purl.org/dc/terms/title"), title) in g
    claim = CLAIM["mm-2020-by-report-title"]
    assert (claim, MM.claimValue, title) in g
    assert {str(s).rsplit("/", 1)[1].split("-")[0] for s in g.objects(claim, PROV.wasDerivedFrom)} \
        == {"civicsolidarity", "isans"}


def test_belarus_2020_report_publication_dates_are_two_claims() -> None:
    """5 November 2020 (held) and sanctionsby.info's 29 October 2020, each with its source."""
    g = graph()
    report = URIRef(ID + "report/mm-2020-by")
    dates = {str(g.value(c, MM.claimValue)) for c in g.subjects(MM.claimAbout, report)
             if (c, MM.claimProperty, MM.publishedOn) in g}
    assert dates == {"2020-11-05", "2020-10-29"}
    assert set(g.objects(report, MM.publishedOn)) == {Literal("2020-11-05", datatype=XSD.date)}
    assert (CLAIM["mm-2020-by-report-published-sanctionsby"], PROV.wasDerivedFrom,
            URIRef(ID + "source/sanctionsby-info-en-osce")) in g


def test_moscow_document_adopted_3_october_1991() -> None:
    g = graph()
    assert (DOC["moscow-document-1991"], MM.date, Literal("1991-10-03", datatype=XSD.date)) in g
    assert (CLAIM["moscow-document-1991-adopted"], MM.claimValue,
            Literal("1991-10-03", datatype=XSD.date)) in g


def test_1999_use_is_uncertain_under_the_human_dimension_mechanism() -> None:
    g = graph()
    inv = INV["hdm-1999-04"]
    assert (inv, MM.mechanism, URIRef(ID + "mechanism/human-dimension")) in g
    assert (inv, MM.confidence, URIRef(ID + "confidence/uncertain")) in g


# The invocations dated from the pages that state their date (issues 9 and 11), with the date
# held on each at its precision (xsd:date, gYearMonth or gYear).
DATED_INVOCATIONS = [
    ("mm-2026-01-ge", Literal("2026-01-29", datatype=XSD.date)),
    ("mm-2025-07-ua-pow", Literal("2025-07-24", datatype=XSD.date)),
    ("vm-2024-12-ge", Literal("2024-12-20", datatype=XSD.date)),
    ("mm-2023-03-ua-children", Literal("2023-03-30", datatype=XSD.date)),
    ("mm-2023-03-by", Literal("2023-03-23", datatype=XSD.date)),
    ("mm-2022-07-ru", Literal("2022-07-28", datatype=XSD.date)),
    ("mm-2022-06-ua", Literal("2022-06-02", datatype=XSD.date)),
    ("mm-2018-ru-chechnya", Literal("2018-11-01", datatype=XSD.date)),
    ("vm-2018-08-ru-chechnya", Literal("2018-08", datatype=XSD.gYearMonth)),
    ("mm-2011-by", Literal("2011-04-06", datatype=XSD.date)),
    ("mm-1993-md", Literal("1993", datatype=XSD.gYear)),
    ("mm-1992-hr-ba", Literal("1992", datatype=XSD.gYear)),
    ("mm-1992-ee", Literal("1992", datatype=XSD.gYear)),
]
MIRROR = URIRef(ID + "source-type/mirror")


@pytest.mark.parametrize(("invocation", "date"), DATED_INVOCATIONS,
                         ids=[inv for inv, _ in DATED_INVOCATIONS])
def test_invocation_date_is_claimed_by_a_source_with_a_url(invocation: str,
                                                            date: Literal) -> None:
    g = graph()
    inv = INV[invocation]
    # The same term, datatype included: a gYear claim does not support a day, nor the reverse.
    assert list(g.objects(inv, MM.date)) == [date]
    claims = [c for c in g.subjects(MM.claimAbout, inv)
              if (c, MM.claimProperty, MM.date) in g and (c, MM.claimValue, date) in g]
    assert claims, f"no date claim on {invocation} with the value {date}"
    sources = {src for c in claims for src in g.objects(c, PROV.wasDerivedFrom)
               if g.value(src, SCHEMA.url) is not None and (src, MM.sourceType, MIRROR) not in g}
    assert sources, f"the date claims on {invocation} cite no non-mirror source with a URL"
    for c in claims:
        assert g.value(c, RDFS.comment) is not None, f"{c} does not say what its sources say"


def test_a_disagreeing_date_is_a_claim_beside_the_accepted_one() -> None:
    g = graph()
    inv = INV["mm-2026-01-ge"]
    values = {g.value(c, MM.claimValue) for c in g.subjects(MM.claimAbout, inv)
              if (c, MM.claimProperty, MM.date) in g}
    assert values == {Literal("2026-01-29", datatype=XSD.date),
                      Literal("2025-01-29", datatype=XSD.date)}
    assert (CLAIM["mm-2026-01-ge-date-2025"], MM.confidence,
            URIRef(ID + "confidence/uncertain")) in g
    assert list(g.objects(inv, MM.date)) == [Literal("2026-01-29", datatype=XSD.date)]


@pytest.mark.parametrize("cls", [MM.Correction])
def test_release_and_corrections_are_published(cls: URIRef) -> None:
    g = graph()
    dataset = URIRef("https://w3id.org/mmkg/dataset")
    version = g.value(dataset, URIRef("http://www.w3.org/ns/dcat#version"))
    assert version is not None
    corrections = set(g.subjects(RDF.type, cls))
    assert corrections
    for correction in corrections:
        assert str(g.value(correction, MM.inRelease)) == str(version)
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert f'version: "{version}"' in cff and f"date-released: {version}" in cff
