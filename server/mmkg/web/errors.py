"""The app-wide error pages: short plain-text answers for routes that do not exist and methods
a route does not take (registered by create_app)."""

from __future__ import annotations

from flask import Response, request

from .http import plain


def not_found(_: Exception) -> Response:
    return plain(404, f"Nothing at {request.path[:200]}.")


def not_allowed(_: Exception) -> Response:
    return plain(405, "Method not allowed.")
