"""Responses every view builds the same way: plain text, JSON, cacheable data (ETag,
Last-Modified, gzip, 304), and the one place where cross-origin (CORS) headers are set."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from flask import Response, redirect, request

CACHE_CONTROL = "public, max-age=300"
GZIP_MIN_BYTES = 1400  # below one packet compression buys nothing
# Response headers a cross-origin script may read (the SPARQL endpoint's truncation signal).
EXPOSED_HEADERS = "MMKG-Results-Truncated, MMKG-Results-Limit"
PREFLIGHT_HEADERS = "Content-Type, Accept"


def plain(status: int, text: str, **headers: str) -> Response:
    """A short text/plain answer (errors, refusals), one line per message."""
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers)
    return response


def see_other(location: str) -> Response:
    """303 See Other to `location` (a path on this host)."""
    # Flask's redirect builds the app's response class (typed as Werkzeug's base class).
    return cast(Response, redirect(location, code=303))


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON answer (application/json), non-ASCII kept as written."""
    return Response(json.dumps(data, ensure_ascii=False), status=status,
                    mimetype="application/json")


# --- CORS: registered once, by create_app -----------------------------------------------------

def answer_preflight() -> Response | None:
    """A CORS preflight (OPTIONS with Access-Control-Request-Method) to a route: 204 naming the
    route's methods. Everything here is public and read-only, so any origin may ask."""
    rule = request.url_rule
    if request.method != "OPTIONS" or rule is None or \
            "Access-Control-Request-Method" not in request.headers:
        return None
    methods = sorted((rule.methods or set()) - {"HEAD"})
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Headers"] = PREFLIGHT_HEADERS
    return response


def allow_cross_origin(response: Response) -> Response:
    """Any web page may read any response: the service is public, read-only and has no
    credentials to protect."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


# --- conditional GET -------------------------------------------------------------------------

def not_modified(etag: str, modified: datetime) -> bool:
    """A conditional GET the client already has the answer to (a gzipped body's ETag, which
    carries a "-gzip" suffix, counts as the same representation)."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag) or \
            request.if_none_match.contains_weak(etag + "-gzip")
    since = request.if_modified_since
    return since is not None and modified <= since


def cacheable(body: bytes | str, content_type: str, etag: str, modified: datetime, *,
              vary: Sequence[str] = (), headers: Mapping[str, str] | None = None,
              status: int = 200, compress: bool = True) -> Response:
    """A response caches may keep: Cache-Control, ETag, Last-Modified; gzipped when the client
    accepts it and the body is worth it; 304 when the request's validators match."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(status=status)
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers.update(headers or {})
    varies = list(vary)
    if compress and len(data) >= GZIP_MIN_BYTES:
        varies.append("Accept-Encoding")
        # Werkzeug's Accept matches a value (with wildcards) against the client's list.
        if "gzip" in request.accept_encodings:  # type: ignore[comparison-overlap]
            data = gzip.compress(data, compresslevel=6, mtime=0)
            response.headers["Content-Encoding"] = "gzip"
            etag += "-gzip"
    if varies:
        response.headers["Vary"] = ", ".join(varies)
    response.set_data(data)
    response.set_etag(etag)
    response.last_modified = modified
    # make_conditional returns the response itself (typed as Werkzeug's base class).
    return cast(Response, response.make_conditional(request))
