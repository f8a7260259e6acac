"""The SPARQL 1.1 Protocol endpoint at /sparql and its query page.

https://www.w3.org/TR/sparql11-protocol/ — the views only translate HTTP: the guard
(guard.py) screens the query here (cheap checks only), the backend checks and answers it in
its workers (kg/store.py, workers.py), the service description comes from service.py.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from rdflib import Graph

from .. import formats as fmt
from ..config import Settings
from ..metrics import METRICS
from ..state import get_state
from ..uris import PREFIXES
from ..web.http import plain
from ..web.urls import public_root
from . import page
from .errors import (
    QueryError,
    QueryForbidden,
    QueryThrottled,
    QueryTooLong,
    UnsupportedMediaType,
)
from .guard import PreparedQuery, screen
from .results import Answer, term_json
from .service import (
    CACHE_HEADER,
    LIMIT_HEADER,
    TRUNCATED_HEADER,
    graph_sizes,
    service_description,
)
from .workers import Job

bp = Blueprint("sparql", __name__)

# `format=` names accepted besides each format's key and extension.
# SPARQLWrapper sends `format` and `output` with its own names ("n3" for setReturnFormat(N3):
# Turtle is N3's RDF subset, so it is served as Turtle).
FORMAT_NAMES = {"ttl": "turtle", "json-ld": "jsonld", "nt": "ntriples", "n-triples": "ntriples",
                "rdf": "rdfxml", "rdf+xml": "rdfxml"}


DOWNLOAD_NAME = "mmkg-results"
# File extensions people's programs open (the registry's .srj/.srx are the formal ones).
DOWNLOAD_EXTENSIONS = {"json": "json", "xml": "xml"}


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")


def _settings() -> Settings:
    return get_state().settings


def _client() -> str:
    """Who is asking, for fair admission: the peer's address (gunicorn sets it from a trusted
    proxy's header only when told to trust that proxy)."""
    return request.remote_addr or ""


def _run(prepared: PreparedQuery, output: str, prefixes: dict[str, str] | None,
         ) -> tuple[Answer, bool]:
    """The backend's answer to a screened query, within the configured timeout and cap, and
    whether it came from the answer cache (an answer is kept only after its query passed the
    full check, which gives the same verdict for the same text)."""
    state = get_state()
    job = Job(prepared, output, state.settings.max_results, prefixes)
    client = _client()
    answer, cached = state.answers.answer(
        job, lambda: state.backend.answer(job, state.settings.query_timeout, client))
    METRICS.count_cache("sparql_results", cached)
    return answer, cached


def _screen(query: str, defaults: list[str], named: list[str]) -> PreparedQuery:
    """The cheap checks here; a query whose form they cannot read is not a query they know
    (an update, a typo): the full check, in a worker, names what is wrong with it."""
    state = get_state()
    prepared = screen(query, state.settings, defaults, named,
                      always_check=not state.backend.checks_syntax)
    if prepared.form is None:
        prepared = state.backend.check(prepared, state.settings.query_timeout, _client())
    return prepared


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """One URL for the whole protocol (CORS preflights are answered by web.http)."""
    wants_html = False
    try:
        query, defaults, named = _read_request()
        if query is None:
            return _no_query()
        prepared = _screen(query, defaults, named)
        offered = (fmt.RESULTS_FORMATS if prepared.form in ("SELECT", "ASK")
                   else fmt.RDF_FORMATS) + (fmt.HTML,)
        chosen = _choose(offered)
        if chosen is None and prepared.form in ("CONSTRUCT", "DESCRIBE") and _results_only():
            # RULINGS: a client that names only result-set types for a graph query (rdflib's
            # SPARQLStore set to json or csv) gets Turtle, which it can read.
            chosen = fmt.TURTLE
        if chosen is None:
            return plain(406, "Not Acceptable: this query's results are offered as "
                               + fmt.offered_text(offered))
        wants_html = chosen is fmt.HTML
        response = _page(query, prepared) if wants_html else _answer(prepared, chosen)
        METRICS.inc("mmkg_sparql_queries_total", outcome="answered")
        return response
    except QueryError as err:
        METRICS.inc("mmkg_sparql_queries_total", outcome=err.outcome)
        headers = ({"Retry-After": str(err.retry_after)} if isinstance(err, QueryThrottled)
                   else {})
        if wants_html or _prefers_html():
            response = page.render(request.values.get("query", ""), error=err.message,
                                   status=err.status)
            response.headers.update(headers)
            return response
        return plain(err.status, err.message, **headers)
    except fmt.MalformedAccept as err:
        return plain(400, f"Bad Accept header: {err}")
    except Exception:  # a server fault: logged, and never disguised as the client's error
        METRICS.inc("mmkg_sparql_queries_total", outcome="fault")
        current_app.logger.exception("SPARQL endpoint fault")
        return plain(500, "Internal error while answering the query; it has been logged")


