"""Real RDF clients read what the server publishes, over real HTTP (issue 11): Raptor's
`rapper` (Debian raptor2-utils) on documents and dumps in every syntax it reads, and pyld
(PyPI) expanding a JSON-LD document and the JSON-LD dump by URL to the triples the Turtle
says. Each client is the real program, never a re-implementation of it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from rdflib import Graph

from helpers import assert_isomorphic, union_graph
from mmkg.formats import N_QUADS
from realservers import threaded_server

pytestmark = pytest.mark.slow

RAPPER = shutil.which("rapper") or "/usr/bin/rapper"


@pytest.fixture(scope="module")
def served(shipped_app) -> Iterator[str]:
    with threaded_server(shipped_app) as url:
        yield url


def rapper_graph(url: str, syntax: str) -> Graph:
    """The triples rapper reads from a URL (rapper fetches it itself, following 303s),
    written by rapper as N-Triples and read back."""
    if not shutil.which(RAPPER):
        pytest.fail("rapper (Debian raptor2-utils) is required; .ci/run installs it")
    command = [RAPPER, "--quiet", "--input", syntax, "--output", "ntriples", url]
    done = subprocess.run(command, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[:2000]
    return Graph().parse(data=done.stdout.decode(), format="nt")


def turtle_of(url: str) -> Graph:
    import requests

    response = requests.get(url, headers={"Accept": "text/turtle"}, timeout=60)
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


@pytest.mark.parametrize("syntax", ["turtle", "ntriples", "rdfxml", "nquads", "trig"])
@pytest.mark.parametrize("path", ["/doc/state/pl", "/doc/invocation/mm-2025-07-ua-pow",
                                  "/ontology", "/.well-known/void", "/graph/states"])
def test_rapper_reads_every_document_by_url(served, path, syntax):
    """rapper asks for its parser's media type and follows the server's answer."""
    expected = turtle_of(served + path)
    assert_isomorphic(expected, rapper_graph(served + path, syntax), f"rapper {syntax} {path}")


def test_rapper_follows_the_303_from_an_identifier(served):
    expected = turtle_of(served + "/doc/state/ua")
    assert_isomorphic(expected, rapper_graph(served + "/id/state/ua", "turtle"),
                      "rapper on /id/state/ua")


@pytest.mark.parametrize(("name", "syntax"), [("mmkg.ttl", "turtle"), ("mmkg.nt", "ntriples"),
                                              ("mmkg.nq", "nquads"), ("mmkg.trig", "trig")])
def test_rapper_reads_every_dump_by_url(served, name, syntax):
    """Issue 11, item 3: /dump/mmkg.nt is N-Triples a client reads by URL."""
    expected = turtle_of(served + "/dump/mmkg.ttl")
    assert_isomorphic(expected, rapper_graph(f"{served}/dump/{name}", syntax),
                      f"rapper on /dump/{name}")


def pyld_triples(url: str) -> Graph:
    """pyld fetches the URL with its own document loader (requests), resolves the context the
    document names against the document's URL, expands and converts it to N-Quads."""
    from pyld import jsonld

    nquads = jsonld.to_rdf(url, {"format": "application/n-quads"})
    return union_graph(nquads.encode(), N_QUADS)


def test_pyld_expands_a_document_to_the_turtle_triples(served):
    """Issue 11, item 7: the document names /context.jsonld root-relative; pyld resolves it
    against the document's URL, wherever the document was fetched."""
    path = "/doc/invocation/mm-2025-07-ua-pow"
    assert_isomorphic(turtle_of(served + path), pyld_triples(served + path + ".jsonld"),
                      "pyld on a JSON-LD document")


def test_pyld_expands_the_dump_without_the_server(served, tmp_path):
    """The dump carries its context inline: saved to a file, it expands with no server."""
    import requests

    saved = tmp_path / "mmkg.jsonld"
    saved.write_bytes(requests.get(served + "/dump/mmkg.jsonld", timeout=120).content)
    expected = turtle_of(served + "/dump/mmkg.ttl")
    assert_isomorphic(expected, pyld_triples(served + "/dump/mmkg.jsonld"), "pyld on the dump")
    from pyld import jsonld

    offline = jsonld.to_rdf(saved.as_uri(), {"format": "application/n-quads",
                                             "documentLoader": _file_loader})
    assert_isomorphic(expected, union_graph(offline.encode(), N_QUADS),
                      "pyld on the saved dump, offline")


def _file_loader(url: str, options: dict | None = None) -> dict:
    """A loader that reads local files only: any request for a remote context fails."""
    from pathlib import Path
    from urllib.parse import urlparse

    if not url.startswith("file://"):
        raise RuntimeError(f"offline: would have fetched {url}")
    import json

    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": json.loads(Path(urlparse(url).path).read_text(encoding="utf-8"))}
