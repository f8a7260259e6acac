"""Requests refused before routing: dot segments, encoded slashes, backslashes, NUL and
over-long paths (Werkzeug would decode some of them into path separators)."""

from __future__ import annotations

import re

from flask import Response, request

from .http import plain

MAX_PATH_LENGTH = 1024
_HOSTILE = re.compile(r"%2f|%5c|%00|\x00|\\|(^|/)\.\.?(/|$)|%2e%2e|(^|/)%2e|%2e(/|$)", re.I)


def refuse_hostile_paths() -> Response | None:
    """400 for a hostile path, on every route (registered by create_app)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    raw_path = raw.split("?", 1)[0]
    for path in (raw_path, request.path):
        if len(path) > MAX_PATH_LENGTH:
            return plain(400, f"Path longer than {MAX_PATH_LENGTH} characters.")
        if _HOSTILE.search(path):
            return plain(400, "Path not accepted: dot segments, encoded slashes, "
                              "backslashes and NUL are refused.")
    return None
