"""Pre-built responses (web/prebuilt.py, linkeddata/publication.py): every published path is
answered from the store exactly as the app answers it live (status, headers, bytes), for the
common clients' Accept headers, with and without gzip, GET and HEAD; everything the store
does not hold goes to the app; a store is built once per data version and reused."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from rdflib import Graph
from rdflib.compare import isomorphic
from werkzeug.test import Client, TestResponse

from helpers import ld_fixture_settings, union_graph
from mmkg.app import create_app
from mmkg.formats import COMMON_ACCEPT, DOCUMENT_FORMATS, JSON_LD
from mmkg.kg.store import load_graph, served_files
from mmkg.linkeddata.publication import prebuilt, published, store_path
from mmkg.metrics import METRICS
from mmkg.state import get_state
from mmkg.web.prebuilt import Replay, ResponseStore, open_or_build

FORMAT_BY_MEDIA = {f.media_type: f for f in DOCUMENT_FORMATS}
ACCEPTS = [None, *COMMON_ACCEPT.values(), *(f.media_type for f in DOCUMENT_FORMATS)]
ENCODINGS = [None, "gzip, deflate, br"]


class Live:
    """The app behind the replay, asked directly: what it answers live."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay

    def test_client(self) -> Client:
        return Client(self.replay.app, TestResponse)


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, Flask, Replay]]:
    """The app over the linked-data fixture with its pre-built responses replayed in front,
    and the same app answering live (one app: pyLODE's page is written once per app, and not
    the same twice)."""
    settings = replace(ld_fixture_settings(), cache_dir=tmp_path_factory.mktemp("cache"))
    replayed = create_app(settings, load_graph(served_files(settings)))
    replay = Replay(replayed.wsgi_app, prebuilt(replayed))
    replayed.wsgi_app = replay  # type: ignore[method-assign]
    yield Live(replay), replayed, replay
    get_state(replayed).backend.close()


def sample_paths(app: Flask) -> list[str]:
    """A few of every kind of published path (the fixture publishes a few hundred)."""
    paths = [p.path for p in published(get_state(app))]
    kept, seen = [], {}
    for path in paths:
        kind = "/".join(path.split("/")[:3]) + ("." if "." in path.rsplit("/", 1)[-1] else "")
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= 2:
            kept.append(path)
    assert any(p.startswith("/doc/") for p in kept) and "/ontology" in kept
    return kept


