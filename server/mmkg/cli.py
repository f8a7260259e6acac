"""The `mmkg` command: validate, serve, export, publish."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from . import __version__, serve
    from .kg import validate
    from .linkeddata import static_site
    from .wikidata import exports

    parser = argparse.ArgumentParser(
        prog="mmkg", description="The OSCE Moscow Mechanism knowledge graph.")
    parser.add_argument("--version", action="version", version=f"mmkg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Each command module adds its own sub-parser and sets `func` to run it.
    validate.add_command(commands)
    serve.add_command(commands)
    exports.add_command(commands)
    static_site.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if _production_server(arguments):
        # gevent patches the standard library before the app and its libraries are imported.
        from .web.production import patch_for_gevent

        patch_for_gevent()
    args = build_parser().parse_args(arguments)
    return int(args.func(args) or 0)


def _production_server(arguments: Sequence[str]) -> bool:
    """`mmkg serve` without --dev (checked without importing the rest of the package)."""
    import os

    if not arguments or arguments[0] != "serve" or "-h" in arguments or "--help" in arguments:
        return False
    dev = os.environ.get("MMKG_DEV", "").strip().lower() in {"1", "true", "yes", "on"}
    return "--dev" not in arguments and not dev


if __name__ == "__main__":
    sys.exit(main())
