"""Resolution by QID, the identifiers page, and the local-id expressions against the data."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from mmkg.kg.store import KnowledgeGraph
from mmkg.uris import BASE, KINDS
from mmkg.wikidata.identifiers import LOCAL_ID_PATTERNS, combined_pattern

SKOS = "http://www.w3.org/2004/02/skos/core#"
WD = "http://www.wikidata.org/entity/"


def links(shipped_graph: KnowledgeGraph, prop: str) -> dict[str, set[str]]:
    """QID -> our resource IRIs, by a SKOS mapping property, straight from the graph."""
    found: dict[str, set[str]] = {}
    for row in shipped_graph.select(f"""SELECT ?s ?item WHERE {{ ?s <{SKOS}{prop}> ?item
            FILTER(STRSTARTS(STR(?item), "{WD}Q") && STRSTARTS(STR(?s), "{BASE}id/")) }}"""):
        found.setdefault(str(row["item"])[len(WD):], set()).add(str(row["s"]))
    return found


def test_q36_redirects_to_poland_on_the_serving_host(shipped_client: FlaskClient,
                                                     shipped_graph) -> None:
    assert links(shipped_graph, "exactMatch")["Q36"] == {f"{BASE}id/state/pl"}
    response = shipped_client.get("/wikidata/Q36")
    assert response.status_code == 303
    assert response.headers["Location"] == "/id/state/pl"
    # The target is served (by the linked-data views: 303 to the document, or the page).
    assert shipped_client.get(response.headers["Location"]).status_code in (200, 303)


def test_every_exact_match_qid_resolves(shipped_client: FlaskClient, shipped_graph) -> None:
    exact = links(shipped_graph, "exactMatch")
    assert len(exact) >= 59  # the States and the organisations with sourced QIDs
    for qid, iris in exact.items():
        assert len(iris) == 1, qid
        response = shipped_client.get(f"/wikidata/{qid}")
        assert response.status_code == 303, qid
        assert response.headers["Location"] == "/" + next(iter(iris))[len(BASE):]


def test_close_match_qids_do_not_redirect(shipped_client: FlaskClient, shipped_graph) -> None:
    close = links(shipped_graph, "closeMatch")
    assert {"Q237", "Q55", "Q756617"} <= set(close)
    for qid, iris in close.items():
        if qid in links(shipped_graph, "exactMatch"):
            continue
        response = shipped_client.get(f"/wikidata/{qid}")
        assert response.status_code == 404, qid
        for iri in iris:
            assert f"</{iri[len(BASE):]}>; rel=\"related\"" in response.headers["Link"]
    assert "/id/state/va" in shipped_client.get("/wikidata/Q237").headers["Link"]


def test_unknown_qid_is_404(shipped_client: FlaskClient, shipped_graph) -> None:
    held = set(links(shipped_graph, "exactMatch")) | set(links(shipped_graph, "closeMatch"))
    unknown = next(f"Q{n}" for n in range(1, 1000) if f"Q{n}" not in held)
    assert shipped_client.get(f"/wikidata/{unknown}").status_code == 404


@pytest.mark.parametrize("bad", ["Q0", "Q036", "q36", "36", "Q", "Qabc", "Q36x", "P17",
                                 "Q36/extra", "%20Q36"])
def test_malformed_qid_is_400(shipped_client: FlaskClient, bad: str) -> None:
    assert shipped_client.get(f"/wikidata/{bad}").status_code == 400


def our_ids(shipped_graph: KnowledgeGraph) -> dict[str, set[str]]:
    prefix = f"{BASE}id/"
    ids: dict[str, set[str]] = {}
    for row in shipped_graph.select(f"""SELECT DISTINCT ?r WHERE {{
            {{ ?r ?p ?o }} UNION {{ ?s ?p ?r }}
            FILTER(ISIRI(?r) && STRSTARTS(STR(?r), "{prefix}")) }}"""):
        kind, _, local = str(row["r"])[len(prefix):].partition("/")
        ids.setdefault(kind, set()).add(local)
    return ids


def test_every_id_in_the_graph_matches_its_kind(shipped_graph: KnowledgeGraph) -> None:
    ids = our_ids(shipped_graph)
    assert set(ids) <= set(KINDS)
    assert {"state", "invocation", "org", "person"} <= set(ids)
    combined = re.compile(combined_pattern())
    for kind, locals_ in ids.items():
        pattern = re.compile(LOCAL_ID_PATTERNS[kind])
        bad = sorted(i for i in locals_ if not pattern.fullmatch(i))
        assert not bad, f"{kind}: {bad}"
        assert all(combined.fullmatch(f"{kind}/{i}") for i in locals_)


@pytest.mark.parametrize(("kind", "local"), [
    ("state", "PL"), ("state", "p"), ("state", "pol"), ("invocation", "mm-2025-7-ua"),
    ("invocation", "xx-2025-07-ua"), ("meeting", "pc-2025-9-25"), ("org", "-osce"),
    ("org", "osce-"), ("confidence", "sure"),
])
def test_expressions_reject_what_is_not_an_id(kind: str, local: str) -> None:
    assert not re.fullmatch(LOCAL_ID_PATTERNS[kind], local)


def test_identifiers_json(shipped_client: FlaskClient, shipped_graph: KnowledgeGraph) -> None:
    by_suffix = shipped_client.get("/identifiers.json")
    by_accept = shipped_client.get("/identifiers", headers={"Accept": "application/json"})
    assert by_suffix.status_code == by_accept.status_code == 200
    assert by_accept.mimetype == "application/json"
    body = json.loads(by_suffix.get_data(as_text=True))
    assert body == json.loads(by_accept.get_data(as_text=True))
    rows = {r["kind"]: r for r in body["kinds"]}
    assert set(rows) == set(KINDS)
    assert rows["state"]["formatterURL"] == "https://w3id.org/mmkg/id/state/$1"
    ids = our_ids(shipped_graph)
    for kind, row in rows.items():
        assert row["regex"] == LOCAL_ID_PATTERNS[kind]
        assert row["identifiers"] == row["matching"] == len(ids.get(kind, ()))
        if ids.get(kind):
            assert row["example"] in ids[kind]
            assert row["exampleIRI"] == row["formatterURL"].replace("$1", row["example"])
    assert body["allKinds"]["formatterURL"] == f"{BASE}id/$1"


def test_identifiers_html(shipped_client: FlaskClient) -> None:
    response = shipped_client.get("/identifiers", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    for kind in KINDS:
        assert f"https://w3id.org/mmkg/id/{kind}/$1" in text
    assert "Vary" in response.headers
    assert shipped_client.get("/identifiers").mimetype == "text/html"  # the default
