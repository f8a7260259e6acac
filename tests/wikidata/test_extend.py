"""The data extension service (reconciliation API 0.2, section 8) driven with OpenRefine's
request shapes: property proposals by GET `?type=…&limit=…`, and the extension query as
OpenRefine's ReconciledDataExtensionJob sends it (POST, application/x-www-form-urlencoded,
`extend=` + the JSON {"ids": [...], "properties": [{"id": ...}]}). Responses are checked
against what the 0.2 schemas require and what OpenRefine reads (every asked column present
in every row, as an array; each value {"id", "name"} or {"str"}); expected values come from
the graph."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from flask.testing import FlaskClient

from mmkg.kg.store import KnowledgeGraph
from mmkg.uris import BASE
from mmkg.wikidata.extend import COLUMNS, MAX_IDS

MM = "https://w3id.org/mmkg/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
WD = "http://www.wikidata.org/entity/"


def openrefine_extend(client: FlaskClient, ids: list[str], properties: list[str],
                      settings: dict | None = None) -> dict:
    """The POST OpenRefine makes: a form body `extend=<url-encoded JSON>`."""
    query = {"ids": ids, "properties": [
        {"id": p, **({"settings": settings} if settings else {})} for p in properties]}
    response = client.post("/reconcile", data="extend=" + quote(json.dumps(query)),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    answer = response.get_json()
    check_response_shape(answer, ids, properties)
    return answer


def check_response_shape(answer: dict, ids: list[str], properties: list[str]) -> None:
    """What the 0.2 data-extension-response schema requires and OpenRefine reads."""
    assert set(answer) == {"meta", "rows"}
    assert [m["id"] for m in answer["meta"]] == properties
    for meta in answer["meta"]:
        assert isinstance(meta["name"], str) and meta["name"]
        if "type" in meta:
            assert set(meta["type"]) == {"id", "name"}
    assert set(answer["rows"]) == set(ids)
    for row in answer["rows"].values():
        assert set(row) == set(properties)  # OpenRefine calls getJSONArray on each
        for values in row.values():
            assert isinstance(values, list)
            for value in values:
                assert set(value) in ({"id", "name"}, {"str"}), value
                assert all(isinstance(v, str) and v for v in value.values())


def one(graph: KnowledgeGraph, sparql: str) -> list[str]:
    return sorted(str(r["x"]) for r in graph.select(sparql))


def test_property_proposals_per_type(shipped_client: FlaskClient) -> None:
    manifest = shipped_client.get("/reconcile").json
    path = manifest["extend"]["propose_properties"]["service_path"]
    states = shipped_client.get(path + "?" + urlencode({"type": "State", "limit": 50})).json
    assert states["type"] == "State" and states["limit"] == 50
    ids = [p["id"] for p in states["properties"]]
    assert {"wikidata", "iso3166Alpha2", "iso3166Alpha3", "invoked", "concernedBy"} <= set(ids)
    assert "invokedBy" not in ids  # a State is not invoked by anyone
    invocations = [p["id"] for p in shipped_client.get(path + "?type=Invocation").json[
        "properties"]]
    assert {"date", "invokedBy", "mechanism"} <= set(invocations)
    assert "iso3166Alpha2" not in invocations
    limited = shipped_client.get(path + "?type=State&limit=2").json
    assert len(limited["properties"]) == 2
    every = shipped_client.get(path).json
    assert [p["id"] for p in every["properties"]] == [c.id for c in COLUMNS]
    assert shipped_client.get(path + "?type=State&limit=many").status_code == 400


def test_states_get_their_qid_codes_and_invocations(shipped_client, shipped_graph) -> None:
    answer = openrefine_extend(shipped_client, ["state/pl", "state/ru", "state/zz"],
                               ["wikidata", "iso3166Alpha2", "iso3166Alpha3", "invoked",
                                "concernedBy", "iri"])
    pl = answer["rows"]["state/pl"]
    qids = one(shipped_graph, f"SELECT ?x WHERE {{ <{BASE}id/state/pl> <{SKOS}exactMatch> ?x "
                              f'FILTER(STRSTARTS(STR(?x), "{WD}")) }}')
    assert [v["str"] for v in pl["wikidata"]] == [q[len(WD):] for q in qids] == ["Q36"]
    assert pl["iso3166Alpha2"] == [{"str": "PL"}] and pl["iso3166Alpha3"] == [{"str": "POL"}]
    assert pl["iri"] == [{"str": f"{BASE}id/state/pl"}]
    joined = one(shipped_graph, f"SELECT ?x WHERE {{ ?x <{MM}invokedBy> <{BASE}id/state/pl> ; "
                                f"a <{MM}Invocation> }}")
    assert joined
    assert sorted(BASE + "id/" + v["id"] for v in pl["invoked"]) == joined
    assert all(v["name"] for v in pl["invoked"])
    concerning = one(shipped_graph, f"""SELECT DISTINCT ?x WHERE {{
        VALUES ?p {{ <{MM}subjectState> <{MM}conductState> }}
        ?x ?p <{BASE}id/state/ru> ; a <{MM}Invocation> }}""")
    assert concerning
    assert sorted(BASE + "id/" + v["id"]
                  for v in answer["rows"]["state/ru"]["concernedBy"]) == concerning
    # An id the service does not know gets every column, empty.
    assert all(values == [] for values in answer["rows"]["state/zz"].values())
    types = {m["id"]: m.get("type", {}).get("id") for m in answer["meta"]}
    assert types["invoked"] == "Invocation" and types["wikidata"] is None


def test_invocations_get_dates_as_precise_as_their_sources(shipped_client, shipped_graph):
    rows = shipped_graph.select(f"SELECT ?i ?d WHERE {{ ?i a <{MM}Invocation> ; <{MM}date> ?d }}")
    ids = sorted({str(r["i"])[len(BASE) + 3:] for r in rows})
    answer = openrefine_extend(shipped_client, ids, ["date", "invokedBy", "mechanism"])
    for row in rows:
        got = [v["str"] for v in answer["rows"][str(row["i"])[len(BASE) + 3:]]["date"]]
        assert str(row["d"]) in got  # "2021" stays a year, "2022-03" a month
    precisions = {len(v["str"]) for r in answer["rows"].values() for v in r["date"]}
    assert 10 in precisions and precisions <= {4, 7, 10}
    invokers = answer["rows"]["invocation/mm-2025-07-ua-pow"]["invokedBy"]
    assert {"id": "state/pl", "name": "Poland"} in invokers


def test_extension_by_get_and_json_body_agree(shipped_client: FlaskClient) -> None:
    query = {"ids": ["state/ua"], "properties": [{"id": "wikidata"}, {"id": "iso3166Alpha3"}]}
    by_post = openrefine_extend(shipped_client, ["state/ua"], ["wikidata", "iso3166Alpha3"])
    by_get = shipped_client.get("/reconcile?extend=" + quote(json.dumps(query))).json
    by_json = shipped_client.post("/reconcile", json={"extend": query}).json
    assert by_post == by_get == by_json


@pytest.mark.parametrize(("body", "status", "says"), [
    ("not json", 400, "not valid JSON"),
    (json.dumps([1, 2]), 400, "JSON object"),
    (json.dumps({"ids": "state/pl", "properties": []}), 400, "ids"),
    (json.dumps({"ids": ["state/pl"], "properties": ["wikidata"]}), 400, "properties"),
    (json.dumps({"ids": ["state/pl"], "properties": [{"id": "shoeSize"}]}), 400, "shoeSize"),
    (json.dumps({"ids": [f"state/x{i}" for i in range(MAX_IDS + 1)],
                 "properties": [{"id": "iri"}]}), 413, "at most"),
], ids=["not-json", "not-object", "ids-not-list", "property-not-object", "unknown-property",
        "too-many-ids"])
def test_bad_extension_queries_say_what_is_wrong(shipped_client, body, status, says) -> None:
    response = shipped_client.post("/reconcile", data={"extend": body})
    assert response.status_code == status
    assert says in response.json["error"]
