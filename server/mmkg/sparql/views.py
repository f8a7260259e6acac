"""The SPARQL 1.1 Protocol endpoint at /sparql: queries, service description and query page.

https://www.w3.org/TR/sparql11-protocol/ — the view only translates HTTP to
`query_engine.prepare/run` and back; the safety rules live in query_engine.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, render_template, request
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, VOID, XSD

from .. import formats as fmt
from ..config import Settings
from ..uris import MM, PREFIXES
from . import engine as qe

bp = Blueprint("sparql", __name__)
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
TRUNCATED_HEADER = "MMKG-Results-Truncated"
LIMIT_HEADER = "MMKG-Results-Limit"
_pool_lock = threading.Lock()

# SELECT/ASK result formats in server preference order (`*/*` → JSON); `key` is the value of
# the `format` parameter. https://www.w3.org/ns/formats/ names each.
RESULTS_FORMATS: tuple[fmt.Format, ...] = (
    fmt.Format("json", "application/sparql-results+json", "srj", None,
               qe.RESULTS_FORMATS["json"][1], "SPARQL JSON", ("application/json",)),
    fmt.Format("xml", "application/sparql-results+xml", "srx", None,
               qe.RESULTS_FORMATS["xml"][1], "SPARQL XML", ("application/xml", "text/xml")),
    fmt.Format("csv", "text/csv", "csv", None, qe.RESULTS_FORMATS["csv"][1], "CSV"),
    fmt.Format("tsv", "text/tab-separated-values", "tsv", None, qe.RESULTS_FORMATS["tsv"][1],
               "TSV"),
)
# `format=` names accepted besides each format's key and extension.
# SPARQLWrapper sends `format` and `output` with its own names ("n3" for setReturnFormat(N3):
# Turtle is N3's RDF subset, so it is served as Turtle).
FORMAT_NAMES = {"ttl": "turtle", "json-ld": "jsonld", "nt": "ntriples", "n-triples": "ntriples",
                "rdf": "rdfxml", "rdf+xml": "rdfxml", "n3": "turtle"}


def init_app(app: Flask) -> None:
    """Register the endpoint; the worker pool starts with the first query."""
    app.register_blueprint(bp)


def _settings() -> Settings:
    return current_app.config["MMKG_SETTINGS"]


def _backend() -> Any:
    return current_app.extensions["mmkg"]


def _pool() -> qe.WorkerPool | None:
    backend = _backend()
    if not hasattr(backend, "store"):
        return None
    with _pool_lock:  # concurrent first queries must share one pool
        pool = current_app.extensions.get("mmkg_query_pool")
        if pool is None or pool.store is not backend.store:
            settings = _settings()
            pool = qe.WorkerPool(backend.store, settings.query_workers,
                                 allow_network=bool(settings.federation_allowlist))
            current_app.extensions["mmkg_query_pool"] = pool
        return pool


@bp.after_request
def _cors(response: Response) -> Response:
    # A public read-only endpoint: any web page may query it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = f"{TRUNCATED_HEADER}, {LIMIT_HEADER}"
    return response


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    """One URL for the whole protocol."""
    if request.method == "OPTIONS":
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
        return response
    wants_html = False
    try:
        query, defaults, named = _read_request()
        if query is None:
            return _no_query()
        prepared = qe.prepare(query, _settings(), defaults, named,
                              fast=hasattr(_backend(), "store"))
        offered = (RESULTS_FORMATS if prepared.form in ("SELECT", "ASK")
                   else fmt.RDF_FORMATS) + (fmt.HTML,)
        chosen = _choose(offered)
        if chosen is None:
            return _plain(406, "Not Acceptable: this query's results are offered as "
                               + fmt.offered_text(offered))
        wants_html = chosen is fmt.HTML
        if wants_html:
            return _page(query, prepared)
        return _answer(prepared, chosen)
    except qe.QueryError as err:
        if wants_html or (request.method == "GET" and _prefers_html()):
            return _render(request.values.get("query", ""), error=err.message,
                           status=err.status)
        return _plain(err.status, err.message)
    except fmt.MalformedAccept as err:
        return _plain(400, f"Bad Accept header: {err}")
    except Exception:  # a server fault: logged, and never disguised as the client's error
        current_app.logger.exception("SPARQL endpoint fault")
        return _plain(500, "Internal error while answering the query; it has been logged")


def _read_request() -> tuple[str | None, list[str], list[str]]:
    """The query text and protocol dataset from GET, POST form or POST direct."""
    if request.method == "POST":
        # Refuse a huge body before reading it (URL-encoding at most triples a query's size).
        limit = 3 * _settings().max_query_length + 65536
        if (request.content_length or 0) > limit:
            raise qe.QueryTooLong(f"request body over {limit} bytes; queries may be at most "
                                  f"{_settings().max_query_length} characters long")
        media = request.mimetype
        if media == "application/sparql-update":
            raise qe.QueryForbidden("SPARQL Update is not accepted: this endpoint is read-only")
        if media == "application/sparql-query":
            params = request.args
            body = request.get_data(as_text=True)
            return body, params.getlist("default-graph-uri"), params.getlist("named-graph-uri")
        if media not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise _Unsupported(media)
        params = request.form
    else:
        params = request.args
    if "update" in params:
        raise qe.QueryForbidden("SPARQL Update is not accepted: this endpoint is read-only")
    queries = params.getlist("query")
    if len(queries) > 1:
        raise qe.QueryError("exactly one query parameter is allowed")
    query = queries[0] if queries else None
    if request.method == "POST" and query is None:
        raise qe.QueryError("missing query parameter")
    return query, params.getlist("default-graph-uri"), params.getlist("named-graph-uri")


class _Unsupported(qe.QueryError):
    status = 415

    def __init__(self, media: str) -> None:
        super().__init__(f"unsupported request content type {media!r}; send "
                         "application/sparql-query or application/x-www-form-urlencoded")


def _choose(offered: tuple[fmt.Format, ...]) -> fmt.Format | None:
    """The `format` (or `output`) parameter, a key, extension or media type, wins over Accept."""
    name = (request.values.get("format") or request.values.get("output") or "").strip().lower()
    if name:
        name = FORMAT_NAMES.get(name, name)
        for candidate in offered:
            if name in (candidate.key, candidate.extension, candidate.media_type,
                        *candidate.aliases):
                return candidate
        # The results-format names also work for CONSTRUCT/DESCRIBE: their RDF counterparts.
        counterpart = {"xml": fmt.RDF_XML, "json": fmt.JSON_LD}.get(name)
        if counterpart in offered:
            return counterpart
        return None
    return fmt.negotiate(request.headers.get("Accept"), offered)


def _prefers_html() -> bool:
    try:
        return fmt.negotiate(request.headers.get("Accept"), fmt.DOCUMENT_FORMATS) is fmt.HTML
    except fmt.MalformedAccept:
        return False


def _plain(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _answer(prepared: qe.PreparedQuery, chosen: fmt.Format) -> Response:
    """Run the query and send its serialized answer in the chosen format."""
    settings = _settings()
    direct = chosen.key if prepared.form in ("SELECT", "ASK") else None
    if direct is None:
        # pyoxigraph writes the registry's RDF formats; anything else goes through rdflib.
        writable = ox.RdfFormat.from_media_type(chosen.media_type) is not None
        output = chosen.media_type if writable else fmt.N_TRIPLES.media_type
    else:
        output = direct
    answer = qe.run(_backend(), prepared, output, settings, PREFIXES, _pool())
    body, media_type = answer.body, answer.media_type
    if direct is None and output != chosen.media_type:
        graph = Graph().parse(data=body.decode(), format="nt")
        body, media_type = fmt.serialize(graph, chosen), chosen.content_type
    response = Response(body, mimetype=None, content_type=media_type)
    response.headers["Vary"] = "Accept"
    if answer.truncated:
        response.headers[TRUNCATED_HEADER] = "true"
        response.headers[LIMIT_HEADER] = str(settings.max_results)
    return response


# --- service description -------------------------------------------------------------------

def _no_query() -> Response:
    """GET without a query: the service description (RDF Accept) or the query page."""
    chosen = _choose(fmt.DOCUMENT_FORMATS)
    if chosen is None:
        return _plain(406, "Not Acceptable: offered " + fmt.offered_text(fmt.DOCUMENT_FORMATS))
    if chosen is fmt.HTML:
        example = request.args.get("example", "")
        text = next((e.query for e in examples() if e.name == example), "")
        return _render(text or _default_query())
    response = Response(fmt.serialize(service_description(), chosen),
                        content_type=chosen.content_type)
    response.headers["Vary"] = "Accept"
    return response


def endpoint_iri(settings: Settings) -> str:
    """The canonical IRI of the endpoint (what VoID's void:sparqlEndpoint should name)."""
    return settings.base + "sparql"


def service_description() -> Graph:
    """SPARQL 1.1 Service Description (https://www.w3.org/TR/sparql11-service-description/)
    with the dataset's graphs and this endpoint's limits (mm:queryTimeout, mm:maxResultRows,
    mm:maxQueryLength, documented in docs/MODEL.md)."""
    settings = _settings()
    g = Graph()
    g.bind("sd", SD)
    g.bind("mm", MM)
    g.bind("void", VOID)
    service = URIRef(endpoint_iri(settings) + "#service")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, URIRef(endpoint_iri(settings))))
    served_here = request.url_root + "sparql"
    if served_here != endpoint_iri(settings):
        g.add((service, SD.endpoint, URIRef(served_here)))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    if settings.federation_allowlist:
        g.add((service, SD.feature, SD.BasicFederatedQuery))
    for f in RESULTS_FORMATS + fmt.RDF_FORMATS:
        g.add((service, SD.resultFormat, URIRef(f.iri)))
    g.add((service, RDFS.label, Literal("mmkg SPARQL endpoint", lang="en")))
    g.add((service, RDFS.comment, Literal(
        f"Read-only SPARQL 1.1 Query. Queries stop after {settings.query_timeout:g} s (HTTP "
        f"503); at most {settings.max_results} result rows or triples are returned (header "
        f"{TRUNCATED_HEADER}: true when cut); queries longer than {settings.max_query_length} "
        "characters are refused (HTTP 413). SERVICE only to allow-listed endpoints; updates "
        "and LOAD are refused.", lang="en")))
    g.add((service, MM.queryTimeout, Literal(str(settings.query_timeout), datatype=XSD.decimal)))
    g.add((service, MM.maxResultRows, Literal(settings.max_results, datatype=XSD.integer)))
    g.add((service, MM.maxQueryLength, Literal(settings.max_query_length, datatype=XSD.integer)))

    dataset, default = URIRef(settings.base + "sparql#dataset"), BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, RDFS.comment, Literal("the union of all named graphs", lang="en")))
    total = 0
    for name, count in graph_sizes():
        named, graph = BNode(), BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(count, datatype=XSD.integer)))
        total += count
    g.add((default, VOID.triples, Literal(total, datatype=XSD.integer)))
    return g


