"""Responses every view builds the same way: plain text, JSON, cacheable data (one ETag per
representation, encoding included; 304 on revalidation; gzip; byte ranges), and the one
place where cross-origin (CORS) headers are set."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from flask import Response, redirect, request
from werkzeug.http import is_resource_modified, parse_accept_header

CACHE_CONTROL = "public, max-age=300"
# Response headers a cross-origin script may read besides the CORS-safelisted ones: the
# validators and links of documents, ranges of dumps, the endpoint's truncation signal.
EXPOSED_HEADERS = ("ETag, Link, Content-Location, Content-Disposition, Content-Range, "
                   "Accept-Ranges, MMKG-Results-Truncated, MMKG-Results-Limit, MMKG-Cache")
PREFLIGHT_HEADERS = "Accept, Content-Type, If-None-Match, If-Modified-Since, Range"
PREFLIGHT_MAX_AGE = "86400"  # browsers cap it lower (Chromium: 2 hours); one preflight per page
_HEADER_LIST = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*")
MAX_REQUESTED_HEADERS = 512  # characters of Access-Control-Request-Headers echoed back

# What a body may be handed over as: its bytes, or how to make them (not called for a 304).
Body = bytes | str | Callable[[], bytes]


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
    """A CORS preflight (OPTIONS with Access-Control-Request-Method) to any route: 204 naming
    the route's methods and allowing the headers asked for (a long Accept, as Comunica sends,
    is not a "simple" header). Everything here is public and read-only, so any origin may ask."""
    rule = request.url_rule
    if request.method != "OPTIONS" or rule is None or \
            "Access-Control-Request-Method" not in request.headers:
        return None
    methods = sorted((rule.methods or set()) - {"HEAD"})
    asked = request.headers.get("Access-Control-Request-Headers", "").strip()
    allowed = asked if len(asked) <= MAX_REQUESTED_HEADERS and _HEADER_LIST.fullmatch(asked) \
        else PREFLIGHT_HEADERS
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Headers"] = allowed
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    response.headers["Vary"] = "Access-Control-Request-Headers"
    del response.headers["Content-Type"]
    return response


def allow_cross_origin(response: Response) -> Response:
    """Any web page may read any response: the service is public, read-only and has no
    credentials to protect."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


# --- conditional GET -------------------------------------------------------------------------

def accepts_gzip() -> bool:
    """Whether the request accepts a gzip-coded body (Werkzeug honours `gzip;q=0` and `*`)."""
    return gzip_accepted(request.headers.get("Accept-Encoding"))


def gzip_accepted(accept_encoding: str | None) -> bool:
    """The same decision from the header itself (the pre-built responses' replay, which
    runs before Flask makes a request)."""
    return parse_accept_header(accept_encoding).quality("gzip") > 0


def cacheable(body: Body, content_type: str, tag: str, modified: datetime, *,
              vary: Sequence[str] = (), headers: Mapping[str, str] | None = None,
              compress: bool = True, gzipped: Callable[[], bytes] | None = None,
              ranges: bool = False) -> Response:
    """A response caches may keep: Cache-Control, ETag, Last-Modified, Vary.

    `tag` names the bytes of the representation before coding (data version and what they
    are); the ETag adds the coding, so the gzip and identity bodies have different validators
    and each revalidates to 304. The coding is chosen from Accept-Encoding alone, never from
    the body, so a 304 is decided without making the body. `gzipped` gives a pre-compressed
    body (else it is compressed here); with `ranges`, a Range request gets 206 (of the coded
    bytes, as RFC 9110 says).
    """
    coded = compress and accepts_gzip()
    etag = f"{tag}-gzip" if coded else tag
    response = Response(status=200)
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers.update(headers or {})
    varies = [*vary, "Accept-Encoding"] if compress else list(vary)
    if varies:
        response.headers["Vary"] = ", ".join(varies)
    if coded:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.last_modified = modified
    if not is_resource_modified(request.environ, etag, last_modified=modified):
        # RFC 9110 15.4.5: the validators and Vary of the 200, no body and no length.
        response.status_code = 304
        for name in ("Content-Type", "Content-Encoding", "Content-Disposition"):
            response.headers.pop(name, None)
        return response
    data = _bytes(body)
    if coded:
        data = gzipped() if gzipped is not None else gzip.compress(data, compresslevel=6,
                                                                    mtime=0)
    response.set_data(data)
    response.make_conditional(request, accept_ranges=ranges,
                              complete_length=len(data) if ranges else None)
    return response


def _bytes(body: Body) -> bytes:
    made = body() if callable(body) else body
    return made.encode("utf-8") if isinstance(made, str) else made
