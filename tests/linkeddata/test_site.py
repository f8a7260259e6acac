"""The site for people, through the Flask test client: the layout every page shares (header
with the index pages and search, skip link, footer with the release, how to cite and how to
report an error), summaries that lead with the findings, index pages, search, the corrections
log, redirects of renamed identifiers, canonical addresses, descriptions and embedded JSON-LD,
the sitemap, and error pages for browsers."""

from __future__ import annotations

import csv
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from helpers import REPOSITORY, Page, json_body, our_resources
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg import files
from mmkg.kg.store import KnowledgeGraph
from mmkg.linkeddata.labels import INVERSE_LABELS
from mmkg.state import get_state
from mmkg.uris import BASE, MM, SCHEMA

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
POW = "/doc/invocation/mm-2025-07-ua-pow"
INDEXES = ("/invocations", "/reports", "/experts", "/states", "/categories", "/sources",
           "/corrections")
# Pages of the site that are not a resource's page; each has the site's header and footer.
SITE_PAGES = ("/", *INDEXES, "/search?q=poland", "/sparql", "/identifiers", "/ontology",
              "/.well-known/void", "/wikidata", "/reconcile", "/graph/states",
              "/doc/state/zz")


def page(client: FlaskClient, path: str, status: int = 200) -> Page:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == status, (path, response.status_code, response.text[:300])
    assert response.mimetype == "text/html", path
    return Page.parse(response.text)


