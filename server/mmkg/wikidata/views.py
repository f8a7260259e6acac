"""The Wikidata views: resolve by QID, identifier patterns, the reconciliation service
(OpenRefine reconciliation API 0.2) and the export downloads.

Views only translate HTTP: the index is built once (identifiers.py), the reconciliation
logic is in reconcile.py, the exports in exports.py.
Routes: `/wikidata/<QID>`, `/identifiers` (+ `.json`), `/reconcile` (manifest and queries),
`/reconcile/preview`, `/reconcile/suggest/{entity,type,property}`,
`/export/mixnmatch.tsv`, `/export/quickstatements.txt`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request
from rdflib import Graph, URIRef
from werkzeug.exceptions import RequestEntityTooLarge

from ..linkeddata.labels import Labels
from ..state import State, get_state
from ..web.errors import asks_for_html
from ..web.http import json_response, plain, see_other
from ..web.urls import page_path, public_root, script_root, served_path
from .extend import ExtensionError
from .identifiers import QID, combined_pattern, identifier_table
from .reconcile import (
    DEFAULT_TYPES,
    MAX_BODY_BYTES,
    MAX_QUERIES,
    Entity,
    Reconciler,
    Refused,
    checked_batch,
    limits,
    parse_json,
)

bp = Blueprint("wikidata", __name__)
JSON_TYPE = "application/json"

def _local_path(state: State, iri: str) -> str:
    """Where the serving host answers for one of our IRIs: `<base>id/state/pl` -> /id/state/pl."""
    return served_path(iri, state.settings.base) or iri


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
        return plain(400, f"Not a Wikidata item id: {qid!r}. Expected Q followed by digits "
                           "without a leading zero, e.g. /wikidata/Q36.")
    state = get_state()
    targets = state.wikidata.exact.get(qid, [])
    if len(targets) == 1:
        response = Response(status=303)
        response.headers["Location"] = _local_path(state, targets[0])
        response.headers["Cache-Control"] = "public, max-age=300"
        return response
    if len(targets) > 1:  # never in the shipped data; say so instead of guessing
        page = render_template("several.html", title=f"{qid}: several resources", formats=(),
                               targets=[(_local_path(state, t), t) for t in targets])
        return Response(page, status=300, mimetype="text/html")
    close = state.wikidata.close.get(qid, [])
    if close and asks_for_html():
        return _close_match_page(state, qid, close)
    if close:
        names = ", ".join(close)
        response = plain(404, f"{qid} is not linked to a resource of ours by skos:exactMatch. "
                               f"It is a close match (skos:closeMatch) of: {names}.")
        response.headers["Link"] = ", ".join(
            f"<{_local_path(state, t)}>; rel=\"related\"" for t in close)
        return response
    return plain(404, f"No resource of ours is linked to Wikidata item {qid}.")


def _close_match_page(state: State, qid: str, close: list[str]) -> Response:
    """For people: the item is close to a resource of ours but not the same; link to it."""
    labels = Labels(Graph(), state.backend, extra=[URIRef(t) for t in close])
    page = render_template(
        "close_match.html", title=f"{qid} is a close match", qid=qid, formats=(),
        path=f"/wikidata/{qid}", noindex=True,
        targets=[(_local_path(state, t), labels(URIRef(t))) for t in close])
    response = Response(page, status=404, mimetype="text/html")
    response.headers["Link"] = ", ".join(
        f"<{_local_path(state, t)}>; rel=\"related\"" for t in close)
    response.headers["Vary"] = "Accept"
    return response


# ---------------------------------------------------------------------------------------------
# The Wikidata tools, for people


@bp.route("/wikidata")
def tools() -> Response:
    """What a Wikidata editor can use here, on one page; `?qid=Q36` goes to the resolver."""
    qid = request.args.get("qid", "").strip().upper()
    if qid:
        return see_other(f"{script_root()}/wikidata/{quote(qid, safe='')}")
    state = get_state()
    page = render_template(
        "wikidata.html", title="Wikidata tools", formats=(), path="/wikidata",
        root=public_root(state.settings), base=state.settings.base,
        linked=sum(len(v) for v in state.wikidata.exact.values()),
        close=sum(len(v) for v in state.wikidata.close.values()),
        description="Identifiers, the QID resolver, the reconciliation service for "
                    "OpenRefine and the Mix'n'match and QuickStatements exports.")
    return Response(page, mimetype="text/html")


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
    state = get_state()
    rows = identifier_table(state.settings.base, state.wikidata.ids)
    combined = {"formatterURL": f"{state.settings.base}id/$1", "regex": combined_pattern(),
                "example": "state/pl"}
    if as_json or (as_json is None and _wants_json()):
        response = json_response({"base": state.settings.base, "kinds": rows,
                                  "allKinds": combined})
    else:
        for row in rows:
            row["href"] = _local_path(state, row["exampleIRI"])
        response = Response(render_template(
            "identifiers.html", title="Identifiers", formats=(), base=state.settings.base,
            rows=rows, combined=combined, root=public_root(state.settings), path="/identifiers",
            description="The identifier of every kind of resource, its formatter URL and "
                        "pattern, for a Wikidata external-identifier property."),
            mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response


# ---------------------------------------------------------------------------------------------
# Reconciliation service (OpenRefine reconciliation API 0.2)


def manifest() -> dict[str, Any]:
    """The service manifest. Its URLs are absolute (OpenRefine calls them from elsewhere), so
    they use the public URL setting, never the request's Host header."""
    state = get_state()
    root = public_root(state.settings)
    names = {t["id"]: t["name"] for t in state.wikidata.reconciler.types()}
    return {
        "versions": ["0.2"],
        "name": "OSCE Moscow Mechanism knowledge graph (mmkg)",
        "identifierSpace": f"{state.settings.base}id/",
        "schemaSpace": f"{state.settings.base}ontology#",
        "defaultTypes": [{"id": t, "name": names.get(t, t)} for t in DEFAULT_TYPES
                         if t in names],
        # The id goes in a query parameter: clients percent-encode it (0.2 spec, section
        # 3.1), and an encoded slash in a path is refused (web/hardening.py).
        "view": {"url": f"{root}/reconcile/view?id={{{{id}}}}"},
        "preview": {"url": f"{root}/reconcile/preview?id={{{{id}}}}", "width": 400,
                    "height": 120},
        "suggest": {
            kind: {"service_url": root, "service_path": f"/reconcile/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {"service_url": root,
                                   "service_path": "/reconcile/properties"},
        },
        "documentation": f"{root}/identifiers",
        # Not part of the 0.2 manifest (which allows other members): what a request may ask.
        "limits": limits(),
    }


