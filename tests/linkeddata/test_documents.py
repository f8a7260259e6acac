"""The documents served for every URI: each resource's document in every format equals
describe(), the ontology, VoID, the dumps, named graphs and the JSON-LD context; the same
documents through a remote endpoint. Run on the small fixture and on the shipped data
(exhaustive loops over the shipped data are marked slow)."""

from __future__ import annotations

import gzip
import json
import re

import pyoxigraph as ox
import pytest
from flask import Flask
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, VOID

from helpers import (
    assert_isomorphic,
    assert_same_triple_sets,
    assert_same_triples,
    has_blank_nodes,
    ld_fixture_settings,
    our_resources,
    parse_response,
    quads_of,
    triples_of,
    union_graph,
)
from mmkg.config import Settings
from mmkg.formats import (
    DOCUMENT_FORMATS,
    HTML,
    JSON_LD,
    N_QUADS,
    N_TRIPLES,
    RDF_FORMATS,
    RDF_XML,
    TRIG,
    TURTLE,
)
from mmkg.kg.remote import RemoteGraph
from mmkg.kg.store import load_graph, served_files, to_rdflib
from mmkg.linkeddata import documents as describe
from mmkg.state import get_state
from mmkg.uris import BASE, GRAPH, MM
from realservers import oxigraph_server

# Loops over every resource: on the fixture by default, on the shipped data in the full run.
EVERY_RESOURCE = pytest.mark.parametrize(
    "data", ["fixture", pytest.param("shipped", marks=pytest.mark.slow)])


def app_for(request: pytest.FixtureRequest, data: str) -> Flask:
    app: Flask = request.getfixturevalue(f"{data}_app")
    return app


def served_triples(settings: Settings) -> Graph:
    """Every served file parsed by rdflib directly: the truth the VoID counts and the dumps
    are checked against."""
    graph = Graph()
    for path in served_files(settings):
        graph.parse(path, format="turtle")
    return graph


def test_there_are_resources_to_test(ld_backend):
    # Guards the loops below from passing on an empty graph.
    kinds = {kind for kind, _ in our_resources(ld_backend)}
    assert {"state", "invocation"} <= kinds


@EVERY_RESOURCE
def test_every_resource_uri_redirects_to_its_document(request, data):
    app = app_for(request, data)
    client = app.test_client()
    for kind, local in our_resources(get_state(app).backend):
        response = client.get(f"/id/{kind}/{local}")
        assert response.status_code == 303, (kind, local)
        assert response.headers["Location"].endswith(f"/doc/{kind}/{local}")


def values_resource_query(iri: str) -> str:
    """describe()'s query as it was written with VALUES blocks (the slow form it replaced)."""
    r = f"<{iri}>"
    labels = " ".join(f"<{p}>" for p in describe.LABEL_PROPERTIES)
    branches = [
        f"{{ {r} ?p ?o . BIND({r} AS ?s) }}",
        *describe._closure_branches(r, describe.BLANK_DEPTH),
        f"{{ {r} ?q0 ?s . FILTER(isIRI(?s)) VALUES ?p {{ {labels} }} ?s ?p ?o }}",
        f"{{ {r} ?q0 ?b . FILTER(isBlank(?b)) ?b ?q1 ?s . FILTER(isIRI(?s)) "
        f"VALUES ?p {{ {labels} }} ?s ?p ?o }}",
        f"{{ ?s ?p {r} . FILTER(isIRI(?s)) BIND({r} AS ?o) }}",
        f"{{ ?s ?q0 {r} . FILTER(isIRI(?s)) VALUES ?p {{ {labels} }} ?s ?p ?o }}",
    ]
    return "CONSTRUCT { ?s ?p ?o } WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"


@EVERY_RESOURCE
def test_the_filter_query_gathers_the_triples_the_values_query_did(request, data):
    backend = get_state(app_for(request, data)).backend
    resources = our_resources(backend)
    assert resources
    for kind, local in resources:
        iri = f"{BASE}id/{kind}/{local}"
        new = backend.construct(describe.resource_query(iri))
        old = backend.construct(values_resource_query(iri))
        if has_blank_nodes(old):
            assert_isomorphic(old, new, iri)
        else:
            assert_same_triple_sets(triples_of(old), triples_of(new), iri)


