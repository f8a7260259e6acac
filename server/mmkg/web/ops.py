"""Operations: `/healthz` (data version, store reachable), `/metrics` (Prometheus text
format, metrics.py) and the hooks that count and time every request (registered by
create_app)."""

from __future__ import annotations

import time

from flask import Blueprint, Response, g, request

from ..metrics import METRICS, ROOMS
from ..state import get_state
from .http import json_response

bp = Blueprint("ops", __name__)
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@bp.route("/healthz")
def healthz() -> Response:
    """200 with the data version when the store answers a query; 503 when it does not."""
    backend = get_state().backend
    health = {"data_version": backend.version, "data_modified": backend.modified.isoformat()}
    try:
        backend.ask("ASK {}")
    except Exception as err:  # the remote endpoint is down, say: that is what this reports
        response = json_response({"status": "unavailable", **health,
                                  "store": f"unreachable: {type(err).__name__}: {err}"}, 503)
    else:
        response = json_response({"status": "ok", **health, "store": "reachable"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/metrics")
def metrics() -> Response:
    response = Response(METRICS.render(), content_type=PROMETHEUS_TEXT)
    response.headers["Cache-Control"] = "no-store"
    return response


def start_timer() -> None:
    g.mmkg_started = time.perf_counter()


def record(response: Response) -> Response:
    """Count the request by room and status class, and time it."""
    room = request.blueprint if request.blueprint in ROOMS else "other"
    METRICS.inc("mmkg_http_requests_total", room=room or "other",
                status=f"{min(max(response.status_code // 100, 1), 5)}xx")
    started = g.get("mmkg_started")
    if started is not None:
        METRICS.observe("mmkg_http_request_duration_seconds", time.perf_counter() - started,
                        room=room or "other")
    return response
