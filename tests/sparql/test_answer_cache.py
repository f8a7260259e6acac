"""The SPARQL answer cache: a repeated query is answered from memory with the same bytes, and
only what decides an answer's bytes shares an entry (query text, dataset, format, row cap)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers import TRIG_FIXTURE
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.store import load_graph, served_files
from mmkg.sparql.cache import ENTRY_OVERHEAD, AnswerCache
from mmkg.sparql.guard import PreparedQuery
from mmkg.sparql.results import Answer
from mmkg.sparql.workers import Job
from mmkg.state import get_state
from mmkg.uris import GRAPH

SETTINGS = Settings(no_default_data=True, data=(TRIG_FIXTURE,), max_results=3)
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
JSON_RESULTS = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def cached_app() -> Flask:
    app = create_app(SETTINGS, graph=load_graph(served_files(SETTINGS)))
    yield app
    get_state(app).backend.close()


@pytest.fixture()
def client(cached_app: Flask) -> FlaskClient:
    return cached_app.test_client()


def ask(client: FlaskClient, query: str, headers: dict[str, str] = JSON_RESULTS,
        **params: str):
    return client.get("/sparql", query_string={"query": query, **params}, headers=headers)


def test_a_repeated_query_is_a_hit_with_the_same_answer(client: FlaskClient) -> None:
    query = COUNT + " # repeated"
    first, second = ask(client, query), ask(client, query)
    assert first.status_code == second.status_code == 200
    assert first.headers["MMKG-Cache"] == "miss"
    assert second.headers["MMKG-Cache"] == "hit"
    assert second.data == first.data
    assert second.content_type == first.content_type
    n = json.loads(second.data)["results"]["bindings"][0]["n"]["value"]
    assert int(n) > 0
    # A script on another origin may read the header.
    assert "MMKG-Cache" in second.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("variant", ["format", "dataset", "text"])
def test_what_changes_the_answer_is_another_entry(client: FlaskClient, variant: str) -> None:
    query = COUNT + f" # {variant}"
    assert ask(client, query).headers["MMKG-Cache"] == "miss"
    if variant == "format":
        other = ask(client, query, {"Accept": "text/csv"})
        assert other.content_type.startswith("text/csv")
    elif variant == "dataset":
        other = ask(client, query, **{"default-graph-uri": f"{GRAPH}named-graphs"})
        assert json.loads(other.data) != json.loads(ask(client, query).data)
    else:
        other = ask(client, query.replace("*", "?s"))
    assert other.status_code == 200
    assert other.headers["MMKG-Cache"] == "miss"


def test_the_row_cap_is_part_of_the_key(cached_app: Flask) -> None:
    """Two apps with different caps never share answers; within one app the cap is fixed, so
    the key must still hold it for a cache shared by jobs with different caps."""
    cache = AnswerCache(2**20)
    prepared = PreparedQuery("SELECT * WHERE { ?s ?p ?o }", "SELECT")
    runs: list[int] = []

    def run(cap: int) -> Answer:
        runs.append(cap)
        return Answer(f"{cap}".encode(), "text/csv")

    for cap in (3, 5, 3):
        cache.answer(Job(prepared, "csv", cap), lambda cap=cap: run(cap))
    assert runs == [3, 5]


def test_errors_are_not_kept(client: FlaskClient) -> None:
    bad = "SELECT ?s WHERE { ?s ?p }"
    assert ask(client, bad).status_code == 400
    again = ask(client, bad)
    assert again.status_code == 400
    assert "MMKG-Cache" not in again.headers


def test_the_cache_is_bounded_by_bytes_least_recently_used_first() -> None:
    body = b"x" * 1000
    cost = len(body) + ENTRY_OVERHEAD
    cache = AnswerCache(4 * cost)
    jobs = [Job(PreparedQuery(f"ASK {{ ?s ?p {i} }}", "ASK"), "json", 10) for i in range(6)]
    for job in jobs[:4]:
        cache.answer(job, lambda: Answer(body, "application/sparql-results+json"))
    assert len(cache) == 4 and cache.size == 4 * cost
    cache.answer(jobs[0], lambda: pytest.fail("kept answer was run again"))  # now recent
    cache.answer(jobs[4], lambda: Answer(body, "application/sparql-results+json"))
    assert len(cache) == 4 and cache.size <= cache.max_bytes
    _, hit = cache.answer(jobs[0], lambda: Answer(body, "x"))
    assert hit  # recently used: kept
    _, hit = cache.answer(jobs[1], lambda: Answer(body, "x"))
    assert not hit  # least recently used: forgotten first


def test_an_answer_too_big_for_the_cache_is_not_kept() -> None:
    cache = AnswerCache(4000)
    job = Job(PreparedQuery("ASK {}", "ASK"), "json", 10)
    cache.answer(job, lambda: Answer(b"y" * 3000, "x"))
    assert len(cache) == 0 and cache.size == 0


def test_size_zero_turns_the_cache_off() -> None:
    app = create_app(Settings(no_default_data=True, data=(TRIG_FIXTURE,), query_cache_mb=0),
                     graph=load_graph(served_files(SETTINGS)))
    try:
        client = app.test_client()
        assert ask(client, COUNT).headers["MMKG-Cache"] == "miss"
        assert ask(client, COUNT).headers["MMKG-Cache"] == "miss"
    finally:
        get_state(app).backend.close()
