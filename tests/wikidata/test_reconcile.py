"""The reconciliation service as the OpenRefine reconciliation API 0.2 shapes its requests."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.store import KnowledgeGraph
from mmkg.state import get_state
from mmkg.uris import BASE
from mmkg.wikidata.reconcile import Entity, Reconciler, normalise, parse_date
from mmkg.wikidata.views import preview_card

MM = "https://w3id.org/mmkg/ontology#"


def state_id(shipped_graph: KnowledgeGraph, alpha2: str) -> str:
    """The reconciliation id of the State with an ISO code, found in the graph."""
    rows = shipped_graph.select(f'SELECT ?s WHERE {{ ?s <{MM}iso3166Alpha2> "{alpha2}" }}')
    assert len(rows) == 1, alpha2
    return str(rows[0]["s"])[len(BASE) + 3:]


def invocation_ids(shipped_graph: KnowledgeGraph, date_prefix: str) -> list[str]:
    rows = shipped_graph.select(f"""SELECT ?s WHERE {{ ?s a <{MM}Invocation> ; <{MM}date> ?d
                            FILTER(STRSTARTS(STR(?d), "{date_prefix}")) }}""")
    return sorted(str(r["s"])[len(BASE) + 3:] for r in rows)


def post(shipped_client: FlaskClient, queries: dict) -> dict:
    response = shipped_client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def get(shipped_client: FlaskClient, queries: dict) -> dict:
    response = shipped_client.get("/reconcile?queries=" + quote(json.dumps(queries)))
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


ROOT = "http://127.0.0.1:8080"  # the listening address of the default settings


def local(url: str) -> str:
    """A manifest URL as a path on the test client's app."""
    assert url.startswith(ROOT), url
    return url[len(ROOT):]


def test_manifest(shipped_client: FlaskClient) -> None:
    response = shipped_client.get("/reconcile")
    assert response.status_code == 200 and response.mimetype == "application/json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["versions"] == ["0.2"]
    assert manifest["name"]
    assert manifest["identifierSpace"] == f"{BASE}id/"
    assert manifest["schemaSpace"] == f"{BASE}ontology#"
    types = {t["id"]: t["name"] for t in manifest["defaultTypes"]}
    assert {"State", "Invocation", "Expert", "Organisation"} <= set(types)
    assert "{{id}}" in manifest["view"]["url"]
    assert "{{id}}" in manifest["preview"]["url"]
    assert manifest["preview"]["width"] > 0 and manifest["preview"]["height"] > 0
    # Absolute URLs name where the server listens (or --public-url), never the Host header.
    for kind in ("entity", "type", "property"):
        service = manifest["suggest"][kind]
        assert service["service_url"] == ROOT
        assert shipped_client.get(service["service_path"] + "?prefix=a").status_code == 200
    proposals = manifest["extend"]["propose_properties"]
    assert proposals["service_url"] == ROOT
    assert shipped_client.get(proposals["service_path"] + "?type=State").status_code == 200
    # The view and preview templates answer for a real id.
    view = manifest["view"]["url"].replace("{{id}}", "state/pl")
    assert shipped_client.get(local(view)).status_code == 303
    preview = manifest["preview"]["url"].replace("{{id}}", "state/pl")
    assert shipped_client.get(local(preview)).status_code == 200


def test_manifest_uses_the_public_url(shipped_graph: KnowledgeGraph) -> None:
    app = create_app(Settings(public_url="https://kg.example.org/mmkg/"), graph=shipped_graph)
    try:
        manifest = app.test_client().get("/reconcile", base_url="http://evil.example").json
        assert manifest["view"]["url"].startswith("https://kg.example.org/mmkg/reconcile/view?")
        assert manifest["suggest"]["entity"]["service_url"] == "https://kg.example.org/mmkg"
        assert "evil.example" not in json.dumps(manifest)
    finally:
        get_state(app).backend.close()


@pytest.mark.parametrize("entity_id", ["state/pl", "state%2Fpl", "state%2fpl",
                                       f"{BASE}id/state/pl"])
def test_view_url_takes_the_id_percent_encoded(shipped_client: FlaskClient, entity_id) -> None:
    """Reconciliation API 0.2, section 3.1: clients MUST percent-encode the id they put in the
    view template ("state/pl" -> "state%2Fpl"). /id/state%2Fpl would be refused (an encoded
    slash in a path), so the id travels in the query string."""
    manifest = shipped_client.get("/reconcile").json
    url = manifest["view"]["url"].replace("{{id}}", entity_id)
    response = shipped_client.get(local(url))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/doc/state/pl")
    assert shipped_client.get(local(manifest["view"]["url"].replace("{{id}}", "state%2Fzz"))
                              ).status_code == 404