def _read_request() -> tuple[str | None, list[str], list[str]]:
    """The query text and protocol dataset from GET, POST form or POST direct."""
    if request.method == "POST":
        # Refuse a huge body before reading it (URL-encoding at most triples a query's size).
        limit = 3 * _settings().max_query_length + 65536
        if (request.content_length or 0) > limit:
            raise QueryTooLong(f"request body over {limit} bytes; queries may be at most "
                                  f"{_settings().max_query_length} characters long")
        media = request.mimetype
        if media == "application/sparql-update":
            raise QueryForbidden("SPARQL Update is not accepted: this endpoint is read-only")
        if media == "application/sparql-query":
            params = request.args
            body = request.get_data(as_text=True)
            return body, params.getlist("default-graph-uri"), params.getlist("named-graph-uri")
        if media not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise UnsupportedMediaType(media)
        params = request.form
    else:
        params = request.args
    if "update" in params:
        raise QueryForbidden("SPARQL Update is not accepted: this endpoint is read-only")
    queries = params.getlist("query")
    if len(queries) > 1:
        raise QueryError("exactly one query parameter is allowed")
    query = queries[0] if queries else None
    if request.method == "POST" and query is None:
        raise QueryError("missing query parameter")
    return query, params.getlist("default-graph-uri"), params.getlist("named-graph-uri")


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


def _results_only() -> bool:
    """Whether the request asks only for SELECT/ASK result formats (by `format=` or Accept)."""
    name = (request.values.get("format") or request.values.get("output") or "").strip().lower()
    if name:
        return any(name in (f.key, f.extension, f.media_type) for f in fmt.RESULTS_FORMATS)
    accept = fmt.parse_accept(request.headers.get("Accept"))
    results = {m for f in fmt.RESULTS_FORMATS for m in (f.media_type, *f.aliases)}
    wanted = [media for media, quality in accept if quality > 0]
    return bool(wanted) and all(media in results for media in wanted)


def _prefers_html() -> bool:
    try:
        return fmt.negotiate(request.headers.get("Accept"), fmt.DOCUMENT_FORMATS) is fmt.HTML
    except fmt.MalformedAccept:
        return False


def _answer(prepared: PreparedQuery, chosen: fmt.Format) -> Response:
    """Run the query and send its serialized answer in the chosen format."""
    settings = _settings()
    direct = chosen.key if prepared.form in ("SELECT", "ASK") else None
    if direct is None:
        # pyoxigraph writes the registry's RDF formats; anything else goes through rdflib.
        writable = ox.RdfFormat.from_media_type(chosen.media_type) is not None
        output = chosen.media_type if writable else fmt.N_TRIPLES.media_type
    else:
        output = direct
    answer, cached = _run(prepared, output, PREFIXES)
    body, media_type = answer.body, answer.media_type
    if direct is None and output != chosen.media_type:
        graph = Graph().parse(data=body.decode(), format="nt")
        body, media_type = fmt.serialize(graph, chosen), chosen.content_type
    response = Response(body, mimetype=None, content_type=media_type)
    response.headers["Vary"] = "Accept"
    if _flag(request.values.get("download")):
        # `download=1` names the file (mmkg-results.csv ...) for browsers' downloads.
        extension = DOWNLOAD_EXTENSIONS.get(chosen.key, chosen.extension)
        response.headers["Content-Disposition"] = \
            f'attachment; filename="{DOWNLOAD_NAME}.{extension}"'
    response.headers[CACHE_HEADER] = "hit" if cached else "miss"
    if answer.truncated:
        response.headers[TRUNCATED_HEADER] = "true"
        response.headers[LIMIT_HEADER] = str(settings.max_results)
    return response


# --- service description -------------------------------------------------------------------

def _no_query() -> Response:
    """GET without a query: the service description (RDF Accept) or the query page."""
    chosen = _choose(fmt.DOCUMENT_FORMATS)
    if chosen is None:
        return plain(406, "Not Acceptable: offered " + fmt.offered_text(fmt.DOCUMENT_FORMATS))
    if chosen is fmt.HTML:
        example = request.args.get("example", "")
        return page.render(page.example_text(example) or page.default_query())
    response = Response(fmt.serialize(_service_description(), chosen),
                        content_type=chosen.content_type)
    response.headers["Vary"] = "Accept"
    return response


def _service_description() -> Graph:
    """The description of this endpoint; graph sizes are counted once per app."""
    state = get_state()
    if state.graph_sizes is None:
        state.graph_sizes = graph_sizes(state.backend)
    # Where this server answers: the public URL (never the request's Host header).
    return service_description(state.settings, public_root(state.settings) + "/sparql",
                               state.graph_sizes)


# --- the query page ------------------------------------------------------------------------

def _page(query: str, prepared: PreparedQuery) -> Response:
    """Run the query and show one page of its answer under the editor."""
    settings = _settings()
    output = "json" if prepared.form in ("SELECT", "ASK") else fmt.N_TRIPLES.media_type
    answer, cached = _run(prepared, output, None)
    triples = None
    if prepared.form not in ("SELECT", "ASK"):
        triples = [[term_json(t) for t in (q.subject, q.predicate, q.object)]
                   for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
    response = page.page_for(query, prepared.form or "SELECT", answer.body, triples,
                             answer.truncated)
    response.headers[CACHE_HEADER] = "hit" if cached else "miss"
    if answer.truncated:
        response.headers[TRUNCATED_HEADER] = "true"
        response.headers[LIMIT_HEADER] = str(settings.max_results)
    return response