def words(html: str) -> str:
    """The text of some HTML as a reader sees it: tags dropped, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" ,", ",").replace(" .", ".")


def citation() -> dict[str, str]:
    """The fields of CITATION.cff this page must agree with (a flat YAML file)."""
    fields = {}
    for line in (REPOSITORY / "CITATION.cff").read_text(encoding="utf-8").splitlines():
        match = re.match(r'([a-z-]+): "?([^"]*)"?$', line)
        if match:
            fields[match[1]] = match[2]
    return fields


# --- the layout ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", [*SITE_PAGES, POW, "/doc/state/pl"])
def test_every_page_has_the_site_header_search_and_footer(shipped_client, path):
    status = 404 if path.endswith("/zz") else 200
    parsed = page(shipped_client, path, status)
    for index in ("/invocations", "/states", "/reports", "/experts", "/categories", "/sources",
                  "/sparql", "/wikidata"):
        assert index in parsed.links, (path, index)
    assert parsed.forms["form-0"][0] == "/search" or any(
        action == "/search" for action, _ in parsed.forms.values()), path
    assert parsed.anchors[0] == ("#main", "Skip to content")
    assert "main" in parsed.ids
    text = " ".join(parsed.text)
    assert f"Data release {citation()['version']}" in text, path
    assert "/corrections" in parsed.links and "/#cite" in parsed.links
    assert parsed.meta["viewport"] == "width=device-width, initial-scale=1"


@pytest.mark.parametrize("path", [*SITE_PAGES[:-1], POW, "/doc/state/pl",
                                  "/doc/category/torture-ill-treatment"])
def test_every_page_has_a_title_description_canonical_address_and_json_ld(shipped_client,
                                                                            path):
    parsed = page(shipped_client, path)
    assert parsed.meta.get("description"), path
    canonical = urlsplit(parsed.canonical)
    assert parsed.canonical.startswith(BASE), path  # the permanent address, any host
    assert canonical.path == urlsplit(BASE).path + urlsplit(path).path.lstrip("/")
    if parsed.meta.get("robots") == "noindex":  # a search's results: not a page to index
        return
    [markup] = parsed.jsonld()  # every page describes itself for machines
    if path in INDEXES:
        assert markup["@type"] == "CollectionPage" and markup["url"] == parsed.canonical


def test_a_resource_page_embeds_its_description_as_json_ld_with_schema_org_types(
        shipped_client):
    parsed = page(shipped_client, POW)
    [markup] = parsed.jsonld()
    graph = Graph().parse(data=json.dumps(markup), format="json-ld")
    topic = URIRef(BASE + "id/invocation/mm-2025-07-ua-pow")
    assert (topic, RDF.type, MM.Invocation) in graph
    assert (topic, RDF.type, SCHEMA.Event) in graph  # mm:Invocation ⊑ schema:Event
    assert (topic, SCHEMA.name, Literal(parsed.h1, lang="en")) in graph
    assert (topic, MM.date, None) in graph
    assert (topic, SCHEMA.url, URIRef(BASE + POW.lstrip("/"))) in graph
    state = Graph().parse(data=json.dumps(page(shipped_client, "/doc/state/pl").jsonld()[0]),
                          format="json-ld")
    assert (URIRef(BASE + "id/state/pl"), SCHEMA.sameAs,
            URIRef("http://www.wikidata.org/entity/Q36")) in state


def test_the_landing_page_describes_the_dataset_for_dataset_search(shipped_client):
    parsed = page(shipped_client, "/")
    [dataset] = parsed.jsonld()
    cff = citation()
    assert dataset["@type"] == "Dataset"
    assert dataset["version"] == cff["version"]
    assert dataset["datePublished"] == dataset["dateModified"] == cff["date-released"]
    assert dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert {d["contentUrl"].rsplit("/", 2)[-2] for d in dataset["distribution"]} == {"dump"}
    assert all(d["contentUrl"].startswith("http") for d in dataset["distribution"])


def test_with_a_public_url_pages_name_it_as_their_permanent_address(shipped_graph):
    app = create_app(Settings(public_url="https://kg.example.org/"), graph=shipped_graph)
    try:
        client = app.test_client()
        assert page(client, POW).canonical == "https://kg.example.org" + POW
        assert page(client, "/").canonical == "https://kg.example.org/"
        sitemap = client.get("/sitemap.xml").text
        assert f"<loc>https://kg.example.org{POW}</loc>" in sitemap
        [dataset] = page(client, "/").jsonld()
        assert dataset["distribution"][0]["contentUrl"].startswith("https://kg.example.org/dump/")
    finally:
        get_state(app).backend.close()


def test_the_how_to_cite_block_agrees_with_citation_cff(shipped_client):
    html = shipped_client.get("/", headers=BROWSER).text
    cff = citation()
    block = html[html.index('id="cite"'):]
    for field in ("title", "version", "url"):
        assert f">{cff[field]}<" in block, field
    assert f'datetime="{cff["date-released"]}"' in block
    # The page no longer shows the checkout's file time as "last modified".
    assert "Last modified" not in html


def test_a_configured_address_for_reports_is_linked_from_every_page(shipped_graph):
    app = create_app(Settings(report_errors_to="mailto:corrections@example.org"),
                     graph=shipped_graph)
    try:
        client = app.test_client()
        for path in ("/", POW, "/sparql", "/corrections"):
            assert "mailto:corrections@example.org" in page(client, path).links, path
    finally:
        get_state(app).backend.close()


def test_without_an_address_the_corrections_page_says_how_to_report(shipped_client):
    parsed = page(shipped_client, "/corrections")
    text = " ".join(" ".join(parsed.text).split())
    assert "names no address for reports" in text
    assert "the document that shows the right value" in text


def test_the_report_address_setting_refuses_anything_but_a_link():
    with pytest.raises(ValueError, match="https:, http: or mailto:"):
        Settings.from_env({"MMKG_REPORT_ERRORS_TO": "javascript:alert(1)"})
    assert Settings.from_env({"MMKG_REPORT_ERRORS_TO": "https://example.org/issues"}
                             ).report_errors_to == "https://example.org/issues"


# --- the invocation page: findings first -------------------------------------------------

def test_the_invocation_page_leads_with_the_count_the_names_once_and_the_findings(
        shipped_client, shipped_graph):
    parsed = page(shipped_client, POW)
    text = " ".join(" ".join(parsed.text).split())
    assert "Invoked by 41 States" in text
    invokers = {str(r["s"]) for r in shipped_graph.select(
        f"SELECT ?s WHERE {{ <{BASE}id/invocation/mm-2025-07-ua-pow> <{MM}invokedBy> ?s }}")}
    assert len(invokers) == 41
    html = shipped_client.get(POW, headers=BROWSER).text
    top = Page.parse(html[:html.index('id="properties"')])
    for iri in invokers:  # each named once above the full table of statements
        href = "/doc/" + iri[len(BASE) + 3:]
        assert top.links.count(href) == 1, href
    # The report's findings, each sentence inline, apart from what other sources alleged.
    findings = html[html.index('id="findings"'):html.index('id="other-allegations"')]
    assert "widespread and systematic torture" in findings
    assert "Polish Permanent Representation" not in Page.parse(findings).h1
    others = html[html.index('id="other-allegations"'):html.index('id="claims"')]
    assert "citing OHCHR and HRMMU" in others and "widespread and systematic" not in others
    assert "/doc/person/veronika-bilkova" in top.links
    assert "/doc/report/mm-2025-07-ua-pow" in top.links


def test_sources_are_numbered_references_listed_once(shipped_client):
    html = shipped_client.get(POW, headers=BROWSER).text
    parsed = Page.parse(html)
    references = html[html.index('id="references"'):html.index('id="properties"')]
    listed = re.findall(r'<li id="ref-(\d+)">', references)
    assert listed == [str(n) for n in range(1, len(listed) + 1)] and len(listed) > 5
    cited = set(re.findall(r'href="#ref-(\d+)"', html))
    assert cited == set(listed)  # every reference is cited and every citation listed
    source_links = Page.parse(references).links
    assert len([h for h in source_links if h.startswith("/doc/source/")]) == len(listed)
    # A source is one entry, not repeated under every allegation.
    body = html[:html.index('id="references"')]
    assert "/doc/source/" not in body
    assert parsed.h1 == "Moscow Mechanism invocation of 24 July 2025 (Ukrainian prisoners of war)"


def test_what_each_source_says_reads_as_differences_not_another_list(shipped_client):
    html = shipped_client.get(POW, headers=BROWSER).text
    claims = words(html[html.index('id="claims"'):html.index('id="references"')])
    assert "It names 45 States, including Hungary, Serbia, Türkiye and United States of " \
           "America, which are not among those above" in claims
    # A source that names only some States is not followed by the names it leaves out.
    assert "It names 1 State." in claims and "does not name" not in claims


# --- summaries of other kinds -------------------------------------------------------------

@pytest.mark.parametrize(("path", "expected"), [
    ("/doc/report/mm-2025-07-ua-pow", ["Report on Possible Violations and Abuses",
                                       "Findings (", "widespread and systematic torture",
                                       "No address of the report itself was recorded"]),
    ("/doc/person/veronika-bilkova", ["Missions (5)", "expert on",
                                      "set up by Moscow Mechanism invocation of 3 March 2022"]),
    ("/doc/state/ua", ["Invocations concerning it", "inviting State", "Wikidata tools"]),
    ("/doc/category/torture-ill-treatment", ["Alleged violations (", "by invocation"]),
    ("/doc/source/odihr-osce-org-odihr-598057", ["Read it at odihr.osce.org",
                                                 "What it is cited for"]),
    ("/doc/claim/mm-2025-07-ua-pow-invokers-gov-pl", ["It names 45 States"]),
    ("/doc/mission/mm-2025-07-ua-pow", ["Experts", "Set up by"]),
    ("/doc/correction/2026-11-29-sfr-yugoslavia-wikidata", ["Q83286", "All corrections"]),
])
def test_each_kind_of_page_has_a_summary(shipped_client, path, expected):
    text = words(shipped_client.get(path, headers=BROWSER).text)
    for phrase in expected:
        assert phrase in text, (path, phrase)


def test_links_into_a_page_read_the_right_way_round(shipped_client):
    html = shipped_client.get("/doc/person/veronika-bilkova", headers=BROWSER).text
    inbound = html[html.index('id="inbound"'):]
    text = " ".join(Page.parse(inbound).text)
    assert "allegations attributed to them" in text and "expert on" in text
    assert ">alleged by<" not in inbound


def test_every_property_that_links_into_a_resource_has_inverse_words(shipped_graph):
    used = {str(r["p"]) for r in shipped_graph.select(
        f'SELECT DISTINCT ?p WHERE {{ ?s ?p ?o FILTER(isIRI(?o) && isIRI(?s) && '
        f'STRSTARTS(STR(?o), "{BASE}id/")) }}')}
    assert used - set(INVERSE_LABELS) == set()


# --- index pages ---------------------------------------------------------------------------

def test_the_invocations_index_has_the_timeline_with_a_legend_and_every_invocation(
        shipped_client, shipped_graph):
    parsed = page(shipped_client, "/invocations")
    invocations = {str(r["i"]) for r in shipped_graph.select(
        f"SELECT ?i WHERE {{ ?i a <{MM}Invocation> }}")}
    linked = {h for h in parsed.links if h.startswith("/doc/invocation/")}
    assert linked == {"/doc/" + i[len(BASE) + 3:] for i in invocations}
    text = " ".join(parsed.text)
    assert "Moscow Mechanism (" in text and "Vienna Mechanism (" in text  # the legend
    html = shipped_client.get("/invocations", headers=BROWSER).text
    assert html.count('r="9"') + html.count('width="16"') == len(invocations)  # readable marks


def test_the_states_index_counts_each_role(shipped_client, shipped_graph):
    html = shipped_client.get("/states", headers=BROWSER).text
    row = html[html.index('href="/doc/state/pl"'):]
    row = row[:row.index("</tr>")]
    joined = shipped_graph.select(f"SELECT (COUNT(?i) AS ?n) WHERE {{ ?i <{MM}invokedBy> "
                                  f"<{BASE}id/state/pl> }}")[0]["n"]
    assert f'<td class="num">{joined}</td>' in row
    ua = html[html.index('href="/doc/state/ua"'):]
    assert "about it or on its territory" in ua[:ua.index("</tr>")]
    assert 'href="http://www.wikidata.org/entity/Q36"' in html


@pytest.mark.parametrize("path", INDEXES)
def test_index_pages_list_resources_by_label(shipped_client, path):
    parsed = page(shipped_client, path)
    resource_links = [(h, t) for h, t in parsed.anchors if h.startswith("/doc/")]
    assert len(resource_links) >= 10, path
    assert not any(t.startswith(("http", BASE)) for _, t in resource_links)


def test_the_corrections_log_lists_every_correction_and_each_has_a_page(shipped_client,
                                                                          shipped_graph):
    corrections = {str(r["c"]) for r in shipped_graph.select(
        f"SELECT ?c WHERE {{ ?c a <{MM}Correction> }}")}
    assert corrections
    parsed = page(shipped_client, "/corrections")
    for iri in corrections:
        path = "/doc/" + iri[len(BASE) + 3:]
        assert path in parsed.links
        assert page(shipped_client, path).h1


# --- search --------------------------------------------------------------------------------

def test_search_finds_prisoners_of_war_grouped_by_kind(shipped_client):
    parsed = page(shipped_client, "/search?q=prisoners+of+war")
    assert "/doc/group/prisoners-of-war" in parsed.links
    assert POW in parsed.links
    assert {"kind-invocation", "kind-group", "kind-allegation"} <= parsed.ids
    # Grouped: invocations come before alleged violations.
    assert parsed.links.index(POW) < parsed.links.index(
        next(h for h in parsed.links if h.startswith("/doc/allegation/")))


def test_search_answers_json_for_scripts(shipped_client):
    for response in (shipped_client.get("/search?q=Bilkova&format=json"),
                     shipped_client.get("/search?q=Bilkova",
                                        headers={"Accept": "application/json"})):
        assert response.mimetype == "application/json"
        data = json_body(response)
        assert data["results"][0] == {
            "id": BASE + "id/person/veronika-bilkova", "kind": "person",
            "label": "Veronika Bílková", "matched": None,
            "url": "/doc/person/veronika-bilkova"}


@pytest.mark.parametrize(("words", "expected"), [
    ("Pologne", "/doc/state/pl"),  # French
    ("Польша", "/doc/state/pl"),  # Russian
    ("bilkova", "/doc/person/veronika-bilkova"),  # accents do not matter
    ("TORTURE", "/doc/category/torture-ill-treatment"),  # nor case
    ("Türkiye", "/doc/state/tr"),
])
def test_search_matches_other_languages_accents_and_case(shipped_client, words, expected):
    data = json_body(shipped_client.get("/search", query_string={"q": words, "format": "json"}))
    assert expected in [r["url"] for r in data["results"][:5]], words


def test_search_bounds_its_input(shipped_client):
    response = shipped_client.get("/search", query_string={"q": "x" * 201, "format": "json"})
    assert response.status_code == 400 and "at most 200" in json_body(response)["error"]
    assert shipped_client.get("/search", query_string={"q": "x" * 201},
                              headers=BROWSER).status_code == 400
    assert json_body(shipped_client.get("/search?q=&format=json"))["results"] == []
    assert page(shipped_client, "/search").h1 == "Search"


def test_search_results_escape_the_query(shipped_client):
    html = shipped_client.get("/search", query_string={"q": "<script>x</script>"},
                              headers=BROWSER).text
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


# --- redirects of renamed identifiers ------------------------------------------------------

def _redirects() -> list[tuple[str, str]]:
    path = files.graph_dir() / "redirects.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["old"], row["new"]) for row in csv.DictReader(handle)]


def test_old_identifiers_answer_301_to_the_new_ones(shipped_client):
    table = _redirects()
    assert len(table) > 10
    graph_row = next((o, n) for o, n in table if "/graph/" in o)
    allegation = next((o, n) for o, n in table if "/id/allegation/" in o)
    source = next((o, n) for o, n in table if "/id/source/" in o)
    for old, new in (allegation, source):
        old_path, new_path = old[len(BASE) - 1:], new[len(BASE) - 1:]
        response = shipped_client.get(old_path)
        assert response.status_code == 301 and response.headers["Location"] == new_path
        assert shipped_client.get(new_path).status_code == 303
        doc = shipped_client.get(old_path.replace("/id/", "/doc/", 1) + ".ttl")
        assert doc.status_code == 301
        assert doc.headers["Location"] == new_path.replace("/id/", "/doc/", 1) + ".ttl"
    old_graph, new_graph = (iri[len(BASE) - 1:] for iri in graph_row)
    response = shipped_client.get(old_graph)
    assert response.status_code == 301 and response.headers["Location"] == new_graph
    assert shipped_client.get(new_graph, headers={"Accept": "text/turtle"}).status_code == 200


def test_every_renamed_identifier_answers_301(shipped_client):
    """Not only the first of each kind: merged sources too (one document, one node)."""
    for old, new in _redirects():
        response = shipped_client.get(old[len(BASE) - 1:])
        assert response.status_code == 301, old
        assert response.headers["Location"] == new[len(BASE) - 1:], old


def test_the_redirects_table_and_every_template_ship_as_package_data():
    package_data = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["mmkg"]
    package = Path(files.__file__).resolve().parents[1]
    shipped = {p for pattern in package_data for p in package.glob(pattern)}
    assert files.graph_dir() / "redirects.csv" in {p.resolve() for p in shipped} | shipped
    for template in (package / "templates").rglob("*.html"):
        assert template in shipped, template


def test_without_the_shipped_data_nothing_redirects(fixture_app):
    assert get_state(fixture_app).site.redirects == {}


# --- VoID: the release ---------------------------------------------------------------------

def test_void_states_the_release_and_the_licences_of_reused_data(shipped_client):
    graph = Graph().parse(data=shipped_client.get("/.well-known/void.ttl").text,
                          format="turtle")
    dataset = URIRef(BASE + "dataset")
    version = URIRef("http://www.w3.org/ns/dcat#version")
    assert graph.value(dataset, version) == Literal(citation()["version"])
    comment = str(graph.value(dataset, RDFS.comment))
    assert "CC0" in comment and "pycountry" in comment
    text = " ".join(page(shipped_client, "/.well-known/void").text)
    assert citation()["version"] in text


# --- sitemap, robots -----------------------------------------------------------------------

def test_the_sitemap_lists_every_page_at_its_canonical_address(shipped_client, shipped_graph):
    response = shipped_client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = {loc.text for loc in root.findall("s:url/s:loc", ns)}
    for kind, local in our_resources(shipped_graph):
        assert f"{BASE}doc/{kind}/{local}" in locations
    for path in ("", *(p.lstrip("/") for p in INDEXES), "sparql"):
        assert BASE + path in locations
    robots = shipped_client.get("/robots.txt").text
    assert f"Sitemap: {BASE}sitemap.xml" in robots


# --- error pages ---------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "status"), [
    ("/doc/state/zz", 404), ("/nowhere", 404), ("/doc/state/..%2f..", 400),
    ("/dump/other.ttl", 404),
])
def test_browsers_get_error_pages_in_the_layout(shipped_client, path, status):
    parsed = page(shipped_client, path, status)
    assert "/search" in [action for action, _ in parsed.forms.values()]
    assert "/" in parsed.links and "error-message" in parsed.ids
    plain = shipped_client.get(path, headers={"Accept": "*/*"})
    assert plain.status_code == status and plain.mimetype == "text/plain"


def test_a_406_stays_plain_unless_the_client_takes_html(shipped_client):
    # A client that refuses HTML is not a browser: it gets the message as text.
    response = shipped_client.get("/doc/state/pl", headers={
        "Accept": "image/png, text/html;q=0"})
    assert response.status_code == 406 and response.mimetype == "text/plain"
    # A browser asking for results in a format the endpoint does not write gets a page.
    response = shipped_client.post("/sparql", data={
        "query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "format": "png"}, headers=BROWSER)
    assert response.status_code == 406 and response.mimetype == "text/html"


def test_problem_details_become_a_page_for_browsers(shipped_app: Flask):
    from flask import Response

    from mmkg.web.errors import error_pages_for_browsers

    body = json.dumps({"title": "Busy", "detail": "Try again in 5 s.", "status": 503})
    with shipped_app.test_request_context("/x", headers=BROWSER):
        response = error_pages_for_browsers(Response(body, 503,
                                                     mimetype="application/problem+json"))
        assert response.mimetype == "text/html" and response.status_code == 503
        assert "Try again in 5 s." in response.get_data(as_text=True)
    with shipped_app.test_request_context("/x", headers={"Accept": "application/json"}):
        response = error_pages_for_browsers(Response(body, 503,
                                                     mimetype="application/problem+json"))
        assert response.mimetype == "application/problem+json"


# --- the Wikidata tools --------------------------------------------------------------------

def test_state_pages_reach_every_wikidata_tool_in_one_click(shipped_client):
    parsed = page(shipped_client, "/doc/state/pl")
    for tool in ("/wikidata", "/identifiers", "/reconcile"):
        assert tool in parsed.links
    tools = page(shipped_client, "/wikidata")
    for tool in ("/identifiers", "/reconcile", "/export/mixnmatch.tsv",
                 "/export/quickstatements.txt"):
        assert tool in tools.links


def test_the_wikidata_form_goes_to_the_resolver(shipped_client):
    response = shipped_client.get("/wikidata?qid=q36")
    assert response.status_code == 303 and response.headers["Location"].endswith("/wikidata/Q36")
    assert shipped_client.get("/wikidata/Q36").headers["Location"].endswith("/id/state/pl")


def test_the_reconciliation_manifest_is_json_for_clients_and_a_page_for_people(
        shipped_client):
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        response = shipped_client.get("/reconcile", headers=headers)
        assert response.mimetype == "application/json"
        assert json_body(response)["versions"] == ["0.2"]
    parsed = page(shipped_client, "/reconcile")
    assert "service-url" in parsed.ids
    assert "Add standard service" in " ".join(parsed.text)


def test_a_close_match_is_a_page_for_people_and_plain_for_scripts(shipped_client):
    response = shipped_client.get("/wikidata/Q237", headers=BROWSER)
    assert response.status_code == 404 and response.mimetype == "text/html"
    parsed = Page.parse(response.text)
    assert parsed.link_texts["Holy See"] == "/id/state/va"
    assert 'rel="related"' in response.headers["Link"]
    assert shipped_client.get("/wikidata/Q237").mimetype == "text/plain"


# --- labels everywhere ---------------------------------------------------------------------

def raw_link_texts(parsed: Page) -> list[tuple[str, str]]:
    """Links whose text is an address or an identifier's slug instead of words."""
    bad = []
    for href, text in parsed.anchors:
        if not text or href.startswith("#"):
            continue
        slug = href.rstrip("/").rsplit("/", 1)[-1]
        if text.startswith(("http://", "https://", BASE)) or \
                (href.startswith("/doc/") and text == slug and "-" in slug):
            bad.append((href, text))
    return bad


