"""Links with Wikidata: resolve by QID, identifier patterns, reconciliation service, exports.

Views only translate HTTP; the reconciliation logic is in `reconcile`, the exports in `exports`.
Routes: `/wikidata/<QID>`, `/identifiers` (+ `.json`), `/reconcile` (manifest and queries),
`/reconcile/preview`, `/reconcile/suggest/{entity,type,property}`,
`/export/mixnmatch.tsv`, `/export/quickstatements.txt`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from ..kg.store import Backend
from ..uris import KINDS, split_resource_iri
from . import exports
from .reconcile import DEFAULT_TYPES, Reconciler

bp = Blueprint("linking", __name__)

QID = re.compile(r"Q[1-9][0-9]*")
WD = "http://www.wikidata.org/entity/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
JSON_TYPE = "application/json"

# The regular expression of the local id of each kind, as the data uses them (docs/MODEL.md);
# tests check that every identifier in the graph matches its kind's expression.
SLUG = r"[a-z0-9]+(-[a-z0-9]+)*"
INVOCATION_ID = r"(mm|vm)-\d{4}(-\d{2})?-[a-z]+(-[a-z0-9]+)*"
STATE_ID = r"[a-z]{2}|[a-z]+(-[a-z]+)+"
LOCAL_ID_PATTERNS: dict[str, str] = {kind: SLUG for kind in KINDS} | {
    "state": STATE_ID,
    "invocation": INVOCATION_ID,
    "mission": INVOCATION_ID,
    "report": INVOCATION_ID,
    "allegation": rf"{INVOCATION_ID}|seed-\d{{4}}-{SLUG}",
    "meeting": r"pc-\d{4}-\d{2}-\d{2}",
    "participation": rf"({STATE_ID})-osce",
    "confidence": r"confirmed|single-source|uncertain",
}
EXAMPLES: dict[str, str] = {
    "state": "pl", "org": "osce", "mechanism": "moscow", "document": "moscow-document-1991",
    "invocation": "mm-2025-07-ua-pow", "mission": "mm-2025-07-ua-pow",
    "report": "mm-2025-07-ua-pow", "meeting": "pc-2025-09-25", "person": "veronika-bilkova",
    "allegation": "mm-2025-07-ua-pow-torture-ill-treatment",
    "claim": "mm-2025-07-ua-pow-invokers-seed", "source": "gov-pl-2025-07-24",
    "category": "torture-ill-treatment", "group": "prisoners-of-war", "framework": "ihl",
    "confidence": "confirmed", "procedure": "moscow-para-8", "source-type": "mirror",
    "instrument": "gciii", "provision": "gciii-art-13", "scheme": "violation-categories",
    "participation": "pl-osce",
}


LINKING_HTML = """
<h2>Links to Wikidata</h2>
<p>A State or organisation with a sourced Wikidata item links it with
<code>skos:exactMatch</code>, not <code>owl:sameAs</code>. Our State resources describe OSCE
participants with their own sourced statements; <code>owl:sameAs</code> would merge every
statement of the Wikidata item into them, and for three States the sources give two candidate
items. The item the OSCE's participant corresponds to is the exact match (Holy See Q159583,
Kingdom of the Netherlands Q29999, Denmark Q35); the other item is a
<code>skos:closeMatch</code> (Vatican City Q237, Netherlands Q55, Kingdom of Denmark Q756617),
so the distinctions stay. Only QIDs from our sources are used; the mechanisms, ODIHR, the
Permanent Council, the experts and the invocations have none.</p>
<ul>
<li><code>{root}/wikidata/Q36</code> answers 303 to our resource for an item we link by
exact match (<code>/id/state/pl</code>). A close-match item (e.g. Q237) does not redirect,
since our resource is not what it describes: 404 with a <code>Link: rel="related"</code>
header to the resource it is close to. Unknown items are 404, malformed ids 400.</li>
<li><a href="{root}/reconcile">{root}/reconcile</a>: reconciliation service (OpenRefine
reconciliation API 0.2) for State names in many languages, ISO codes, invocation dates.</li>
<li><a href="{root}/export/mixnmatch.tsv">Mix'n'match catalogue</a> and
<a href="{root}/export/quickstatements.txt">QuickStatements</a> (also
<code>mmkg export mixnmatch|quickstatements</code>).</li>
</ul>
"""


@dataclass
class Linking:
    """What the views need, computed once at start."""

    graph: Backend
    base: str
    exact: dict[str, list[str]]  # QID -> our resource IRIs (skos:exactMatch)
    close: dict[str, list[str]]  # QID -> our resource IRIs (skos:closeMatch only)
    reconciler: Reconciler
    ids: dict[str, set[str]]  # kind -> local ids the graph uses
    _exports: dict[str, str] = field(default_factory=dict)

    def export(self, name: str) -> str:
        """An export, built on first use and kept: the served graph never changes."""
        if name not in self._exports:
            build = {"mixnmatch": exports.mixnmatch_tsv, "quickstatements": exports.quickstatements}
            self._exports[name] = build[name](self.graph, self.base)
        return self._exports[name]


def qid_links(graph: Backend, base: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Our resources linked to each Wikidata item, by skos:exactMatch and skos:closeMatch."""
    exact: dict[str, list[str]] = {}
    close: dict[str, list[str]] = {}
    for row in graph.select(f"""
        PREFIX skos: <{SKOS}>
        SELECT DISTINCT ?s ?p ?item WHERE {{
          VALUES ?p {{ skos:exactMatch skos:closeMatch }}
          ?s ?p ?item . FILTER(STRSTARTS(STR(?item), "{WD}"))
        }} ORDER BY ?s"""):
        iri, qid = str(row["s"]), str(row["item"])[len(WD):]
        if split_resource_iri(iri, base) is None or not QID.fullmatch(qid):
            continue  # ontology terms mapped to Wikidata properties are not resources
        target = exact if str(row["p"]) == SKOS + "exactMatch" else close
        target.setdefault(qid, []).append(iri)
    return exact, close


