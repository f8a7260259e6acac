"""`mmkg serve`: load and validate the data once, then serve it with the production server
(gunicorn with gevent workers; web/production.py) or, with `--dev`, Flask's own."""

from __future__ import annotations

import argparse
import sys
from dataclasses import MISSING
from typing import Any

from flask import Flask

from .app import create_app
from .config import Settings, Subcommands, _paths, setting_fields
from .kg.loader import LoadError
from .kg.validate import DataNotValid, load_validated
from .linkeddata.publication import prebuilt
from .web.prebuilt import Replay
from .web.production import run_development, run_gunicorn

DESCRIPTION = (
    "Serve the knowledge graph as linked data: every identifier dereferenceable and "
    "content-negotiated, the SPARQL endpoint, the ontology and the dataset description. The "
    "data is loaded and SHACL-validated at start; data that does not conform is refused with "
    "the validation report. Every option can also be set with the MMKG_* environment "
    "variable named in its help; a flag wins over the environment.")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per declared setting, its help taken from the declaration."""
    for f in setting_fields():
        env = "MMKG_" + f.name.upper()
        default = f.default if f.default is not MISSING else None
        shown = ", ".join(str(v) for v in default) if isinstance(default, tuple) else default
        shown = "-" if shown in ("", None) else shown
        help_text = f"{f.metadata['help']} [env {env}; default: {shown}]"
        help_text = help_text.replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": help_text}
        if isinstance(default, bool):
            kwargs["action"] = "store_true"
        elif f.metadata["convert"] is _paths:  # paths repeat; lists of names are comma-separated
            kwargs.update(action="append", metavar=f.metadata["metavar"] or "VALUE")
        else:
            kwargs.update(type=f.metadata["convert"] or str,
                          metavar=f.metadata["metavar"] or "VALUE")
        parser.add_argument(_flag(f.name), **kwargs)


def add_command(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "serve", help="serve the graph as linked data and SPARQL", description=DESCRIPTION)
    add_settings_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {f.name: getattr(args, f.name, None) for f in setting_fields()}
    return Settings.from_env(**overrides)


def run(args: argparse.Namespace) -> int:
    """Validate, then serve until interrupted. Exit status 1 when the data has violations,
    2 when a file cannot be read or parsed (as `mmkg validate`)."""
    settings = settings_from_args(args)
    try:
        graph = load_validated(settings)
    except LoadError as err:
        print(f"mmkg serve: cannot load the data: {err}", file=sys.stderr)
        return 2
    except DataNotValid as err:
        print("mmkg serve: the data has SHACL violations; refusing to serve it (warnings alone "
              "do not refuse).\n", file=sys.stderr)
        print(err.report, file=sys.stderr)
        return 1
    app = create_app(settings, graph)
    if not settings.no_prebuilt:
        serve_prebuilt(app)
    print(f"mmkg serve: {graph.triple_count()} triples from {len(graph.files)} files, validated; "
          f"serving on http://{settings.host}:{settings.port}/", file=sys.stderr, flush=True)
    if settings.dev:
        run_development(app, settings)
    else:
        run_gunicorn(app, settings)
    return 0


def serve_prebuilt(app: Flask) -> None:
    """Answer every published document and page from the pre-built responses of this data
    version (built first on a cold start), in front of the app (web/prebuilt.py)."""
    app.wsgi_app = Replay(app.wsgi_app, prebuilt(app))  # type: ignore[method-assign]