def comparable(response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, headers, response.get_data()


def context_of(client) -> object:
    return client.get("/context.jsonld").get_json()["@context"]


def assert_same_answer(actual, expected, context: object, data_client) -> None:
    """Byte for byte; where the app itself writes new blank node labels each time it builds a
    document (rdflib does), the same headers but for the length, and isomorphic graphs."""
    if comparable(actual) == comparable(expected):
        return
    status, headers, body = comparable(actual)
    assert (status, body != b"") == (expected.status_code, expected.get_data() != b""), context
    def without_length(h: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in h if k != "Content-Length"]
    assert without_length(headers) == without_length(comparable(expected)[1]), context
    if not body:
        return  # HEAD
    graphs = []
    for response in (actual, expected):
        data = response.get_data()
        if response.headers.get("Content-Encoding") == "gzip" or \
                response.mimetype == "application/gzip":
            data = gzip.decompress(data)
        fmt = FORMAT_BY_MEDIA.get("application/n-triples" if response.mimetype ==
                                  "application/gzip" else response.mimetype)
        assert fmt is not None and fmt.is_rdf, (context, "bytes differ", response.mimetype)
        if fmt is JSON_LD:  # named by URL: parse with the context the app publishes
            doc = json.loads(data)
            doc["@context"] = context_of(data_client)
            graphs.append(Graph().parse(data=json.dumps(doc), format="json-ld"))
        else:
            graphs.append(union_graph(data, fmt))
    assert isomorphic(*graphs), context


def test_replayed_answers_are_the_live_answers(apps) -> None:
    live, replayed, replay = apps
    for path in sample_paths(replayed):
        for accept in ACCEPTS:
            for encoding in ENCODINGS:
                headers = {k: v for k, v in (("Accept", accept), ("Accept-Encoding", encoding))
                           if v is not None}
                for method in ("GET", "HEAD"):
                    expected = live.test_client().open(path, method=method, headers=headers)
                    before = replay.replayed
                    actual = replayed.test_client().open(path, method=method, headers=headers)
                    assert replay.replayed == before + 1, "not answered from the store"
                    assert_same_answer(actual, expected, (path, headers, method),
                                       replayed.test_client())


def test_replayed_answers_are_counted_in_metrics(apps) -> None:
    """/metrics sees replayed requests, though they never reach the app's hooks."""
    _, replayed, replay = apps
    counted = {"requests": ("mmkg_http_requests_total", {"room": "linkeddata", "status": "2xx"}),
               "hits": ("mmkg_cache_hits_total", {"cache": "documents"})}
    before = {k: METRICS.value(name, **labels) for k, (name, labels) in counted.items()}
    served = replay.replayed
    assert replayed.test_client().get("/doc/state/pl.ttl").status_code == 200
    assert replay.replayed == served + 1
    for k, (name, labels) in counted.items():
        assert METRICS.value(name, **labels) == before[k] + 1, k
    scraped = replayed.test_client().get("/metrics").get_data(as_text=True)
    assert 'mmkg_cache_hits_total{cache="documents"}' in scraped


def test_a_gzipped_answer_is_the_gzip_of_the_plain_one(apps) -> None:
    _, replayed, _ = apps
    client = replayed.test_client()
    plain = client.get("/ontology.ttl", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/ontology.ttl", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Date" not in dict(zipped.headers)  # the server adds its own


@pytest.mark.parametrize("headers, path, status", [
    ({"If-None-Match": "*"}, "/doc/state/pl", 304),
    ({"Accept": "text/turtle;q=bad"}, "/doc/state/pl", 400),
    ({"Accept": "image/png"}, "/doc/state/pl", 406),
    ({}, "/doc/state/zz", 404),
    ({}, "/doc/state/pl.ttl?x=1", 200),
    ({}, "/ontology/9.9.9", 404),
], ids=["conditional", "malformed-accept", "not-acceptable", "unknown", "query-string",
        "unpublished"])
def test_what_the_store_does_not_answer_goes_to_the_app(apps, headers, path, status) -> None:
    live, replayed, replay = apps
    before = replay.replayed
    expected = live.test_client().get(path, headers=headers)
    actual = replayed.test_client().get(path, headers=headers)
    assert actual.status_code == expected.status_code == status
    assert comparable(actual) == comparable(expected)
    assert replay.replayed == before


def test_a_sub_path_deployment_is_answered_live(apps) -> None:
    live, replayed, replay = apps
    before = replay.replayed
    root = "http://localhost/mmkg/"
    expected = live.test_client().get("/doc/state/pl.html", base_url=root)
    actual = replayed.test_client().get("/doc/state/pl.html", base_url=root)
    assert b'href="/mmkg/' in actual.data
    assert comparable(actual) == comparable(expected)
    assert replay.replayed == before


def test_the_store_is_built_once_per_version(apps, tmp_path: Path) -> None:
    live, replayed, _ = apps
    state = get_state(replayed)
    folder = state.settings.cache_dir
    assert folder is not None
    stores = list((folder / "responses").glob("*.sqlite"))
    assert [p.name for p in stores] == [store_path(state)]
    # Opening it again reads it: nothing is built.
    again = open_or_build(stores[0], lambda writer: pytest.fail("built again"))
    assert isinstance(again, ResponseStore) and again.meta["data"] == state.backend.version
    # Other data (one more file) has another key: it would be built anew.
    extra = tmp_path / "extra.ttl"
    extra.write_text("<https://w3id.org/mmkg/id/state/zz> "
                     "<http://www.w3.org/2000/01/rdf-schema#label> \"Z\" .\n", encoding="utf-8")
    settings = replace(state.settings, data=(*state.settings.data, extra))
    other = create_app(settings, load_graph(served_files(settings)))
    try:
        assert store_path(get_state(other)) != store_path(state)
    finally:
        get_state(other).backend.close()