def graph_sizes() -> list[tuple[str, int]]:
    """(graph IRI, triple count) for every named graph, computed once per app."""
    cached = current_app.extensions.get("mmkg_graph_sizes")
    if cached is None:
        rows = _backend().select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
        cached = [(str(r["g"]), int(r["n"])) for r in rows]
        current_app.extensions["mmkg_graph_sizes"] = cached
    return cached


# --- the query page ------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    """A competency question offered on the query page."""

    name: str
    title: str
    query: str
    description: str = ""


def examples() -> list[Example]:
    """The shipped competency questions (server/mmkg/queries/*.rq), in file-name order."""
    from ..kg.competency import questions

    return [Example(q.name, q.title, q.sparql, q.description) for q in questions()]


def _default_query() -> str:
    found = examples()
    if found:
        return found[0].query
    return "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10"


def _page(query: str, prepared: qe.PreparedQuery) -> Response:
    """Run the query and show its results as a table under the editor."""
    settings = _settings()
    output = "json" if prepared.form in ("SELECT", "ASK") else fmt.N_TRIPLES.media_type
    answer = qe.run(_backend(), prepared, output, settings, None, _pool())
    if prepared.form == "ASK":
        table = {"boolean": json.loads(answer.body)["boolean"]}
    elif prepared.form == "SELECT":
        data = json.loads(answer.body)
        columns = data["head"]["vars"]
        rows = [[_cell(b.get(v)) for v in columns] for b in data["results"]["bindings"]]
        table = {"columns": columns, "rows": rows}
    else:
        triples = ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)
        rows = [[_cell(qe.term_json(t)) for t in (q.subject, q.predicate, q.object)]
                for q in triples]
        table = {"columns": ["subject", "predicate", "object"], "rows": rows}
    response = _render(query, form=prepared.form, table=table, truncated=answer.truncated)
    if answer.truncated:
        response.headers[TRUNCATED_HEADER] = "true"
        response.headers[LIMIT_HEADER] = str(settings.max_results)
    return response


