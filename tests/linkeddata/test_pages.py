"""The HTML pages for people: a title for every document, formats announced, the special
layouts of States and invocations, dates for people, the landing page's timeline, escaping."""

from __future__ import annotations

import json
import re

import pytest
from rdflib.namespace import RDF

from helpers import SCRIPT_LABEL, Page, our_resources
from mmkg.formats import RDF_FORMATS
from mmkg.state import get_state
from mmkg.uris import BASE, MM

EVERY_RESOURCE = pytest.mark.parametrize(
    "data", ["fixture", pytest.param("shipped", marks=pytest.mark.slow)])


@EVERY_RESOURCE
def test_every_document_has_an_html_page_with_its_label(request, data):
    app = request.getfixturevalue(f"{data}_app")
    client = app.test_client()
    for kind, local in our_resources(get_state(app).backend):
        response = client.get(f"/doc/{kind}/{local}", headers={"Accept": "text/html"})
        assert response.status_code == 200, (kind, local)
        assert response.mimetype == "text/html"
        assert response.headers["Content-Location"] == f"/doc/{kind}/{local}.html"
        page = Page.parse(response.text)
        assert page.h1, (kind, local)
        assert not page.h1.startswith("https://"), f"{kind}/{local} shows an IRI as title"


def test_pages_announce_and_offer_every_format(ld_client):
    page = Page.parse(ld_client.get("/doc/state/pl.html").text)
    for fmt in RDF_FORMATS:
        assert (fmt.media_type, f"/doc/state/pl.{fmt.extension}") in page.alternates
        assert f"/doc/state/pl.{fmt.extension}" in page.links


def test_state_page_links_wikidata_and_lists_invocations_with_roles(ld_client, ld_backend):
    page = ld_client.get("/doc/state/ua.html").text
    parsed = Page.parse(page)
    assert parsed.h1 == "Ukraine"
    assert "http://www.wikidata.org/entity/Q212" in parsed.links
    assert "/doc/invocation/mm-2025-07-ua-pow" in parsed.links
    assert "inviting State" in page
    joined = Page.parse(ld_client.get("/doc/state/pl.html").text)
    assert "/doc/invocation/mm-2025-07-ua-pow" in joined.links


def test_invocation_page_lists_invokers_experts_report_allegations_claims(ld_client, ld_backend):
    page = ld_client.get("/doc/invocation/mm-2025-07-ua-pow.html").text
    parsed = Page.parse(page)
    text = " ".join(parsed.text)
    assert "24 July 2025" in text
    for link in ("/doc/state/pl", "/doc/person/veronika-bilkova", "/doc/report/mm-2025-07-ua-pow",
                 "/doc/category/torture-ill-treatment"):
        assert link in parsed.links, link
    assert any(link.startswith("/doc/allegation/mm-2025-07-ua-pow") for link in parsed.links)
    assert any(link.startswith("/doc/claim/mm-2025-07-ua-pow") for link in parsed.links)
    assert "Bílková" in text


def test_dates_are_formatted_for_people(ld_client):
    assert "June 1993" in ld_client.get("/doc/invocation/mm-1993-yu.html").text
    page = ld_client.get("/doc/invocation/mm-1992-ee.html").text
    assert re.search(r">\s*1992\s*<", page)


def test_landing_page(ld_client, ld_backend):
    response = ld_client.get("/")
    assert response.status_code == 200
    parsed = Page.parse(response.text)
    assert "/sparql" in parsed.links and "/.well-known/void" in parsed.links
    markup = next(s for s, a in zip(parsed.script_text, parsed.scripts, strict=False)
                  if a.get("type") == "application/ld+json")
    dataset = json.loads(markup)
    assert dataset["@type"] == "Dataset" and dataset["license"].startswith("https://creativecommons")
    invocations = {str(s) for s in ld_backend.construct(
        "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c }").subjects(RDF.type, MM.Invocation)}
    svg = response.text[response.text.index("<svg"):response.text.index("</svg>")]
    in_timeline = set(re.findall(r'<a href="/doc/invocation/([^"]+)"', svg))
    assert {BASE + "id/invocation/" + i for i in in_timeline} == invocations


def test_data_is_escaped_in_pages(fixture_app):
    assert SCRIPT_LABEL in get_state(fixture_app).settings.data
    page = fixture_app.test_client().get("/doc/source/test-script-label.html").text
    assert "<script>window.__mmkgInjected" not in page
    assert "&lt;script&gt;window.__mmkgInjected = true&lt;/script&gt;&lt;b&gt;" in page
    parsed = Page.parse(page)
    assert parsed.h1.startswith("<script>window.__mmkgInjected")


def test_favicon_is_an_icon(ld_client):
    response = ld_client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"