VARIANTS = [("Turkey", "TR"), ("Türkiye", "TR"), ("USA", "US"), ("UK", "GB"),
            ("Czechia", "CZ"), ("Czech Republic", "CZ"), ("Moldova, Republic of", "MD"),
            ("Russia", "RU"), ("Holy See", "VA"), ("Netherlands", "NL"),
            ("united states of america", "US"), ("Holandia", "NL"), ("Pologne", "PL"),
            ("Polska", "PL"), ("Германия", "DE"), ("Україна", "UA"), ("POL", "PL"),
            # Common names people type, from the Unicode CLDR (ISO gives the official ones:
            # "Российская Федерация", "Vereinigtes Königreich Großbritannien und Nordirland").
            ("Россия", "RU"), ("Росія", "RU"), ("Deutschland", "DE"), ("Türkei", "TR"),
            ("Royaume-Uni", "GB"), ("Regno Unito", "GB"), ("Wielka Brytania", "GB"),
            ("Reino Unido", "GB"), ("Russland", "RU"), ("Estados Unidos", "US"),
            ("Stati Uniti", "US"), ("Nordmazedonien", "MK"), ("Великобритания", "GB")]


def test_variants_match_the_right_state_in_one_post_batch(shipped_client, shipped_graph) -> None:
    queries = {f"q{i}": {"query": text, "type": "State"} for i, (text, _) in enumerate(VARIANTS)}
    answers = post(shipped_client, queries)
    assert set(answers) == set(queries)
    for i, (text, alpha2) in enumerate(VARIANTS):
        results = answers[f"q{i}"]["result"]
        top = results[0]
        assert top["id"] == state_id(shipped_graph, alpha2), text
        assert top["match"] is True, text
        assert top["score"] == max(r["score"] for r in results)
        assert all(r["match"] is False for r in results[1:]), text
        assert all(0 <= r["score"] <= 100 for r in results)
        assert {"id", "name", "type", "score", "match"} <= set(top)
        assert {"id": "State", "name": "State"} in top["type"]


def test_queries_in_a_json_body(shipped_client, shipped_graph) -> None:
    """A JSON request body ({"queries": {...}}) is read like the form parameter."""
    response = shipped_client.post("/reconcile", json={"queries": {"q": {"query": "Poland"}}})
    assert response.status_code == 200, response.get_data(as_text=True)
    top = response.get_json()["q"]["result"][0]
    assert top["id"] == state_id(shipped_graph, "PL") and top["match"] is True


def test_required_variants_without_a_type_by_get(shipped_client, shipped_graph) -> None:
    required = VARIANTS[:10]
    answers = get(shipped_client, {f"q{i}": {"query": t} for i, (t, _) in enumerate(required)})
    for i, (text, alpha2) in enumerate(required):
        top = answers[f"q{i}"]["result"][0]
        assert (top["id"], top["match"]) == (state_id(shipped_graph, alpha2), True), text


def test_close_candidates_do_not_match(shipped_client) -> None:
    # "Republic" alone fits many States: no result may claim a match.
    results = post(shipped_client, {"q": {"query": "Republic", "type": "State"}})["q"]["result"]
    assert len(results) > 1
    assert not any(r["match"] for r in results)


def test_type_filter(shipped_client, shipped_graph) -> None:
    answers = post(shipped_client, {
        "state": {"query": "Georgia", "type": "State"},
        "inv": {"query": "Georgia", "type": "Invocation"},
        "list": {"query": "Georgia", "type": ["Invocation", "Expert"]},
    })
    assert answers["state"]["result"][0]["id"] == state_id(shipped_graph, "GE")
    results = answers["inv"]["result"]
    assert results and all(r["id"].startswith("invocation/") for r in results)
    assert all(r["id"].split("/")[0] in ("invocation", "person")
               for r in answers["list"]["result"])
    assert answers["list"]["result"][0]["id"] == answers["inv"]["result"][0]["id"]


