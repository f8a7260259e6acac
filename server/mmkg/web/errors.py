"""The app-wide error answers: short plain-text messages for routes that do not exist and
methods a route does not take, and the same messages as pages in the site's layout for
browsers (registered by create_app). Clients that do not ask for HTML keep the plain text or
problem details every view sends."""

from __future__ import annotations

import json

from flask import Response, render_template, request

from .http import plain

# The statuses a person may meet, with the page's heading.
HEADINGS = {
    400: "This request cannot be answered",
    404: "Page not found",
    405: "Method not allowed",
    406: "Not available in the format asked for",
    410: "Gone",
    413: "Request too large",
    414: "Address too long",
    415: "Unsupported request format",
    429: "Too many requests",
    500: "Server error",
    502: "The data service did not answer",
    503: "Service unavailable",
}
MESSAGE_TYPES = ("text/plain", "application/problem+json")


def not_found(_: Exception) -> Response:
    return plain(404, f"Nothing at {request.path[:200]}.")


def not_allowed(_: Exception) -> Response:
    return plain(405, "Method not allowed.")


def asks_for_html() -> bool:
    """A browser: text/html named in Accept (not only through */*) and preferred to text."""
    accept = request.accept_mimetypes
    named = any(value == "text/html" and quality > 0 for value, quality in accept)
    return named and accept.best_match(["text/plain", "text/html"]) == "text/html"


def error_pages_for_browsers(response: Response) -> Response:
    """An error message (plain text or problem details) becomes a page in the site's layout,
    with a way home and a search box, when a browser asked; the status and headers stay."""
    if response.status_code not in HEADINGS or response.mimetype not in MESSAGE_TYPES \
            or not asks_for_html():
        return response
    text = response.get_data(as_text=True).strip()
    if response.mimetype == "application/problem+json":
        try:
            problem = json.loads(text)
            text = str(problem.get("detail") or problem.get("title") or text)
        except (ValueError, AttributeError):
            pass
    heading = HEADINGS[response.status_code]
    page = render_template("error.html", title=heading, heading=heading, message=text,
                           status=response.status_code, formats=(), path=request.path,
                           canonical="", noindex=True)
    response.set_data(page)
    response.content_type = "text/html; charset=utf-8"
    response.headers.pop("Content-Encoding", None)
    response.vary.add("Accept")
    return response