@EVERY_RESOURCE
def test_every_document_in_every_rdf_format_equals_describe(request, data):
    """Each format's own URL, and negotiation for Turtle (what `curl -L` gets)."""
    app = app_for(request, data)
    ld_client, backend = app.test_client(), get_state(app).backend
    base = get_state(app).settings.base
    for kind, local in our_resources(backend):
        expected = describe.describe(backend, kind, local, base)
        topic = URIRef(f"{base}id/{kind}/{local}")
        assert (topic, None, None) in expected or (None, None, topic) in expected
        for fmt in RDF_FORMATS:
            response = ld_client.get(f"/doc/{kind}/{local}.{fmt.extension}")
            assert_same_triples(ld_client, expected, response, fmt,
                                f"/doc/{kind}/{local}.{fmt.extension}")
        negotiated = ld_client.get(f"/doc/{kind}/{local}", headers={"Accept": "*/*"})
        assert negotiated.headers["Content-Location"] == f"/doc/{kind}/{local}.ttl"
        assert_same_triples(ld_client, expected, negotiated, TURTLE, f"/doc/{kind}/{local} as */*")


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.key for f in RDF_FORMATS])
@pytest.mark.parametrize("kind_local", [("state", "pl"), ("invocation", "mm-2025-07-ua-pow"),
                                        ("report", "mm-2025-07-ua-pow")], ids="/".join)
def test_negotiated_document_equals_describe(ld_client, ld_app, ld_backend, fmt, kind_local):
    kind, local = kind_local
    expected = describe.describe(ld_backend, kind, local, get_state(ld_app).settings.base)
    negotiated = ld_client.get(f"/doc/{kind}/{local}", headers={"Accept": fmt.media_type})
    assert negotiated.headers["Content-Location"] == f"/doc/{kind}/{local}.{fmt.extension}"
    assert_isomorphic(expected, parse_response(ld_client, negotiated, fmt),
                      f"/doc/{kind}/{local} as {fmt.media_type}")


def test_blank_nodes_reachable_from_a_resource_are_in_its_document(ld_client, ld_backend):
    doc = parse_response(ld_client, ld_client.get("/doc/report/mm-2025-07-ua-pow.ttl"), TURTLE)
    report = URIRef(BASE + "id/report/mm-2025-07-ua-pow")
    prov = "http://www.w3.org/ns/prov#"
    for attribution in doc.objects(report, URIRef(prov + "qualifiedAttribution")):
        for role in doc.objects(attribution, URIRef(prov + "hadRole")):
            assert any(True for _ in doc.predicate_objects(role))


def test_jsonld_reads_as_plain_json_with_short_names(ld_client):
    response = ld_client.get("/doc/invocation/mm-2025-07-ua-pow.jsonld")
    doc = json.loads(response.data)
    nodes = doc.get("@graph", [doc])
    invocation = next(n for n in nodes if n.get("id") == BASE + "id/invocation/mm-2025-07-ua-pow")
    assert invocation["type"] == "Invocation"
    assert BASE + "id/state/pl" in invocation["invokedBy"]
    assert doc["@context"].endswith("/context.jsonld")


def test_jsonld_context_is_published_and_expands_every_dump_triple(ld_client, ld_backend):
    context = ld_client.get("/context.jsonld")
    assert context.status_code == 200
    assert context.headers["Access-Control-Allow-Origin"] == "*"
    expected = Graph().parse(data=ld_client.get("/dump/mmkg.ttl").data, format="turtle")
    dump = ld_client.get("/dump/mmkg.jsonld")
    doc = json.loads(dump.data)
    # The dump carries the context inline (a saved copy expands without this server) and it
    # is the published one.
    assert doc["@context"] == context.get_json()["@context"]
    assert_isomorphic(expected, Graph().parse(data=dump.data, format="json-ld"),
                      "JSON-LD dump with its inline context")


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.key for f in RDF_FORMATS])
def test_ontology_in_every_rdf_format(ld_client, ld_backend, fmt):
    expected = describe.ontology_graph(ld_backend)
    assert (URIRef(BASE + "ontology"), None, None) in expected
    fixed = ld_client.get(f"/ontology.{fmt.extension}")
    assert_isomorphic(expected, parse_response(ld_client, fixed, fmt), f"/ontology.{fmt.extension}")
    negotiated = ld_client.get("/ontology", headers={"Accept": fmt.media_type})
    assert_isomorphic(expected, parse_response(ld_client, negotiated, fmt), "/ontology")


def test_protege_gets_rdf_xml_for_the_ontology(ld_client):
    response = ld_client.get("/ontology", headers={
        "Accept": "application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, */*; q=0.5"})
    assert response.mimetype == "application/rdf+xml"


