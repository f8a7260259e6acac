"""The join example of examples/wikidata-join returns the same rows through our endpoint (the
extract loaded as a named graph by config) and by federation to a real second endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from helpers import REPOSITORY
from mmkg.app import create_app
from mmkg.config import Settings
from mmkg.kg.store import load_graph, served_files
from realservers import oxigraph_server

EXAMPLE = REPOSITORY / "examples" / "wikidata-join"
EXTRACT = EXAMPLE / "extract.ttl"
EXAMPLE_SERVICE = "http://127.0.0.1:7878/query"  # the endpoint federated.rq names
RESULTS_JSON = "application/sparql-results+json"


def client_for(settings: Settings) -> FlaskClient:
    graph = load_graph(served_files(settings))
    return create_app(settings, graph=graph).test_client()


def rows(client: FlaskClient, query: str) -> list[dict[str, tuple[str, str]]]:
    """The solutions of a query at /sparql, each binding as (type, value) (+ language)."""
    response = client.post("/sparql", data={"query": query}, headers={"Accept": RESULTS_JSON})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = json.loads(response.get_data(as_text=True))
    return [{name: (b["type"], b["value"], b.get("xml:lang", "")) for name, b in row.items()}
            for row in body["results"]["bindings"]]


@pytest.fixture(scope="module")
def local_rows() -> list[dict[str, tuple[str, str]]]:
    client = client_for(Settings(data=(EXTRACT,)))
    return rows(client, (EXAMPLE / "join.rq").read_text(encoding="utf-8"))


def test_join_through_our_endpoint_with_the_extract_as_a_named_graph(local_rows) -> None:
    # The extract states P463 Q81299 for Q31 and Q45; our graph links Belgium and Portugal to
    # those items and the OSCE to Q81299. Each row pairs our State with our organisation.
    states = sorted(r["state"][1] for r in local_rows)
    assert states == ["https://w3id.org/mmkg/id/state/be", "https://w3id.org/mmkg/id/state/pt"]
    assert {r["item"][1] for r in local_rows} == {"http://www.wikidata.org/entity/Q31",
                                                  "http://www.wikidata.org/entity/Q45"}
    assert {r["ourOrg"][1] for r in local_rows} == {"https://w3id.org/mmkg/id/org/osce"}


def test_join_needs_the_extract() -> None:
    # Without the extract loaded the same query finds nothing: the rows come from the join.
    client = client_for(Settings())
    assert rows(client, (EXAMPLE / "join.rq").read_text(encoding="utf-8")) == []


@pytest.fixture(scope="module")
def second_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph SPARQL server on a loopback port, loaded with the extract."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph"), EXTRACT) as endpoint:
        yield endpoint


@pytest.mark.slow
def test_federated_join_returns_the_same_rows(second_endpoint: str, local_rows) -> None:
    query = (EXAMPLE / "federated.rq").read_text(encoding="utf-8")
    assert EXAMPLE_SERVICE in query
    query = query.replace(EXAMPLE_SERVICE, second_endpoint)
    client = client_for(Settings(federation_allowlist=(second_endpoint,),
                                 federation_allow_private=True))
    federated = rows(client, query)
    key = sorted  # compare as sets of rows; order is fixed by ORDER BY but keep it robust
    assert key(json.dumps(r, sort_keys=True) for r in federated) == \
        key(json.dumps(r, sort_keys=True) for r in local_rows)
    assert len(federated) == 2


@pytest.mark.slow
def test_federation_is_refused_without_the_allow_list(second_endpoint: str) -> None:
    query = (EXAMPLE / "federated.rq").read_text(encoding="utf-8")
    query = query.replace(EXAMPLE_SERVICE, second_endpoint)
    client = client_for(Settings())
    response = client.post("/sparql", data={"query": query}, headers={"Accept": RESULTS_JSON})
    assert response.status_code in (400, 403)
