"""The query page and what the endpoint does for people: the page talks to this host only
(a Content-Security-Policy, YASGUI configured for our endpoint, prefixes and terms), the plain
form sends POST and pages long results, downloads are named by the endpoint, SELECT * keeps
the order the query wrote, and syntax errors are sentences with a line and a column."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import time
from contextlib import closing
from urllib.parse import urlencode

import pytest

from helpers import Page
from mmkg.sparql.page import PAGE_ROWS, examples
from mmkg.sparql.querytext import select_star_order, undeclared_prefix
from mmkg.uris import BASE, PREFIXES
from realservers import serving

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/sparql-results+json"}


def editor_config(html: str) -> dict:
    page = Page.parse(html)
    [config] = [json.loads(text) for text, attrs in zip(page.script_text, page.scripts,
                                                         strict=True)
                if attrs.get("id") == "query-config"]
    return config


# --- the page talks to this host only ------------------------------------------------------

def test_the_query_page_is_kept_to_this_host_by_its_content_security_policy(shipped_client):
    response = shipped_client.get("/sparql", headers=BROWSER)
    policy = dict(part.strip().split(" ", 1)
                  for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline or remote script runs
    assert policy["connect-src"] == "'self'"  # queries reach this endpoint only
    assert policy["form-action"] == "'self'"
    page = Page.parse(response.text)
    external = [s.get("src") for s in page.scripts if (s.get("src") or "").startswith("http")]
    assert external == []
    assert not re.search(r'(src|href)="(https?:)?//(?!w3id\.org)', response.text.split(
        "<main", 1)[0])  # nothing in <head> loads from another host


def test_the_editor_is_configured_for_our_endpoint_prefixes_and_examples(shipped_client):
    config = editor_config(shipped_client.get("/sparql", headers=BROWSER).text)
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == PREFIXES
    assert f"{PREFIXES['mm']}Invocation" in config["classes"]
    assert f"{PREFIXES['mm']}invokedBy" in config["properties"]
    assert [e["name"] for e in config["examples"]] == [e.name for e in examples()]
    assert config["query"] == examples()[0].query
    with shipped_client.get("/static/query.js") as response:
        script = response.text
    # Completion from our lists: prefix.cc and LOV (other hosts) are never asked.
    assert "Autocompleters.prefixes.get = prefixes" in script
    assert "forkAutocompleter" in script and '"POST"' in script


def test_the_vendored_editor_is_served_with_its_licence(shipped_client):
    for name, media in (("yasgui.min.js", "text/javascript"), ("yasgui.min.css", "text/css")):
        with shipped_client.get(f"/static/vendor/yasgui/{name}") as response:
            assert response.status_code == 200 and response.mimetype == media
            assert b"sourceMappingURL" not in response.data
    with shipped_client.get("/static/vendor/yasgui/LICENSE") as response:
        licence = response.text
    assert "MIT License" in licence and "Triply" in licence and "Zazuko" in licence
    with shipped_client.get("/static/vendor/yasgui/VERSION") as response:
        assert response.text.strip() == "4.6.2"


# --- the plain form ------------------------------------------------------------------------

def test_the_plain_form_sends_a_long_query_by_post(shipped_client):
    html = shipped_client.get("/sparql", headers=BROWSER).text
    assert re.search(r'<form method="post" action="/sparql" id="query-form"', html)
    assert "Queries are sent by POST" in html
    # ~5,000 characters: a comment makes it long, as a real query with many VALUES would.
    query = "# " + "x" * 5000 + f"\nSELECT ?s WHERE {{ ?s a <{PREFIXES['mm']}Invocation> }}"
    response = shipped_client.post("/sparql", data={"query": query, "format": "html"},
                                   headers=BROWSER)
    assert response.status_code == 200
    page = Page.parse(response.text)
    assert "results" in page.ids and page.textarea == query


def test_the_chosen_example_stays_selected_after_a_run(shipped_client):
    last = examples()[-1]
    sent = last.query.replace("\n", "\r\n")  # as a browser sends a textarea
    html = shipped_client.post("/sparql", data={"query": sent}, headers=BROWSER).text
    assert f'<option value="{last.name}" selected>' in html
    edited = shipped_client.post("/sparql", data={"query": "ASK {}"}, headers=BROWSER).text
    assert "— your own query —" in edited and f'value="{last.name}" selected' not in edited


def test_long_results_are_paged_on_the_page_without_javascript(shipped_client):
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 250"
    first = Page.parse(shipped_client.post("/sparql", data={"query": query},
                                           headers=BROWSER).text)
    assert "Rows 1–100 of 250." in " ".join(first.text)
    third = shipped_client.post("/sparql", data={"query": query, "page": "3"},
                                headers=BROWSER).text
    assert "Rows 201–250 of 250." in third
    assert third.count("<tr>") == 250 - 2 * PAGE_ROWS + 1  # rows and the header
    assert "Next rows" not in third and "Previous rows" in third


def test_the_page_offers_downloads_that_carry_the_query(shipped_client):
    html = shipped_client.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"},
                               headers=BROWSER).text
    downloads = html[html.index('class="downloads"'):]
    for key in ("json", "xml", "csv", "tsv"):
        assert f'name="format" value="{key}"' in downloads
    assert downloads.count('name="download" value="1"') == 4


# --- downloads are named by the endpoint ---------------------------------------------------

@pytest.mark.parametrize(("fmt", "name"), [
    ("csv", "mmkg-results.csv"), ("tsv", "mmkg-results.tsv"), ("json", "mmkg-results.json"),
    ("xml", "mmkg-results.xml"),
])
def test_download_1_names_the_file(shipped_client, fmt, name):
    response = shipped_client.post("/sparql", data={
        "query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2", "format": fmt, "download": "1"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    plain = shipped_client.post("/sparql", data={
        "query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2", "format": fmt})
    assert "Content-Disposition" not in plain.headers


def test_graph_downloads_are_named_too(shipped_client):
    response = shipped_client.get("/sparql", query_string={
        "query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2", "format": "turtle", "download": "1"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="mmkg-results.ttl"'


# --- SELECT * keeps the written order ------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "xml"])
def test_select_star_keeps_the_order_the_query_wrote(shipped_client, fmt):
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
    response = shipped_client.get("/sparql", query_string={"query": query, "format": fmt})
    body = response.get_data(as_text=True)
    if fmt == "json":
        assert json.loads(body)["head"]["vars"] == ["s", "p", "o"]
    elif fmt == "csv":
        assert next(csv.reader(io.StringIO(body))) == ["s", "p", "o"]
    elif fmt == "tsv":
        assert body.split("\n", 1)[0] == "?s\t?p\t?o"
    else:
        assert re.findall(r'<variable name="(\w+)"/>', body) == ["s", "p", "o"]


def test_select_star_order_reaches_the_page(shipped_client):
    html = shipped_client.post("/sparql", data={
        "query": "SELECT * WHERE { ?zebra ?apple ?mango } LIMIT 1"}, headers=BROWSER).text
    assert re.findall(r'<th scope="col">(\w+)</th>', html) == ["zebra", "apple", "mango"]


def test_a_named_projection_is_untouched(shipped_client):
    body = shipped_client.get("/sparql", query_string={
        "query": "SELECT ?o ?s WHERE { ?s ?p ?o } LIMIT 1"}, headers=JSON).get_json()
    assert body["head"]["vars"] == ["o", "s"]


@pytest.mark.parametrize(("query", "order"), [
    ("SELECT * WHERE { ?s ?p ?o }", ("s", "p", "o")),
    ("select distinct * { ?zeta ?alpha ?m }", ("zeta", "alpha", "m")),
    ("PREFIX x: <http://a?b>\n# ?q in a comment\nSELECT * WHERE { ?b ?a 'string ?c' }",
     ("b", "a")),
    ("SELECT ?a WHERE { { SELECT * WHERE { ?b ?c ?d } } }", None),  # the outer one decides
    ("ASK { ?s ?p ?o }", None),
])
def test_select_star_order_is_read_from_the_text(query, order):
    assert select_star_order(query) == order


# --- syntax errors as sentences ------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT * WHERE { ?s foo:bar ?o }",
     "line 1, column 21: the prefix foo: is not declared; add PREFIX foo: <…>"),
    ("SELECT * WHERE { ?s mm:date ?o }",
     f"line 1, column 21: the prefix mm: is not declared; add PREFIX mm: <{PREFIXES['mm']}>"),
    # The same sentence from rdflib's parser (a query naming FROM takes the full check).
    (f"SELECT * FROM <{BASE}graph/states> WHERE {{ ?s foo:bar ?o }}",
     "the prefix foo: is not declared"),
    ('PREFIX ex: <http://e/>\nSELECT * WHERE {\n  ?s ex:p "x }',
     "line 3, column 15: a string is not closed"),
    ("SELECT * WHERE { ?s ?p ?o ", "line 1, column 27: the query ends too early"),
    ("SELEC * WHERE {}", "line 1, column 1: a query starts with SELECT, ASK, CONSTRUCT or "
                         "DESCRIBE"),
    ("SELECT ?x WHERE { ?s ?p ?o } GROUP BY ?s", "with GROUP BY, select only the grouped"),
    # Oxigraph points at the end of these; the place shown is where reading stops.
    ("SELECT ?s WHERE { ?s ?p ?o . FILTER(?s = ) } LIMIT 5",
     "line 1, column 30: the query cannot be read from 'FILTER(?s = )"),
    ("SELECT ?s WHERE { ?s ?p ?o } LIMT 5",
     "line 1, column 30: the query cannot be read from 'LIMT 5'"),
])
def test_syntax_errors_are_sentences_with_line_and_column(shipped_client, query, expected):
    response = shipped_client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400 and response.mimetype == "text/plain"
    message = response.get_data(as_text=True)
    assert message.startswith("SPARQL syntax error at ") and expected in message
    assert "\\u{" not in message and "..=" not in message  # no character ranges
    assert len(message) < 300


def test_a_syntax_error_shows_on_the_page_in_the_layout(shipped_client):
    response = shipped_client.post("/sparql", data={"query": "SELECT * WHERE { ?s foo:x ?o }"},
                                   headers=BROWSER)
    assert response.status_code == 400
    page = Page.parse(response.text)
    assert "error" in page.ids and "/invocations" in page.links
    assert "the prefix foo: is not declared" in response.text


def test_undeclared_prefixes_skip_strings_iris_and_declared_ones():
    assert undeclared_prefix('PREFIX a: <http://x/>\nSELECT * { ?s a:p "b:c" . ?s <http://y> '
                             "?o . _:b ?p ?o }") is None
    assert undeclared_prefix("SELECT * {\n  ?s ?p xsd:string }") == ("xsd", 2, 9)
    assert undeclared_prefix("PREFIX : <http://x/> SELECT * { ?s :p ?o }") is None
    assert undeclared_prefix("SELECT * { ?s :p ?o }") == ("", 1, 15)


# --- the query workers and the server's connections ----------------------------------------

@pytest.mark.slow
def test_query_workers_do_not_hold_the_servers_connections_open(tmp_path):
    """A query forks the worker processes; a connection the server had kept alive at that
    moment must still close when the server closes it (else a browser's next request on it
    waits forever: seen with Chromium after a large result behind gunicorn)."""
    with serving(tmp_path, "--workers", "1") as server, \
            closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)) as idle, \
            closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)) as asking:
        idle.request("GET", "/favicon.ico")
        idle.getresponse().read()  # kept alive by gunicorn
        asking.request("POST", "/sparql", body=urlencode({"query": "ASK {}"}),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert asking.getresponse().status == 200  # the workers are forked now
        time.sleep(4)  # past gunicorn's keep-alive of 2 s: it closes `idle`
        started = time.monotonic()
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            idle.request("GET", "/")
            idle.getresponse()
        assert time.monotonic() - started < 5