def test_every_term_lands_on_its_documentation(ld_client, ld_backend):
    html = ld_client.get("/ontology", headers={"Accept": "text/html"}).text
    ids = set(re.findall(r'id="([^"]+)"', html))
    terms = {str(s)[len(str(MM)):] for s in describe.ontology_graph(ld_backend).subjects()
             if isinstance(s, URIRef) and str(s).startswith(str(MM))}
    assert terms, "no ontology terms loaded"
    assert terms <= ids, f"terms without an anchor: {sorted(terms - ids)[:10]}"


def test_ontology_version_iri_redirects(ld_client, ld_backend):
    version = next(describe.ontology_graph(ld_backend).objects(
        URIRef(BASE + "ontology"), URIRef("http://www.w3.org/2002/07/owl#versionIRI")))
    response = ld_client.get("/" + str(version)[len(BASE):])
    assert response.status_code == 303 and response.headers["Location"].endswith("/ontology")


@pytest.fixture(scope="session")
def ld_truth(ld_app: Flask) -> Graph:
    """What rdflib reads from the served files, parsed directly."""
    return served_triples(get_state(ld_app).settings)


def test_void_describes_the_dataset(ld_client, ld_truth):
    truth = ld_truth
    void = parse_response(ld_client, ld_client.get("/.well-known/void.ttl"), TURTLE)
    ds = URIRef(BASE + "dataset")
    assert void.value(ds, VOID.triples) == Literal(len(truth))
    assert void.value(ds, VOID.uriSpace) == Literal(BASE + "id/")
    assert void.value(ds, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    assert str(void.value(ds, URIRef("http://purl.org/dc/terms/license"))).startswith(
        "https://creativecommons.org/licenses/by/4.0")
    entities = {s for s in truth.subjects() if str(s).startswith(BASE + "id/")}
    assert void.value(ds, VOID.entities) == Literal(len(entities))
    partitions = {void.value(p, VOID["class"]): int(void.value(p, VOID.entities))
                  for p in void.objects(ds, VOID.classPartition)}
    for cls in (MM.Invocation, MM.ParticipatingState):
        assert partitions[cls] == len(set(truth.subjects(RDF.type, cls)))
    properties = {void.value(p, VOID.property): int(void.value(p, VOID.triples))
                  for p in void.objects(ds, VOID.propertyPartition)}
    assert properties[MM.invokedBy] == len(list(truth.triples((None, MM.invokedBy, None))))
    dumps = set(void.objects(ds, VOID.dataDump))
    assert {str(d)[len(BASE):] for d in dumps} == {
        "dump/mmkg.ttl", "dump/mmkg.nt", "dump/mmkg.nt.gz", "dump/mmkg.nq", "dump/mmkg.trig",
        "dump/mmkg.jsonld"}
    for dump in dumps:
        assert ld_client.get("/" + str(dump)[len(BASE):]).status_code == 200
    assert ld_client.get("/dataset").status_code == 303


@pytest.mark.parametrize("fmt", DOCUMENT_FORMATS, ids=[f.key for f in DOCUMENT_FORMATS])
def test_void_in_every_format(ld_client, fmt):
    response = ld_client.get("/.well-known/void", headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    if fmt is not HTML:
        assert len(parse_response(ld_client, response, fmt)) > 10


def test_dumps_hold_every_served_triple(ld_client, ld_truth):
    truth = ld_truth
    turtle = Graph().parse(data=ld_client.get("/dump/mmkg.ttl").data, format="turtle")
    download = ld_client.get("/dump/mmkg.nt.gz")
    assert download.mimetype == "application/gzip"
    assert download.headers["Content-Disposition"] == 'attachment; filename="mmkg.nt.gz"'
    nt = Graph().parse(data=gzip.decompress(download.data).decode(), format="nt")
    assert_isomorphic(truth, turtle, "Turtle dump")
    assert_isomorphic(truth, nt, "N-Triples download")
    # Issue 11, item 3: the same N-Triples by URL, as RDF (compressed only in transit).
    by_url = ld_client.get("/dump/mmkg.nt")
    assert by_url.headers["Content-Type"] == "application/n-triples"
    assert by_url.data == gzip.decompress(download.data)
    zipped = ld_client.get("/dump/mmkg.nt", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Type"] == "application/n-triples"
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == by_url.data
    for fmt, name in ((N_QUADS, "mmkg.nq"), (TRIG, "mmkg.trig")):
        response = ld_client.get(f"/dump/{name}")
        assert response.mimetype == fmt.media_type
        assert_isomorphic(truth, union_graph(response.data, fmt), f"{name}, graphs merged")


def test_quad_dumps_keep_every_named_graph(ld_client, ld_backend):
    """N-Quads and TriG keep each served file's named graph: the store's quads exactly."""
    for fmt, name in ((N_QUADS, "mmkg.nq"), (TRIG, "mmkg.trig")):
        served = quads_of(ld_client.get(f"/dump/{name}").data, fmt)
        assert not any(isinstance(q.graph_name, ox.DefaultGraph) for q in served), name
        graphs = {q.graph_name.value for q in served}
        assert graphs == {g.value for g in ld_backend.store.named_graphs()}, name
        for graph in graphs:
            expected = [q for q in ld_backend.store.quads_for_pattern(
                None, None, None, ox.NamedNode(graph))]
            got = [q for q in served if q.graph_name.value == graph]
            assert len(got) == len(expected), (name, graph)
            assert_isomorphic(_triples(expected), _triples(got), f"{name} graph {graph}")


def _graph_of(quads) -> Graph:
    graph = Graph()
    for s, p, o, _ in quads:
        graph.add((s, p, o))
    return graph


def _triples(quads) -> Graph:
    data = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES) or b""
    return Graph().parse(data=data, format="nt")


@pytest.mark.parametrize("kind_local", ["state/pl", "invocation/mm-2025-07-ua-pow"])
@pytest.mark.parametrize("fmt", [N_QUADS, TRIG], ids=["nquads", "trig"])
def test_quad_documents_put_each_triple_in_the_graph_that_holds_it(ld_client, ld_backend, fmt,
                                                                     kind_local):
    response = ld_client.get(f"/doc/{kind_local}", headers={"Accept": fmt.media_type})
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    assert response.headers["Content-Location"] == f"/doc/{kind_local}.{fmt.extension}"
    quads = quads_of(response.data, fmt)
    named = [q for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)]
    assert named
    for quad in named:
        if any(isinstance(t, ox.BlankNode) for t in (quad.subject, quad.object)):
            continue  # blank node labels are the document's own
        assert quad in ld_backend.store, str(quad)
    # What no file states, the document's own metadata, is in the default graph.
    doc = ox.NamedNode(f"{BASE}doc/{kind_local}")
    default = [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]
    assert default and all(q.subject == doc for q in default)


@EVERY_RESOURCE
def test_every_named_graph_is_served_in_every_format(request, data):
    """Graph names are in our namespace too (<base>graph/{file}): each is a document holding
    exactly that graph's triples, with a page for people."""
    app = app_for(request, data)
    ld_client, ld_backend = app.test_client(), get_state(app).backend
    names = [g.value for g in ld_backend.store.named_graphs() if g.value.startswith(str(GRAPH))]
    assert names
    for iri in names:
        path = "/" + iri[len(BASE):]
        expected = Graph()
        for quad in ld_backend.store.quads_for_pattern(None, None, None, ox.NamedNode(iri)):
            expected.add(tuple(to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
        for fmt in (TURTLE, JSON_LD, RDF_XML, N_TRIPLES):
            response = ld_client.get(f"{path}.{fmt.extension}")
            assert_same_triples(ld_client, expected, response, fmt, path)
        page = ld_client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert page.headers["Content-Location"] == f"{path}.html"
    assert ld_client.get("/graph/no-such-graph").status_code == 404


@pytest.mark.slow
def test_documents_through_a_remote_endpoint_equal_the_embedded_ones(tmp_path):
    """describe() uses SPARQL only, so a real Oxigraph server gives the same documents,
    blank nodes included."""
    local = load_graph(served_files(ld_fixture_settings()))
    dump = tmp_path / "dump.nq"
    ox.serialize(list(local.store), str(dump), ox.RdfFormat.N_QUADS)
    with oxigraph_server(tmp_path, dump) as url:
        remote = RemoteGraph(url, local.files, local.version, local.modified, timeout=20)
        for kind, local_id in our_resources(local):
            assert_isomorphic(describe.describe(local, kind, local_id),
                              describe.describe(remote, kind, local_id),
                              f"{kind}/{local_id} through the remote endpoint")
            # The quad formats' documents too: the same triples in the same named graphs.
            here, there = (describe.describe_quads(kg, kind, local_id) for kg in (local, remote))
            assert sorted({str(q[3]) for q in here}) == sorted({str(q[3]) for q in there})
            assert_isomorphic(_graph_of(here), _graph_of(there),
                              f"{kind}/{local_id} quads through the remote endpoint")
        assert_isomorphic(describe.ontology_graph(local), describe.ontology_graph(remote),
                          "ontology through the remote endpoint")
