"""Repeated SPARQL requests answered in front of the app (web/answer_replay.py): the same bytes
and headers as the app's own answer, per Accept, only for successful answers, bounded."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers import TRIG_FIXTURE
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.store import load_graph, served_files
from mmkg.metrics import METRICS
from mmkg.state import get_state
from mmkg.web.answer_replay import AnswerReplay

SETTINGS = Settings(no_default_data=True, data=(TRIG_FIXTURE,))
JSON_RESULTS = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    app = create_app(SETTINGS, graph=load_graph(served_files(SETTINGS)))
    yield app
    get_state(app).backend.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def replay(app: Flask) -> AnswerReplay:
    front = app.wsgi_app
    assert isinstance(front, AnswerReplay)
    return front


def ask(client: FlaskClient, query: str, headers: dict[str, str] = JSON_RESULTS,
        method: str = "GET"):
    return client.open("/sparql", method=method, query_string={"query": query},
                       headers=headers)


def rows(response) -> list[dict[str, str]]:
    bindings = json.loads(response.data)["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


def test_a_repeated_request_is_replayed_without_the_app(app: Flask, client: FlaskClient) -> None:
    query = "SELECT ?s WHERE { ?s a ?type } ORDER BY ?s LIMIT 5 # replayed"
    first = ask(client, query)
    answers_before, replayed_before = get_state(app).answers.hits, replay(app).hits
    hits_before = METRICS.value("mmkg_cache_hits_total", cache="sparql_results")
    second = ask(client, query)
    assert first.status_code == second.status_code == 200
    assert first.headers["MMKG-Cache"] == "miss" and second.headers["MMKG-Cache"] == "hit"
    assert rows(second) == rows(first) and rows(first)
    for header in ("Content-Type", "Vary", "Access-Control-Allow-Origin",
                   "Access-Control-Expose-Headers"):
        assert second.headers[header] == first.headers[header]
    # From the replay, not the view: the answer cache behind Flask was not asked again ...
    assert replay(app).hits == replayed_before + 1
    assert get_state(app).answers.hits == answers_before
    # ... and /metrics still counts it as a cached answer.
    assert METRICS.value("mmkg_cache_hits_total", cache="sparql_results") == hits_before + 1


def test_each_accept_is_its_own_response(client: FlaskClient) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # per accept"
    as_json = ask(client, query)
    as_csv = ask(client, query, {"Accept": "text/csv"})
    again_json, again_csv = ask(client, query), ask(client, query, {"Accept": "text/csv"})
    assert as_json.headers["MMKG-Cache"] == "miss"
    assert again_json.content_type == as_json.content_type
    assert again_csv.content_type.startswith("text/csv")
    assert again_csv.data == as_csv.data and again_json.data == as_json.data
    assert again_csv.data.decode().splitlines()[1] == rows(as_json)[0]["n"]


def test_head_after_get_has_the_headers_and_no_body(client: FlaskClient) -> None:
    query = "ASK { ?s ?p ?o } # head"
    full = ask(client, query)
    head = ask(client, query, method="HEAD")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Type"] == full.headers["Content-Type"]
    assert head.headers["MMKG-Cache"] == "hit"


@pytest.mark.parametrize("case", ["syntax error", "html page", "conditional", "update"])
def test_only_answers_are_replayed(app: Flask, client: FlaskClient, case: str) -> None:
    query, headers = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 # " + case, dict(JSON_RESULTS)
    if case == "syntax error":
        query = "SELECT ?s WHERE { ?s ?p }"
    elif case == "html page":
        headers = {"Accept": "text/html"}
    elif case == "conditional":
        headers["If-None-Match"] = '"x"'
    before = replay(app).hits
    if case == "update":
        first, second = (client.get("/sparql", query_string={"update": "CLEAR ALL"})
                         for _ in range(2))
    else:
        first, second = ask(client, query, headers), ask(client, query, headers)
    assert second.status_code == first.status_code
    assert replay(app).hits == before
    if case == "syntax error":
        assert second.status_code == 400 and "MMKG-Cache" not in second.headers
    if case == "html page":
        assert second.mimetype == "text/html"
    if case == "update":
        assert second.status_code == 403


def test_bounded_least_recently_used_first(app: Flask, client: FlaskClient) -> None:
    """Small replays in front of the same app: old responses go first, and a response larger
    than a quarter of the budget is never kept."""
    original = replay(app)

    def front(max_bytes: int) -> AnswerReplay:
        app.wsgi_app = AnswerReplay(original.app, max_bytes)  # type: ignore[method-assign]
        return app.wsgi_app

    try:
        probe = front(10**9)
        ask(client, "ASK { ?s ?p ?o } # 0000")
        one = probe.size  # every query below costs the same: the same answer, same length
        small = front(4 * one + 3)
        queries = [f"ASK {{ ?s ?p ?o }} # {i:04d}" for i in range(6)]
        for query in queries[:4]:
            ask(client, query)
        assert len(small) == 4 and small.size <= small.max_bytes
        ask(client, queries[0])  # replayed, and now the most recently used
        assert small.hits == 1
        ask(client, queries[4])  # evicts the least recently used: queries[1]
        assert len(small) == 4
        ask(client, queries[0])
        assert small.hits == 2
        ask(client, queries[1])
        assert small.hits == 2  # forgotten: the app answered it again
        tiny = front(2 * one)  # a quarter of it is less than one response
        ask(client, queries[5])
        assert len(tiny) == 0 and tiny.size == 0
    finally:
        app.wsgi_app = original  # type: ignore[method-assign]