def _cell(binding: dict[str, str] | None) -> dict[str, str | None]:
    """One table cell; our canonical IRIs link to the serving host's pages."""
    if binding is None:
        return {"text": "", "href": None, "note": None}
    value, kind = binding["value"], binding["type"]
    if kind == "uri":
        base = _settings().base
        href = request.script_root + "/" + value[len(base):] if value.startswith(base) else value
        if not href.startswith(("http://", "https://", "/")):
            href = None  # never link javascript: or other schemes
        return {"text": value, "href": href, "note": None}
    if kind == "bnode":
        return {"text": "_:" + value, "href": None, "note": None}
    note = "@" + binding["xml:lang"] if "xml:lang" in binding else None
    if "datatype" in binding:
        note = binding["datatype"].replace("http://www.w3.org/2001/XMLSchema#", "xsd:")
    return {"text": value, "href": None, "note": note}


def _render(query: str, *, form: str = "SELECT", table: dict[str, Any] | None = None,
            truncated: bool = False, error: str | None = None, status: int = 200) -> Response:
    settings = _settings()
    offered = RESULTS_FORMATS if form in ("SELECT", "ASK") else fmt.RDF_FORMATS
    downloads = [(f.label, "?" + urlencode({"query": query, "format": f.key}))
                 for f in offered] if table is not None and query else []
    html = render_template("query.html", query=query, examples=examples(), table=table,
                           truncated=truncated, error=error, settings=settings,
                           downloads=downloads)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response