def test_property_filters(shipped_client, shipped_graph) -> None:
    answers = post(shipped_client, {
        "code": {"query": "Republic", "type": "State",
                 "properties": [{"pid": "iso3166Alpha2", "v": "MD"}]},
        "code3": {"query": "Macedonia", "properties": [{"pid": "iso3166Alpha3", "v": "MKD"}]},
        "date": {"query": "Moscow Mechanism invocation", "type": "Invocation",
                 "properties": [{"pid": "date", "v": "24 July 2025"}]},
        "qid": {"properties": [{"pid": "wikidata", "v": "Q36"}]},
        "wrong": {"query": "Türkiye", "type": "State",
                  "properties": [{"pid": "iso3166Alpha2", "v": "GR"}]},
    })
    assert answers["code"]["result"][0]["id"] == state_id(shipped_graph, "MD")
    assert answers["code3"]["result"][0]["id"] == state_id(shipped_graph, "MK")
    assert answers["date"]["result"][0]["id"] == invocation_ids(shipped_graph, "2025-07-24")[0]
    assert answers["qid"]["result"][0]["id"] == "state/pl"
    # A property that contradicts the name keeps the name's State but not as a match.
    assert not any(r["match"] for r in answers["wrong"]["result"])


@pytest.mark.parametrize("text", ["24 July 2025", "2025-07-24", "July 24, 2025", "July 2025",
                                  "24.07.2025"])
def test_invocations_by_date(shipped_client, shipped_graph, text: str) -> None:
    expected = invocation_ids(shipped_graph, "2025-07")
    assert len(expected) == 1
    answer = post(shipped_client, {"q": {"query": text, "type": "Invocation"}})["q"]["result"]
    assert (answer[0]["id"], answer[0]["match"]) == (expected[0], True)
    bare = post(shipped_client, {"q": {"query": text}})["q"]["result"]  # no type: invocations
    assert bare[0]["id"] == expected[0]


def test_a_month_with_two_invocations_is_not_a_match(shipped_client, shipped_graph) -> None:
    expected = invocation_ids(shipped_graph, "2023-03")
    assert len(expected) == 2
    answer = post(shipped_client, {"q": {"query": "March 2023", "type": "Invocation"}})
    results = answer["q"]["result"]
    assert sorted(r["id"] for r in results[:2]) == expected
    assert not any(r["match"] for r in results)


def test_limit(shipped_client) -> None:
    results = post(shipped_client, {"q": {"query": "Republic", "limit": 3}})["q"]["result"]
    assert len(results) == 3


def test_bad_queries_are_400(shipped_client) -> None:
    assert shipped_client.post("/reconcile", data={"queries": "{not json"}).status_code == 400
    assert shipped_client.post("/reconcile", data={"queries": "[1, 2]"}).status_code == 400


def test_preview(shipped_client) -> None:
    response = shipped_client.get("/reconcile/preview?id=state/pl")
    assert response.status_code == 200 and response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Poland" in text and "Q36" in text and 'href="/id/state/pl"' in text
    assert shipped_client.get("/reconcile/preview?id=state/zz").status_code == 404


def test_preview_escapes(shipped_graph, shipped_app) -> None:
    reconciler = Reconciler(shipped_graph)
    entity = Entity(iri=f"{BASE}id/state/xx", id="state/xx", name='<script>"x"</script>',
                    types=["State"])
    with shipped_app.test_request_context():
        card = preview_card(reconciler, entity, "/id/state/xx")
    assert "<script>" not in card and "&lt;script&gt;" in card


def test_suggest_entity(shipped_client) -> None:
    response = shipped_client.get("/reconcile/suggest/entity?prefix=Pol")
    body = json.loads(response.get_data(as_text=True))
    assert body["result"][0]["id"] == "state/pl"
    assert {"id", "name"} <= set(body["result"][0])
    typed = shipped_client.get("/reconcile/suggest/entity?prefix=geo&type=Invocation").get_json()
    assert typed["result"] and all(r["id"].startswith("invocation/") for r in typed["result"])
    assert shipped_client.get("/reconcile/suggest/entity?prefix=").get_json() == {"result": []}


def test_suggest_type_and_property(shipped_client) -> None:
    types = shipped_client.get("/reconcile/suggest/type?prefix=sta").get_json()["result"]
    assert {"id": "State", "name": "State"} in types
    props = shipped_client.get("/reconcile/suggest/property?prefix=iso").get_json()["result"]
    assert {p["id"] for p in props} == {"iso3166Alpha2", "iso3166Alpha3"}


def test_normalise_and_dates() -> None:
    assert normalise("Moldova, Republic of") == normalise("Republic of Moldova")
    assert normalise("The Netherlands") == normalise("netherlands")
    assert normalise("Türkiye") == "turkiye"
    assert parse_date("24 July 2025") == parse_date("2025-07-24") == parse_date("July 24, 2025")
    assert parse_date("July 2025").precision == 2 and parse_date("2025").precision == 1
    assert parse_date("31 February 2025") is None and parse_date("Turkey") is None