def local_ids(graph: Backend, base: str) -> dict[str, set[str]]:
    """Every identifier of ours used in the graph (as subject or object), by kind."""
    prefix = f"{base}id/"
    found: dict[str, set[str]] = {}
    for row in graph.select(f"""
        SELECT DISTINCT ?r WHERE {{
          {{ ?r ?p ?o }} UNION {{ ?s ?p ?r }}
          FILTER(ISIRI(?r) && STRSTARTS(STR(?r), "{prefix}"))
        }}"""):
        kind, _, local = str(row["r"])[len(prefix):].partition("/")
        found.setdefault(kind, set()).add(local)
    return found


def identifier_table(base: str, ids: Mapping[str, set[str]]) -> list[dict[str, Any]]:
    """Per kind: formatter URL, local-id expression, an example the graph holds, and how many
    of the graph's ids of that kind there are and match the expression."""
    rows = []
    for kind in KINDS:
        held = ids.get(kind, set())
        pattern = re.compile(LOCAL_ID_PATTERNS[kind])
        example = EXAMPLES[kind] if EXAMPLES[kind] in held or not held else min(held)
        rows.append({
            "kind": kind,
            "formatterURL": f"{base}id/{kind}/$1",
            "regex": LOCAL_ID_PATTERNS[kind],
            "example": example,
            "exampleIRI": f"{base}id/{kind}/{example}",
            "identifiers": len(held),
            "matching": sum(1 for i in held if pattern.fullmatch(i)),
        })
    return rows


def combined_pattern() -> str:
    """One expression for an external identifier that covers every kind ("state/pl")."""
    kinds = "|".join(sorted(KINDS, key=lambda k: (-len(k), k)))
    return f"({kinds})/[a-z0-9]+(-[a-z0-9]+)*"


def init_app(app: Flask) -> None:
    """Build the QID table and the reconciliation index once, then register the views."""
    from ..app import current_graph, current_settings

    graph, settings = current_graph(app), current_settings(app)
    exact, close = qid_links(graph, settings.base)
    app.extensions["mmkg_linking"] = Linking(
        graph=graph, base=settings.base, exact=exact, close=close,
        reconciler=Reconciler(graph, settings.base), ids=local_ids(graph, settings.base))
    app.register_blueprint(bp)


def linking() -> Linking:
    return current_app.extensions["mmkg_linking"]


def _root() -> str:
    """The serving host's root URL (HTML and manifest links go to the serving host)."""
    return request.host_url.rstrip("/") + request.script_root


def _local_path(iri: str) -> str:
    """Where the serving host answers for one of our IRIs: `<base>id/state/pl` -> /id/state/pl."""
    return request.script_root + "/" + iri[len(linking().base):]


