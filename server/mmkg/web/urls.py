"""Where the serving host answers for our IRIs: the one mapping from a canonical IRI under
the base to a path on this host (RULINGS: responses keep canonical IRIs, HTML links go to the
serving host). Every path honours the app's script root (a deployment under a sub-path)."""

from __future__ import annotations

from flask import has_request_context, request

from ..uris import MM, ONTOLOGY_IRI


def script_root() -> str:
    """The path the app is mounted at ("" at the host's root)."""
    return request.script_root if has_request_context() else ""


def root_url() -> str:
    """The serving host's root URL, without a trailing slash."""
    return request.host_url.rstrip("/") + request.script_root


def app_root(static: bool, public_url: str) -> str | None:
    """Where pages link for what only the app answers (search, /sparql, /reconcile): this
    app's root; for a static publication the app --public-url names, or None (no such
    links: RULINGS, static hosts)."""
    if not static:
        return script_root()
    return public_url.rstrip("/") if public_url else None


def public_root(public_url: str) -> str:
    """The root URL absolute links use: --public-url when set, else the serving host's."""
    return public_url.rstrip("/") if public_url else root_url()


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
    return served_path(iri, base)
