"""Operations (issue 13, item 10): /healthz says the data version and whether the store
answers; /metrics is Prometheus text that Prometheus's own parser reads, counting requests,
latencies, timeouts, refusals and cache hits; logs keep client addresses only as far as the
privacy setting allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from helpers import TRIG_FIXTURE
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.store import load_graph
from mmkg.metrics import METRICS
from mmkg.state import get_state
from mmkg.web.privacy import loggable_address
from realservers import oxigraph_server

SETTINGS = Settings(no_default_data=True, data=(TRIG_FIXTURE,), query_timeout=1.0,
                    fast_lane_workers=0)
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x }")


@pytest.fixture(scope="module")
def ops_app() -> Iterator[Flask]:
    app = create_app(SETTINGS, graph=load_graph([TRIG_FIXTURE]))
    yield app
    get_state(app).backend.close()


def scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus_client: (name, labels) -> value."""
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and "version=0.0.4" in response.content_type
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_healthz_gives_the_data_version_and_a_reachable_store(ops_app):
    response = ops_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.data)
    assert body["status"] == "ok" and body["store"] == "reachable"
    assert body["data_version"] == get_state(ops_app).backend.version


@pytest.mark.slow
def test_healthz_says_503_when_the_store_stops_answering(tmp_path):
    """The app over a real Oxigraph server, which then stops."""
    with oxigraph_server(tmp_path, TRIG_FIXTURE) as endpoint:
        app = create_app(replace(SETTINGS, sparql_endpoint=endpoint),
                         graph=load_graph([TRIG_FIXTURE]))
        assert app.test_client().get("/healthz").status_code == 200
    try:
        response = app.test_client().get("/healthz")
    finally:
        get_state(app).backend.close()
    assert response.status_code == 503
    body = json.loads(response.data)
    assert body["status"] == "unavailable" and body["store"].startswith("unreachable")


def test_metrics_count_requests_latencies_timeouts_and_refusals(ops_app):
    client = ops_app.test_client()
    before = scrape(ops_app)
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    refused = client.get("/sparql", query_string={
        "query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"})
    assert refused.status_code == 403
    assert client.get("/sparql", query_string={"query": RUNAWAY}).status_code == 503
    assert client.get("/nothing/here").status_code == 404
    after = scrape(ops_app)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("mmkg_sparql_queries_total", outcome="answered") == 1
    assert grew("mmkg_sparql_queries_total", outcome="refused") == 1
    assert grew("mmkg_sparql_queries_total", outcome="timeout") == 1
    assert grew("mmkg_http_requests_total", room="sparql", status="2xx") == 1
    assert grew("mmkg_http_requests_total", room="sparql", status="4xx") == 1
    assert grew("mmkg_http_requests_total", room="sparql", status="5xx") == 1
    assert grew("mmkg_http_requests_total", room="other", status="4xx") == 1
    # The timed-out query took at least the 1 s timeout: it is in the count and the sum.
    assert grew("mmkg_http_request_duration_seconds_count", room="sparql") == 3
    assert grew("mmkg_http_request_duration_seconds_sum", room="sparql") >= 1.0
    assert grew("mmkg_http_request_duration_seconds_bucket", room="sparql", le="0.5") <= 2


def test_the_cache_hook_counts_hits_and_misses(ops_app):
    before = scrape(ops_app)
    METRICS.count_cache("sparql_results", hit=True)
    METRICS.count_cache("sparql_results", hit=False)
    METRICS.count_cache("sparql_results", hit=True)
    after = scrape(ops_app)
    hits = ("mmkg_cache_hits_total", (("cache", "sparql_results"),))
    misses = ("mmkg_cache_misses_total", (("cache", "sparql_results"),))
    assert after[hits] - before[hits] == 2
    assert after[misses] - before[misses] == 1


def test_undeclared_series_are_refused():
    with pytest.raises(ValueError, match="no series"):
        METRICS.count_cache("made-up", hit=True)


@pytest.mark.parametrize(("address", "keep", "logged"), [
    ("203.0.113.77", "network", "203.0.113.0"),
    ("2001:db8:1234:5678::9", "network", "2001:db8:1234::"),
    ("::ffff:198.51.100.23", "network", "198.51.100.0"),
    ("203.0.113.77", "none", "-"),
    ("203.0.113.77", "full", "203.0.113.77"),
    (None, "network", "-"),
    ("/run/mmkg.sock", "network", "-"),
])
def test_logged_addresses_keep_only_what_the_setting_allows(address, keep, logged):
    assert loggable_address(address, keep) == logged


def test_the_privacy_setting_is_checked():
    assert Settings.from_env({"MMKG_LOG_ADDRESSES": "NONE"}).log_addresses == "none"
    with pytest.raises(ValueError, match="none, network, full"):
        Settings.from_env({"MMKG_LOG_ADDRESSES": "some"})
