"""`mmkg serve`: load and validate the data once, then serve it (Flask's server or gunicorn)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import MISSING
from typing import Any

from .app import create_app
from .config import Settings, Subcommands, _paths, setting_fields
from .kg.loader import LoadError
from .kg.validate import DataNotValid, load_validated

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
        help_text = f"{f.metadata['help']} [env {env}; default: {shown if shown != '' else '-'}]"
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
    """Validate, then serve until interrupted. Exit status 1 when the data is refused."""
    settings = settings_from_args(args)
    try:
        graph = load_validated(settings)
    except LoadError as err:
        print(f"mmkg serve: cannot load the data: {err}", file=sys.stderr)
        return 1
    except DataNotValid as err:
        print("mmkg serve: the data has SHACL violations; refusing to serve it (warnings alone "
              "do not refuse).\n", file=sys.stderr)
        print(err.report, file=sys.stderr)
        return 1
    app = create_app(settings, graph)
    print(f"mmkg serve: {graph.triple_count()} triples from {len(graph.files)} files, validated; "
          f"serving on http://{settings.host}:{settings.port}/", file=sys.stderr, flush=True)
    if settings.workers > 0:
        run_gunicorn(app, settings)
    else:
        app.run(host=settings.host, port=settings.port, threaded=True, use_reloader=False)
    return 0


def run_gunicorn(app: Any, settings: Settings) -> None:
    """gunicorn with the already-built app: loaded and validated once, before the fork."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def __init__(self) -> None:
            self.options = {
                "bind": f"{settings.host}:{settings.port}",
                "workers": settings.workers,
                "preload_app": True,
                "worker_class": "gthread",
                "threads": 4,
                # A worker must outlive the longest query it is allowed to run.
                "timeout": int(settings.query_timeout) + 30,
                "accesslog": "-",
                "errorlog": "-",
            }
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    Server().run()


def main(argv: list[str] | None = None) -> int:
    """`python -m mmkg.serve` runs the same command without the other subcommands."""
    parser = argparse.ArgumentParser(prog="mmkg serve", description=DESCRIPTION)
    add_settings_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
