"""Where the serving host answers for our IRIs: the one mapping from a canonical IRI under
the base to a path on this host (RULINGS: responses keep canonical IRIs, HTML links go to the
serving host). Every path honours the app's script root (a deployment under a sub-path).

No body depends on the request's Host header (a client chooses it, and a shared cache would
hand one client's host to everyone): links are root-relative, and where a link must be
absolute it uses `--public-url`, else the address the server listens on."""

from __future__ import annotations

from flask import g, has_request_context, request

from ..config import Settings
from ..linkeddata.kinds import APP_ONLY
from ..uris import MM, ONTOLOGY_IRI

# Addresses that mean "every interface": a link to them would not reach the server.
_ANY_ADDRESS = {"", "0.0.0.0", "::"}


def script_root() -> str:
    """The path the app is mounted at ("" at the host's root)."""
    return request.script_root if has_request_context() else ""


def public_root(settings: Settings) -> str:
    """The absolute root URL of this server, without a trailing slash: `--public-url`, else
    http://HOST:PORT of the listening socket (under the script root)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "127.0.0.1" if settings.host in _ANY_ADDRESS else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}{script_root()}"


def permanent_root(settings: Settings) -> str:
    """Where a page's permanent address starts (rel=canonical, the sitemap): `--public-url`,
    else the canonical base; with a trailing slash. Never the Host header."""
    return settings.public_url.rstrip("/") + "/" if settings.public_url else settings.base


def context_reference(settings: Settings, path: str) -> str:
    """How a JSON-LD document names the context served at `path`: absolute under
    `--public-url` (so a saved copy still expands), else root-relative (RULINGS)."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + path
    return script_root() + path


def app_root(static: bool, public_url: str) -> str | None:
    """Where pages link for what only the app answers (search, /sparql, /reconcile): this
    app's root; for a static publication the app --public-url names, or None (no such
    links: RULINGS, static hosts)."""
    if not static:
        return script_root()
    return public_url.rstrip("/") if public_url else None


def served_path(iri: str, base: str) -> str | None:
    """Where this host serves a canonical IRI: `<base>id/state/pl` → `/id/state/pl`; None for
    an IRI outside the base."""
    if not iri.startswith(base):
        return None
    return script_root() + "/" + iri[len(base):]


def page_path(iri: str, base: str) -> str | None:
    """Where a person reads about an IRI on this host: a resource's document (skipping the
    303), a term's section of the ontology page, or the served path; None for other IRIs."""
    namespace = str(MM)
    if iri.startswith(namespace):
        return script_root() + "/ontology#" + iri[len(namespace):]
    if iri == ONTOLOGY_IRI:
        return script_root() + "/ontology"
    if iri.startswith(base + "id/"):
        return script_root() + "/doc/" + iri[len(base) + 3:]
    path = served_path(iri, base)
    if path is not None and has_request_context() and _needs_the_app(iri[len(base) - 1:]):
        # A static host has no /sparql: link to the app --public-url names, or not at all.
        root = g.get("app_root", script_root())
        return None if root is None else root + iri[len(base) - 1:]
    return path


def _needs_the_app(path: str) -> bool:
    first = "/" + path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
    return first in APP_ONLY