def _json(data: Any, status: int = 200) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False), status=status,
                        mimetype=JSON_TYPE)
    # OpenRefine calls from its server, but browser-based clients need CORS.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)} · mmkg</title>"
        "<style>body{font:15px/1.5 sans-serif;max-width:70em;margin:1em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;"
        "text-align:left;vertical-align:top}code{font-size:90%}</style></head><body>"
        f"<p><a href=\"{html.escape(_root())}/\">mmkg</a></p><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>\n")


# ---------------------------------------------------------------------------------------------
# Resolve by QID


@bp.route("/wikidata/<path:qid>")
def resolve_qid(qid: str) -> Response:
    """303 to our resource for a QID we hold by skos:exactMatch; 404 otherwise; 400 if malformed.

    A QID we hold only as skos:closeMatch (Vatican City Q237, the Netherlands Q55, Kingdom
    of Denmark Q756617) does not redirect: a redirect would say that our resource is the thing
    that item describes, which is what the close match denies. It answers 404 naming the
    resource it is close to, with a `Link: rel="related"` header.
    """
    if not QID.fullmatch(qid):
        return _plain(400, f"Not a Wikidata item id: {qid!r}. Expected Q followed by digits "
                           "without a leading zero, e.g. /wikidata/Q36.")
    state = linking()
    targets = state.exact.get(qid, [])
    if len(targets) == 1:
        response = Response(status=303)
        response.headers["Location"] = _local_path(targets[0])
        response.headers["Cache-Control"] = "public, max-age=300"
        return response
    if len(targets) > 1:  # never in the shipped data; say so instead of guessing
        links = "".join(f"<li><a href=\"{html.escape(_local_path(t))}\">{html.escape(t)}</a>"
                        for t in targets)
        response = Response(_page(f"{qid}: several resources", f"<ul>{links}</ul>"),
                            status=300, mimetype="text/html")
        return response
    close = state.close.get(qid, [])
    if close:
        names = ", ".join(close)
        response = _plain(404, f"{qid} is not linked to a resource of ours by skos:exactMatch. "
                               f"It is a close match (skos:closeMatch) of: {names}.")
        response.headers["Link"] = ", ".join(
            f"<{_local_path(t)}>; rel=\"related\"" for t in close)
        return response
    return _plain(404, f"No resource of ours is linked to Wikidata item {qid}.")


# ---------------------------------------------------------------------------------------------
# Identifier patterns


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", JSON_TYPE], default="text/html")
    return best == JSON_TYPE