@bp.route("/reconcile", methods=["GET", "POST"])
def reconcile_endpoint() -> Response:
    """The manifest without parameters; with `queries` (a JSON object of queries), their
    answers; with `extend` (a data extension query), the values asked for. Either comes as a
    form field (OpenRefine's POST), a GET parameter or a JSON body. Bodies past the limit are
    refused (413) before they are read."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return json_response({"error": f"request body over {MAX_BODY_BYTES} bytes; send "
                                       f"batches of at most {MAX_QUERIES} queries"}, 413)
    request.max_content_length = MAX_BODY_BYTES  # a body without a length is cut there too
    try:
        return _reconcile()
    except RequestEntityTooLarge:
        return json_response({"error": f"request body over {MAX_BODY_BYTES} bytes"}, 413)
    except Refused as err:
        return json_response({"error": str(err)}, err.status)


def _reconcile() -> Response:
    body = (parse_json(request.get_data(as_text=True), "the JSON body") if request.is_json
            else None)
    body = body if isinstance(body, dict) else {}
    raw = request.values.get("queries")
    if raw is None and "queries" in body:
        raw = json.dumps(body["queries"])
    extend = request.values.get("extend")
    if extend is None and "extend" in body:
        extend = json.dumps(body["extend"])
    if extend is not None and raw is None:
        return _extend(extend)
    if raw is None:
        if asks_for_html():  # a person following the link: how to use it, not JSON
            response = Response(render_template(
                "reconcile.html", title="Reconciliation service", formats=(),
                path="/reconcile", root=public_root(get_state().settings),
                manifest=manifest(), noindex=False,
                description="Match a column of State names or invocation dates to this "
                            "dataset in OpenRefine."), mimetype="text/html")
        else:
            response = json_response(manifest())
        response.headers["Vary"] = "Accept"
        return response
    queries = checked_batch(parse_json(raw, "queries"))
    return json_response(get_state().wikidata.reconciler.reconcile_batch(queries))


def _extend(raw: str) -> Response:
    query = parse_json(raw, "extend")
    try:
        return json_response(get_state().wikidata.extender.extend(query))
    except ExtensionError as err:
        return json_response({"error": str(err)}, err.status)


@bp.route("/reconcile/properties")
def propose_properties() -> Response:
    """Data extension property proposals for a type (`?type=State&limit=5`)."""
    try:
        limit = int(request.args["limit"]) if "limit" in request.args else None
    except ValueError:
        return json_response({"error": "limit must be an integer"}, 400)
    return json_response(get_state().wikidata.extender.propose(
        request.args.get("type") or None, limit))


@bp.route("/reconcile/view")
def reconcile_view() -> Response:
    """The manifest's view template: 303 to the entity's page, the id given plain
    ("state/pl") or percent-encoded ("state%2Fpl")."""
    state = get_state()
    entity_id = request.args.get("id", "")
    entity = state.wikidata.reconciler.entity_by_id(entity_id)
    if entity is None:
        return plain(404, f"No entity {entity_id[:200]!r}.")
    response = Response(status=303)
    response.headers["Location"] = page_path(entity.iri, state.settings.base) or entity.iri
    return response


@bp.route("/reconcile/preview")
def reconcile_preview() -> Response:
    """A small HTML card for one entity (the manifest's preview service)."""
    entity_id = request.args.get("id", "")
    state = get_state()
    entity = state.wikidata.reconciler.entity_by_id(entity_id)
    if entity is None:
        return plain(404, f"No entity {entity_id!r}.")
    card = preview_card(state.wikidata.reconciler, entity, _local_path(state, entity.iri))
    return Response(card, mimetype="text/html")


def preview_card(reconciler: Reconciler, entity: Entity, link: str) -> str:
    """The card: the entity's name linking to our page, its types, IRI and key values."""
    return render_template(
        "reconcile_preview.html", title=entity.name, formats=(), entity=entity, link=link,
        types=[t["name"] for t in reconciler.type_refs(entity)],
        rows=reconciler.preview_rows(entity))


def _cursor() -> int:
    try:
        return max(int(request.args.get("cursor", 0)), 0)
    except ValueError:
        return 0


@bp.route("/reconcile/suggest/entity")
def suggest_entity() -> Response:
    reconciler = get_state().wikidata.reconciler
    prefix = request.args.get("prefix", "")
    cursor = _cursor()
    hits = reconciler.suggest_entities(prefix, request.args.get("type") or None,
                                       limit=cursor + 10)
    return json_response({"result": hits[cursor:]})


@bp.route("/reconcile/suggest/type")
def suggest_type() -> Response:
    hits = get_state().wikidata.reconciler.suggest_types(request.args.get("prefix", ""))
    cursor = _cursor()
    return json_response({"result": hits[cursor:cursor + 20]})


@bp.route("/reconcile/suggest/property")
def suggest_property() -> Response:
    hits = get_state().wikidata.reconciler.suggest_properties(request.args.get("prefix", ""))
    cursor = _cursor()
    return json_response({"result": hits[cursor:cursor + 20]})


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
    state = get_state()
    response = Response(state.wikidata.export(name, state.backend, state.settings.base),
                        mimetype=media)
    response.headers["Content-Disposition"] = disposition
    return response