def crawl(client: FlaskClient, kg: KnowledgeGraph) -> dict[str, list[tuple[str, str]]]:
    paths = [f"/doc/{kind}/{local}" for kind, local in our_resources(kg)]
    paths += [p for p in SITE_PAGES if p not in ("/ontology", "/doc/state/zz", "/graph/states")]
    found = {}
    for path in paths:
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 200, path
        bad = raw_link_texts(Page.parse(response.text))
        if bad:
            found[path] = bad[:3]
    return found


def test_no_page_of_the_fixture_shows_an_iri_as_link_text(fixture_app):
    assert crawl(fixture_app.test_client(), get_state(fixture_app).backend) == {}


@pytest.mark.slow
def test_no_page_of_the_shipped_data_shows_an_iri_as_link_text(shipped_client, shipped_graph):
    assert crawl(shipped_client, shipped_graph) == {}


def test_static_assets_exist_and_name_no_other_host():
    static = Path(files.__file__).resolve().parents[1] / "static"
    for name in ("ld.css", "site.js", "query.js", "favicon.ico"):
        assert (static / name).is_file()
    for name in ("ld.css", "site.js", "query.js"):
        text = (static / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), name


def test_a_use_without_a_mission_says_so(shipped_client) -> None:
    """The Vienna Mechanism sends no mission: its page and the State's page say what the use
    concerns, and nothing claims a mission found anything."""
    page = shipped_client.get("/doc/invocation/vm-2021-11-by",
                              headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "State it concerns" in page
    assert "mission about it" not in page and "What the mission found" not in page
    state = shipped_client.get("/doc/state/by", headers={"Accept": "text/html"})
    text = state.get_data(as_text=True)
    assert "vm-2021-11-by" in text and "State it concerns" in text
    # Invocations that did set up a mission keep the role.
    assert "mission about it or on its territory" in text
