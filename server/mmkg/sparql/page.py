"""The query page: the YASGUI editor (vendored in static/vendor/yasgui/) configured for this
endpoint only, and the plain form under it that works without JavaScript (sent by POST, its
results paged on the server, downloads named by the endpoint). A Content-Security-Policy
keeps the page to this host: no prefix.cc, no other endpoint, no CDN."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import Response, render_template, request
from markupsafe import Markup

from .. import formats as fmt
from ..config import Settings
from ..kg.competency import questions
from ..state import get_state
from ..uris import PREFIXES
from ..web.urls import script_root, served_path

PAGE_ROWS = 100  # rows of a result the page without JavaScript shows at once
# The query page may load and call only this host (RULINGS: YASGUI talks to no other host).
# YASGUI sets styles from script and ships its icons as data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


@dataclass(frozen=True)
class Example:
    """A competency question offered on the query page."""

    name: str
    title: str
    query: str
    description: str = ""


def examples() -> list[Example]:
    """The shipped competency questions (server/mmkg/queries/*.rq), in file-name order."""
    return [Example(q.name, q.title, q.sparql, q.description) for q in questions()]


def default_query() -> str:
    found = examples()
    return found[0].query if found else "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10"


def _same_text(a: str, b: str) -> bool:
    """A browser sends a textarea with CRLF line ends: compare the queries as text."""
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


@dataclass
class Table:
    """One page of a result for the page without JavaScript."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[dict[str, str | None]]] = field(default_factory=list)
    total: int = 0
    page: int = 1
    boolean: bool | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_ROWS))

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_ROWS + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * PAGE_ROWS, self.total)


def requested_page() -> int:
    try:
        return max(1, int(request.values.get("page", "1")))
    except ValueError:
        return 1


def paged(columns: list[str], rows: list[list[dict[str, str | None]]], page: int) -> Table:
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(page, pages)
    start = (page - 1) * PAGE_ROWS
    return Table(columns, rows[start:start + PAGE_ROWS], len(rows), page)


def cell(binding: dict[str, str] | None, settings: Settings) -> dict[str, str | None]:
    """One table cell; our canonical IRIs link to the serving host's pages."""
    if binding is None:
        return {"text": "", "href": None, "note": None}
    value, kind = binding["value"], binding["type"]
    if kind == "uri":
        href: str | None = served_path(value, settings.base) or value
        if href is not None and not href.startswith(("http://", "https://", "/")):
            href = None  # never link javascript: or other schemes
        return {"text": value, "href": href, "note": None}
    if kind == "bnode":
        return {"text": "_:" + value, "href": None, "note": None}
    note: str | None = "@" + binding["xml:lang"] if "xml:lang" in binding else None
    if "datatype" in binding:
        note = binding["datatype"].replace("http://www.w3.org/2001/XMLSchema#", "xsd:")
    return {"text": value, "href": None, "note": note}


def _editor_config(query: str) -> Markup:
    """What query.js gives YASGUI: this endpoint, our prefixes and terms for completion, the
    examples; as JSON in a script element the browser does not run."""
    state = get_state()
    stats = state.dataset.stats
    config = {
        "endpoint": f"{script_root()}/sparql",
        "base": state.settings.base,
        "root": script_root(),
        "prefixes": PREFIXES,
        "classes": [str(c) for c, _ in stats.classes],
        "properties": [str(p) for p, _ in stats.properties],
        "examples": [{"name": e.name, "title": e.title, "description": e.description,
                      "query": e.query} for e in examples()],
        "query": query,
        "maxResults": state.settings.max_results,
        # (format key, words) of the downloads: results formats (the endpoint answers a
        # CONSTRUCT asked for "json" or "xml" with JSON-LD or RDF/XML).
        "downloads": [(f.key, f.label) for f in fmt.RESULTS_FORMATS],
    }
    text = json.dumps(config, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def render(query: str, *, form: str = "SELECT", table: Table | None = None,
           truncated: bool = False, error: str | None = None, status: int = 200) -> Response:
    """The query page, with a result (or an error) under the editor when there is one."""
    settings = get_state().settings
    offered = fmt.RESULTS_FORMATS if form in ("SELECT", "ASK") else fmt.RDF_FORMATS
    chosen = next((e for e in examples() if _same_text(e.query, query)), None)
    html = render_template(
        "query.html", title="SPARQL query", formats=(), query=query, examples=examples(),
        example=chosen, table=table, truncated=truncated, error=error, settings=settings,
        downloads=[(f.label, f.key) for f in offered] if table is not None else [],
        config=_editor_config(query), path="/sparql", noindex=bool(table or error),
        description="Ask the OSCE Moscow Mechanism knowledge graph in SPARQL: an editor with "
                    "examples, prefix completion, paged and sortable results, downloads.")
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def example_text(name: str) -> str:
    return next((e.query for e in examples() if e.name == name), "")


def page_for(query: str, form: str, body: bytes, triples: list[list[dict[str, str]]] | None,
             truncated: bool) -> Response:
    """The page with one page of an answer: SELECT rows, an ASK answer or graph triples."""
    settings = get_state().settings
    if form == "ASK":
        table = Table(boolean=bool(json.loads(body)["boolean"]), total=1)
    elif form == "SELECT":
        data: dict[str, Any] = json.loads(body)
        columns = data["head"]["vars"]
        rows = [[cell(b.get(v), settings) for v in columns] for b in data["results"]["bindings"]]
        table = paged(columns, rows, requested_page())
    else:
        rows = [[cell(t, settings) for t in triple] for triple in triples or []]
        table = paged(["subject", "predicate", "object"], rows, requested_page())
    return render(query, form=form, table=table, truncated=truncated)