@bp.route("/identifiers")
@bp.route("/identifiers.json", defaults={"as_json": True})
@bp.route("/identifiers.html", defaults={"as_json": False})
def identifiers(as_json: bool | None = None) -> Response:
    """For each kind of resource: formatter URL and local-id regex (a Wikidata external-id
    property proposal needs both)."""
    state = linking()
    rows = identifier_table(state.base, state.ids)
    combined = {"formatterURL": f"{state.base}id/$1", "regex": combined_pattern(),
                "example": "state/pl"}
    if as_json or (as_json is None and _wants_json()):
        response = _json({"base": state.base, "kinds": rows, "allKinds": combined})
    else:
        esc = html.escape
        body_rows = "".join(
            f"<tr><td>{esc(r['kind'])}</td><td><code>{esc(r['formatterURL'])}</code></td>"
            f"<td><code>{esc(r['regex'])}</code></td>"
            f"<td><a href=\"{esc(_local_path(r['exampleIRI']))}\">{esc(r['example'])}</a></td>"
            f"<td>{r['identifiers']}</td></tr>" for r in rows)
        body = (
            "<p>Every resource of this graph has an identifier "
            f"<code>{esc(state.base)}id/{{kind}}/{{local id}}</code>. For a Wikidata external "
            "identifier property: the <em>formatter URL</em> (P1630) replaces <code>$1</code> "
            "with the local id; the <em>format as a regular expression</em> (P1793) is the "
            "expression every local id of that kind matches (checked against the graph: the "
            "last column counts the identifiers of each kind the graph uses).</p>"
            "<table><thead><tr><th>kind</th><th>formatter URL</th><th>local id (regex)</th>"
            "<th>example</th><th>identifiers in the graph</th></tr></thead>"
            f"<tbody>{body_rows}</tbody></table>"
            "<h2>One property for every kind</h2>"
            f"<p>Formatter URL <code>{esc(combined['formatterURL'])}</code>, id "
            f"<code>{esc(combined['regex'])}</code>, e.g. <code>state/pl</code>. The "
            "Mix'n'match catalogue uses these ids.</p>"
            f"<p>Also as <a href=\"{esc(_root())}/identifiers.json\">JSON</a>.</p>"
            + LINKING_HTML.format(root=esc(_root())))
        response = Response(_page("Identifiers", body), mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response


# ---------------------------------------------------------------------------------------------
# Reconciliation service (OpenRefine reconciliation API 0.2)


def manifest() -> dict[str, Any]:
    state = linking()
    root = _root()
    names = {t["id"]: t["name"] for t in state.reconciler.types()}
    return {
        "versions": ["0.2"],
        "name": "OSCE Moscow Mechanism knowledge graph (mmkg)",
        "identifierSpace": f"{state.base}id/",
        "schemaSpace": f"{state.base}ontology#",
        "defaultTypes": [{"id": t, "name": names.get(t, t)} for t in DEFAULT_TYPES
                         if t in names],
        "view": {"url": f"{root}/id/{{{{id}}}}"},
        "preview": {"url": f"{root}/reconcile/preview?id={{{{id}}}}", "width": 400,
                    "height": 120},
        "suggest": {
            kind: {"service_url": root, "service_path": f"/reconcile/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "documentation": f"{root}/identifiers",
    }


@bp.route("/reconcile", methods=["GET", "POST", "OPTIONS"])
def reconcile_endpoint() -> Response:
    """The manifest without `queries`; with `queries` (a JSON object of queries), the answers."""
    if request.method == "OPTIONS":
        response = _json({})
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        return response
    raw = request.values.get("queries")
    if raw is None and request.is_json:
        body = request.get_json(silent=True)
        raw = json.dumps(body.get("queries")) if isinstance(body, dict) and "queries" in body \
            else None
    if raw is None:
        if request.values.get("extend"):
            return _json({"error": "data extension is not offered by this service"}, 400)
        return _json(manifest())
    try:
        queries = json.loads(raw)
    except ValueError as err:
        return _json({"error": f"queries is not valid JSON: {err}"}, 400)
    if not isinstance(queries, dict) or not all(isinstance(q, dict) for q in queries.values()):
        return _json({"error": "queries must be a JSON object of query objects"}, 400)
    return _json(linking().reconciler.reconcile_batch(queries))


@bp.route("/reconcile/preview")
def reconcile_preview() -> Response:
    """A small HTML card for one entity (the manifest's preview service)."""
    entity_id = request.args.get("id", "")
    entity = linking().reconciler.entity_by_id(entity_id)
    if entity is None:
        return _plain(404, f"No entity {entity_id!r}.")
    return Response(linking().reconciler.preview(entity, _local_path(entity.iri)),
                    mimetype="text/html")


def _cursor() -> int:
    try:
        return max(int(request.args.get("cursor", 0)), 0)
    except ValueError:
        return 0


@bp.route("/reconcile/suggest/entity")
def suggest_entity() -> Response:
    reconciler = linking().reconciler
    prefix = request.args.get("prefix", "")
    cursor = _cursor()
    hits = reconciler.suggest_entities(prefix, request.args.get("type") or None,
                                       limit=cursor + 10)
    return _json({"result": hits[cursor:]})


@bp.route("/reconcile/suggest/type")
def suggest_type() -> Response:
    hits = linking().reconciler.suggest_types(request.args.get("prefix", ""))
    cursor = _cursor()
    return _json({"result": hits[cursor:cursor + 20]})


@bp.route("/reconcile/suggest/property")
def suggest_property() -> Response:
    hits = linking().reconciler.suggest_properties(request.args.get("prefix", ""))
    cursor = _cursor()
    return _json({"result": hits[cursor:cursor + 20]})


# ---------------------------------------------------------------------------------------------
# Downloads


# name -> (URL file name, media type, Content-Disposition)
DOWNLOADS = {
    "mixnmatch": ("mixnmatch.tsv", "text/tab-separated-values",
                  "attachment; filename=mmkg-mixnmatch.tsv"),
    "quickstatements": ("quickstatements.txt", "text/plain",
                        "inline; filename=mmkg-quickstatements.txt"),
}


@bp.route("/export/<filename>")
def download(filename: str) -> Response:
    name = next((n for n, (f, *_rest) in DOWNLOADS.items() if f == filename), None)
    if name is None:
        return Response("No such export; exports: "
                        + ", ".join(f"/export/{f}" for f, *_r in DOWNLOADS.values()) + "\n",
                        status=404, mimetype="text/plain")
    _, media, disposition = DOWNLOADS[name]
    response = Response(linking().export(name), mimetype=media)
    response.headers["Content-Disposition"] = disposition
    return response
