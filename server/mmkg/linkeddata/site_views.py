"""The site's own pages for people: the index pages, search (HTML for people, JSON for
scripts), the corrections log and the sitemap for search engines.

Views only translate HTTP: the pages come from indexes.py, the search from search.py.
"""

from __future__ import annotations

from collections import defaultdict
from xml.sax.saxutils import escape

from flask import Blueprint, Response, render_template, request

from ..state import State, get_state
from ..uris import KINDS
from ..web.http import CACHE_CONTROL, json_response, plain
from ..web.urls import page_path
from . import indexes
from .kinds import ORDER, kind_of
from .pages import canonical
from .search import MAX_RESULTS, Hit, QueryProblem
from .views import html_page

bp = Blueprint("site", __name__)
SHOWN_PER_KIND = 25  # the HTML page shows this many hits of each kind, then "and N more"

INDEXES = {
    "invocations": indexes.invocations_page, "reports": indexes.reports_page,
    "experts": indexes.experts_page, "states": indexes.states_page,
    "categories": indexes.categories_page, "sources": indexes.sources_page,
}


@bp.get("/<any(invocations, reports, experts, states, categories, sources):name>")
def index(name: str) -> Response:
    build = INDEXES[name]
    return html_page(f"index-{name}",
                     lambda state: build(state.backend, state.settings.base))


@bp.get("/corrections")
def corrections() -> Response:
    return html_page("corrections", lambda state: indexes.corrections_page(
        state.backend, state.settings.base, state.site, state.settings.report_errors_to))


# --- search --------------------------------------------------------------------------------

def _wants_json() -> bool:
    if request.args.get("format", "").lower() == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"],
                                               default="text/html")
    return best == "application/json"


@bp.get("/search")
def search() -> Response:
    """`/search?q=words`: resources whose names (in any language) or comments hold every
    word, grouped by kind. JSON for scripts (Accept: application/json or format=json)."""
    state = get_state()
    query = request.args.get("q", "")
    as_json = _wants_json()
    try:
        hits = state.site.search.search(query)
    except QueryProblem as err:
        if as_json:
            return json_response({"error": str(err)}, 400)
        return _search_page(state, query, [], str(err), 400)
    if as_json:
        response = json_response({
            "query": query, "count": len(hits), "limit": MAX_RESULTS,
            "results": [{"id": h.iri, "kind": h.kind, "label": h.label,
                         "matched": h.matched or None,
                         "url": page_path(h.iri, state.settings.base)} for h in hits]})
    else:
        response = _search_page(state, query, hits)
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _search_page(state: State, query: str, hits: list[Hit], problem: str = "",
                 status: int = 200) -> Response:
    grouped: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        grouped[hit.kind].append(hit)
    groups = [(kind_of(kind), [(h, page_path(h.iri, state.settings.base))
                               for h in found[:SHOWN_PER_KIND]], len(found))
              for kind, found in sorted(grouped.items(), key=lambda kv: ORDER.get(kv[0], 99))]
    html = render_template(
        "search.html", title=f"Search: {query}" if query else "Search", query=query,
        search_query=query,
        groups=groups, count=len(hits), limit=MAX_RESULTS, problem=problem, formats=(),
        path="/search",
        description="Search the names, other-language names and descriptions of every "
                    "resource of the OSCE Moscow Mechanism knowledge graph.",
        noindex=bool(query))
    return Response(html, status=status, mimetype="text/html")


# --- sitemap -------------------------------------------------------------------------------

@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Every page for people at its canonical address (https://www.sitemaps.org/protocol.html),
    built once: the data does not change while serving."""
    state = get_state()
    body = state.caches.body(("sitemap",), lambda: _sitemap(state))
    response = Response(body, mimetype="application/xml")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _sitemap(state: State) -> str:
    base, root = state.settings.base, state.site.root
    paths = ["/", *(f"/{name}" for name in INDEXES), "/corrections", "/sparql", "/ontology",
             "/.well-known/void", "/identifiers", "/wikidata"]
    prefix = base + "id/"
    rows = state.backend.select(
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o . FILTER(isIRI(?s) && STRSTARTS(STR(?s), "
        f'"{prefix}")) }} ORDER BY ?s')
    for row in rows:
        kind, _, local = str(row["s"])[len(prefix):].partition("/")
        if kind in KINDS:
            paths.append(f"/doc/{kind}/{local}")
    release = state.site.release.issued
    lastmod = f"<lastmod>{escape(release)}</lastmod>" if release else ""
    urls = "".join(f"<url><loc>{escape(canonical(root, p))}</loc>{lastmod}</url>\n"
                   for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls
            + "</urlset>\n")


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers may read every page; the sitemap lists them (queries and search are not
    pages to index)."""
    root = get_state().site.root
    return plain(200, f"User-agent: *\nDisallow: /sparql?\nDisallow: /search?\n"
                      f"Sitemap: {root}sitemap.xml")

