"""Reconciliation under hostile requests (issue 13, item 7): a bounded batch and body (413,
stated in the manifest), nested junk JSON answered 400 (not a 500), over-long texts refused,
and a name index that compares a query with near names only, not with every name."""

from __future__ import annotations

import difflib
import json

import pytest
from flask.testing import FlaskClient

from mmkg.wikidata.reconcile import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_QUERIES,
    MAX_TEXT,
    Reconciler,
)


def post(client: FlaskClient, queries: object, as_json: bool = False):  # type: ignore[no-untyped-def]
    if as_json:
        return client.post("/reconcile", json={"queries": queries})
    return client.post("/reconcile", data={"queries": json.dumps(queries)})


def error_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.mimetype == "application/json"
    return str(json.loads(response.data)["error"])


def test_the_manifest_states_the_limits(shipped_client):
    limits = json.loads(shipped_client.get("/reconcile").data)["limits"]
    assert limits["maxQueriesPerBatch"] == MAX_QUERIES
    assert limits["maxBodyBytes"] == MAX_BODY_BYTES


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_a_batch_over_the_limit_is_413(shipped_client, as_json):
    queries = {f"q{i}": {"query": "Poland"} for i in range(MAX_QUERIES + 1)}
    response = post(shipped_client, queries, as_json)
    assert response.status_code == 413
    assert f"at most {MAX_QUERIES}" in error_of(response)
    within = {f"q{i}": {"query": "Poland"} for i in range(MAX_QUERIES)}
    assert post(shipped_client, within, as_json).status_code == 200


def test_a_body_over_the_limit_is_413_before_it_is_read(shipped_client):
    body = b'{"queries": {"q0": {"query": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}}}'
    response = shipped_client.post("/reconcile", data=body, content_type="application/json")
    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in error_of(response)


@pytest.mark.parametrize("how", ["form", "json-body", "extend"])
def test_nested_junk_json_is_400(shipped_client, how):
    junk = "[" * 100_000 + "]" * 100_000
    if how == "form":
        response = shipped_client.post("/reconcile", data={"queries": junk})
    elif how == "extend":
        response = shipped_client.post("/reconcile", data={"extend": junk})
    else:
        response = shipped_client.post("/reconcile", data='{"queries": ' + junk + "}",
                                       content_type="application/json")
    assert response.status_code == 400
    assert f"deeper than {MAX_JSON_DEPTH}" in error_of(response)


def test_brackets_inside_strings_do_not_count_as_nesting(shipped_client):
    queries = {"q0": {"query": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ Poland {{{{{{{{{{{{{{{{{{{{{{{{"}}
    assert post(shipped_client, queries).status_code == 200


@pytest.mark.parametrize("query", [
    {"query": "x" * (MAX_TEXT + 1)},
    {"query": "Poland", "properties": [{"pid": "date", "v": "2" * (MAX_TEXT + 1)}]},
    {"query": "Poland", "properties": [{"pid": "date", "v": "2025"}] * 21},
    {"query": {"nested": "object"}},
], ids=["long-text", "long-value", "many-properties", "query-not-text"])
def test_malformed_or_oversized_queries_are_400(shipped_client, query):
    response = post(shipped_client, {"q0": query})
    assert response.status_code == 400
    assert "q0" in error_of(response)


def test_a_query_is_compared_with_near_names_only(shipped_graph, monkeypatch):
    """The index: a name is compared (difflib) with the few names that share its trigrams,
    not with each of the index's ~1,500 names; the right State still comes first."""
    reconciler = Reconciler(shipped_graph)
    names = sum(len(e.keys) for e in reconciler.entities.values())
    compared = 0
    real = difflib.SequenceMatcher.ratio

    def counted(self: difflib.SequenceMatcher[str]) -> float:
        nonlocal compared
        compared += 1
        return real(self)

    monkeypatch.setattr(difflib.SequenceMatcher, "ratio", counted)
    for name, expected in [("Polandd", "state/pl"), ("Untied Kingdom", "state/gb"),
                           ("Lithuana", "state/lt")]:
        compared = 0
        result = reconciler.reconcile({"query": name})["result"]
        assert result[0]["id"] == expected
        assert compared < names / 20, (name, compared, names)
