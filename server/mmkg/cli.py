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
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
