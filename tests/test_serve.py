"""`mmkg serve` as a real process on a loopback port: the production server by default
(gunicorn, one web worker per CPU core), Flask's behind --dev, --data, settings from flags and
environment, and invalid data refused with the report."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import fields

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from helpers import DATA, SCRIPT_LABEL
from mmkg.config import Settings
from mmkg.uris import BASE, MM
from realservers import START_TIMEOUT, Server, command, free_port, serving

INVALID = DATA / "ld" / "invalid-invocation.ttl"


def test_help_explains_every_setting():
    result = subprocess.run(command("--help"), capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    for f in fields(Settings):
        assert "--" + f.name.replace("_", "-") in result.stdout
        assert "MMKG_" + f.name.upper() in result.stdout
        assert f.metadata["help"].split()[0] in result.stdout


def check_linked_data(server: Server) -> None:
    """What `curl -L` and a linked-data client see."""
    redirect = server.request("/id/state/pl", {"Accept": "*/*"})
    assert redirect.status == 303
    location = redirect.getheader("Location")
    assert location.endswith("/doc/state/pl")
    path = location.removeprefix(server.url)
    document = server.request(path, {"Accept": "*/*"})
    assert document.status == 200
    assert document.getheader("Content-Type").startswith("text/turtle")
    graph = Graph().parse(data=document.body, format="turtle")
    assert (URIRef(BASE + "id/state/pl"), RDF.type, MM.ParticipatingState) in graph
    page = server.request("/", {"Accept": "text/html"})
    assert page.status == 200 and b"<svg" in page.body


@pytest.mark.slow
def test_flask_server_serves_shipped_data_plus_data_flag(tmp_path):
    # The port and --dev come from the environment, the rest from flags: both are honoured.
    port = free_port()
    with serving(tmp_path, "--host", "127.0.0.1", "--data", str(SCRIPT_LABEL),
                 env={"MMKG_PORT": str(port), "MMKG_DEV": "true"}, port=port) as server:
        assert server.request("/healthz").getheader("Server", "").startswith("Werkzeug")
        check_linked_data(server)
        extra = server.request("/doc/source/test-script-label.ttl")
        assert extra.status == 200, "the --data file is not served"
        # JSON-LD names its context root-relative; rdflib resolves it against the document's
        # URL and fetches it over HTTP from the serving host.
        path = "/doc/invocation/mm-2025-07-ua-pow.jsonld"
        jsonld = server.request(path)
        doc = json.loads(jsonld.body)
        assert doc["@context"] == "/context.jsonld"
        expanded = Graph().parse(data=jsonld.body, format="json-ld", publicID=server.url + path)
        turtle = Graph().parse(
            data=server.request("/doc/invocation/mm-2025-07-ua-pow.ttl").body, format="turtle")
        assert expanded.isomorphic(turtle)
        head = server.request("/doc/state/pl.ttl", method="HEAD")
        assert head.status == 200 and head.body == b""
        assert server.request("/doc/state/..%2f..%2fetc%2fpasswd").status == 400


@pytest.mark.slow
def test_the_production_server_is_the_default(tmp_path):
    """No flag: gunicorn with gevent workers, one per CPU core."""
    cores = len(os.sched_getaffinity(0))
    with serving(tmp_path) as server:
        assert server.request("/healthz").getheader("Server", "").startswith("gunicorn")
        output = server.output_with("Booting worker", cores)
    assert output.count("Booting worker") >= cores, output
    assert "Using worker: Worker" in output  # ours: gevent's, with the 414 and private logs


@pytest.mark.slow
def test_gunicorn_workers_serve_after_one_validation(tmp_path):
    with serving(tmp_path, "--workers", "2") as server:
        check_linked_data(server)
        responses = [server.request("/doc/state/ua.nt") for _ in range(8)]
        assert all(r.status == 200 for r in responses)
        assert responses[0].getheader("Server", "").startswith("gunicorn")
        output = server.output_with("Booting worker", 2)
    assert output.count("Booting worker") >= 2, output
    # Loaded and validated once, before the fork (preload), not once per worker.
    assert output.count("validated; serving") == 1, output


@pytest.mark.slow
def test_invalid_data_is_refused_with_the_report():
    result = subprocess.run(command("--data", str(INVALID), "--port", str(free_port())),
                            capture_output=True, text=True, timeout=START_TIMEOUT)
    assert result.returncode == 1
    assert "the data has SHACL violations; refusing" in result.stderr
    assert "test-unsourced" in result.stderr  # the report names the offending resource


def test_missing_data_path_is_refused():
    result = subprocess.run(command("--data", "/nonexistent/mmkg.ttl"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2  # as `mmkg validate`: the file cannot be read
    assert "no such file" in result.stderr
