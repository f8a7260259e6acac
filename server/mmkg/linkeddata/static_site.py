"""`mmkg publish DIR`: every published document in every format, the dumps, the VoID, the
ontology and the pages, written to a folder that any static host or CDN serves without
Python, with an nginx configuration and an Apache `.htaccess` that do the 303s and the content
negotiation.

The files are the app's own answers (recorded as for the pre-built responses), so a static
host serves the same bytes as the app. nginx and Apache cannot weigh q-values: they choose
the format from the exact Accept headers of the common clients declared in
`formats.COMMON_ACCEPT` (chosen here by the app's own negotiation, so they agree with it), and
for any other header from the first media type it names (Turtle when none is known).
Search, /sparql and /reconcile need the app: pages link to them only when --public-url names
one (RULINGS: static hosts).
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import sys
from collections import Counter
from importlib import resources
from pathlib import Path

from flask import Flask

from ..config import Subcommands
from ..formats import COMMON_ACCEPT, DOCUMENT_FORMATS, TURTLE, Format, negotiate
from ..state import get_state
from ..web.http import EXPOSED_HEADERS, PREFLIGHT_HEADERS, PREFLIGHT_MAX_AGE
from ..web.prebuilt import Recorded
from .publication import record_all

PREFLIGHT_METHODS = ("GET", "OPTIONS")  # what every published path answers (web/http.py)
CONFIG_DIR = ".config"  # inside the folder, never served (both configurations refuse it)
NEGOTIATED = (r"doc/[a-z][a-z-]*/[a-z0-9][a-z0-9-]*|graph/[A-Za-z0-9][A-Za-z0-9_-]*"
              r"|ontology|\.well-known/void")
IDENTIFIER = r"id/([a-z][a-z-]*)/([a-z0-9][a-z0-9-]*)"


class FolderSink:
    """Writes each recorded answer that is a file (a 200 for one representation) under the
    folder, with its gzip beside it (`.gz`, what nginx's gzip_static serves) when the app
    compresses it; remembers each file's Content-Type for the server configurations."""

    def __init__(self, root: Path, redirects: dict[str, str] | None = None) -> None:
        self.root = root.resolve()
        self.types: dict[str, str] = {}  # path -> Content-Type
        # Identifiers renamed in a release, old path -> new path under the base ("id/...",
        # "graph/..."): answered 301 as the app answers them (graph/redirects.csv).
        self.redirects = dict(redirects or {})
        self.jsonld_link = ""

    def add(self, path: str, offered: tuple[Format, ...], variant: str,
            recorded: Recorded) -> None:
        if offered or not recorded.status.startswith("200"):
            return  # negotiated URLs and redirects are the web server's rules
        target = (self.root / ("index.html" if path == "/" else path.lstrip("/"))).resolve()
        if not target.is_relative_to(self.root):
            raise ValueError(f"refusing to write outside {self.root}: {path!r}")
        headers = dict(recorded.headers)
        target.parent.mkdir(parents=True, exist_ok=True)
        if variant.endswith(":gzip"):
            if headers.get("Content-Encoding") == "gzip":
                target.with_name(target.name + ".gz").write_bytes(recorded.body)
            return
        target.write_bytes(recorded.body)
        self.types[path] = headers["Content-Type"]
        if "Link" in headers and path.endswith(".jsonld"):
            self.jsonld_link = headers["Link"]  # the canonical context, the same on each


def accept_table() -> list[tuple[str, Format]]:
    """(Accept header, the format the app answers it with) for every declared common client
    and every offered media type, no header first."""
    headers = ["", *COMMON_ACCEPT.values()]
    headers += [media for f in DOCUMENT_FORMATS for media in (f.media_type, *f.aliases)]
    table: list[tuple[str, Format]] = []
    for header in dict.fromkeys(headers):
        chosen = negotiate(header or None, DOCUMENT_FORMATS)
        if chosen is not None:
            table.append((header, chosen))
    return table


def _first_type_rules() -> list[tuple[str, Format]]:
    """For other headers: the first media type named (a regular expression each)."""
    return [(f"^ *{media.replace('+', '[+]').replace('.', '[.]')} *(;|,|$)", f)
            for f in DOCUMENT_FORMATS for media in (f.media_type, *f.aliases)]


def _bucket_size() -> int:
    """A power of two that holds the longest exact Accept header of the map."""
    longest = max(len(header) for header, _ in accept_table())
    size = 64
    while size < longest + 32:
        size *= 2
    return size


def _single_quoted(text: str) -> str:
    """An nginx string in single quotes (for values that hold double quotes)."""
    if "'" in text or "\\" in text:
        raise ValueError(f"cannot quote {text!r}")
    return f"'{text}'"


def _quoted(text: str) -> str:
    if '"' in text or "\\" in text:
        raise ValueError(f"cannot quote {text!r}")
    return f'"{text}"'


def _types(sink: FolderSink) -> tuple[dict[str, str], list[str]]:
    """The usual Content-Type of each file extension, and the files that differ from it."""
    by_extension: dict[str, Counter[str]] = {}
    for path, content_type in sink.types.items():
        extension = Path(path if path != "/" else "index.html").suffix.lstrip(".")
        by_extension.setdefault(extension, Counter())[content_type] += 1
    usual = {ext: counts.most_common(1)[0][0] for ext, counts in by_extension.items()}
    odd = sorted(p for p, t in sink.types.items()
                 if t != usual[Path(p if p != "/" else "index.html").suffix.lstrip(".")])
    return usual, odd


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip()


def _moves(sink: FolderSink) -> list[tuple[str, str, bool]]:
    """(old path regex, new path, whether a format extension follows) per renamed identifier:
    `/id/old` itself, and `/doc/old` or `/graph/old` with or without an extension, as the
    app's redirects (linkeddata/site.py)."""
    moves: list[tuple[str, str, bool]] = []
    for old, new in sorted(sink.redirects.items()):
        if not re.fullmatch(r"(id|graph)/[A-Za-z0-9/_-]+", old) \
                or not re.fullmatch(r"(id|graph)/[A-Za-z0-9/_-]+", new):
            continue  # nothing else is renamed; never write what the rules cannot quote
        if old.startswith("id/"):
            moves.append((old, new, False))
            if new.startswith("id/"):
                moves.append(("doc/" + old[3:], "doc/" + new[3:], True))
        else:
            moves.append((old, new, True))
    return moves


# The headers every answer carries (nginx repeats them in any location with its own).
_CROSS_ORIGIN = (
    "    add_header Access-Control-Allow-Origin * always;",
    f"    add_header Access-Control-Expose-Headers {_quoted(EXPOSED_HEADERS)} always;",
    "    add_header Access-Control-Allow-Methods $mmkg_allow_methods always;",
    "    add_header Access-Control-Allow-Headers $mmkg_allow_headers always;",
    "    add_header Access-Control-Max-Age $mmkg_max_age always;",
    "    add_header Vary $mmkg_preflight_vary always;",
    "    add_header Link $mmkg_jsonld_link always;",
)


def nginx_conf(sink: FolderSink, listen: str) -> str:
    """A complete server block (with its maps) to include inside `http { }`."""
    usual, odd = _types(sink)
    lines = ["# mmkg static publication: include this file inside http { }.",
             "# Written by `mmkg publish`; nginx cannot weigh q-values, so the format of a",
             "# negotiated URL comes from the exact Accept header of a common client, else",
             "# from the first media type the header names, else Turtle (as for */*).",
             "# The browsers' and Comunica's headers are long: the map's buckets must hold them",
             "# (remove this line if your http { } sets a larger map_hash_bucket_size).",
             f"map_hash_bucket_size {_bucket_size()};",
             "map $http_accept $mmkg_ext {", "    default ttl;"]
    lines += [f"    {_quoted(header)} {fmt.extension};" for header, fmt in accept_table()]
    lines += [f"    {_quoted('~*' + rule)} {fmt.extension};" for rule, fmt in _first_type_rules()]
    lines += ["}", "",
              "# CORS preflights are answered as the app answers them (web/http.py): any origin,",
              "# GET, the headers asked for when they are a plain list of names.",
              'map "$request_method:$http_access_control_request_method" $mmkg_preflight {',
              '    default "";', '    "~^OPTIONS:." 1;', "}",
              "map $mmkg_preflight $mmkg_allow_methods {", '    default "";',
              f'    1 {_quoted(", ".join(PREFLIGHT_METHODS))};', "}",
              "map $mmkg_preflight $mmkg_max_age {", '    default "";',
              f"    1 {PREFLIGHT_MAX_AGE};", "}",
              "map $mmkg_preflight $mmkg_preflight_vary {", '    default "";',
              '    1 "Access-Control-Request-Headers";', "}",
              "map $mmkg_preflight:$http_access_control_request_headers $mmkg_allow_headers {",
              '    default "";', f'    "~^1:$" {_quoted(PREFLIGHT_HEADERS)};',
              '    "~^1:(?<asked>[A-Za-z0-9-]+( *, *[A-Za-z0-9-]+)*)$" $asked;',
              f'    "~^1:" {_quoted(PREFLIGHT_HEADERS)};', "}",
              "# JSON-LD names its canonical context in a Link header, as the app's does",
              "map $uri $mmkg_jsonld_link {", '    default "";', '    "/context.jsonld" "";']
    if sink.jsonld_link:
        lines.append(f"    ~[.]jsonld$ {_single_quoted(sink.jsonld_link)};")
    lines += ["}", "", "server {", f"    listen {listen};", f"    root {sink.root};",
              "    index index.html;", "    absolute_redirect off;", "    server_tokens off;",
              "    types {"]
    lines += [f"        {_media(t)} {ext};" for ext, t in sorted(usual.items()) if ext]
    # Files without an extension are the index pages (/states, /corrections ...).
    bare = _media(usual.get("", "application/octet-stream"))
    lines += ["        text/css css;", "        text/javascript js;", "        image/svg+xml svg;",
              "        image/png png;", "    }", f"    default_type {bare};",
              "    charset utf-8;"]
    # text/html is always among nginx's charset types; naming it again is a warning.
    charset = sorted({_media(t) for t in usual.values() if "charset=" in t} - {"text/html"})
    lines += [f"    charset_types {' '.join(charset + ['text/css', 'text/javascript'])};",
              "    gzip_static on;", "    gzip_vary on;",
              *_CROSS_ORIGIN,
              "    if ($mmkg_preflight) { return 204; }", "",
              "    location ^~ /.config/ { return 404; }",
              "    location = /.htaccess { return 404; }",
              "    # an identifier: 303 See Other to its document, when there is one",
              f"    location ~ ^/{IDENTIFIER}$ {{",
              "        if (-f $document_root/doc/$1/$2.ttl) { return 303 /doc/$1/$2; }",
              "        return 404;", "    }",
              "    location = /dataset { return 303 /.well-known/void; }"]
    if sink.redirects:
        lines.append("    # identifiers renamed in a release: 301 to the new ones")
    for old, new, extension in _moves(sink):
        if extension:
            lines += [f"    location ~ ^/{old}(\\.[a-z0-9]+)?$ {{ return 301 /{new}$1; }}"]
        else:
            lines += [f"    location = /{old} {{ return 301 /{new}; }}"]
    lines += ["    # a document: the representation its Accept header asks for",
              f"    location ~ ^/({NEGOTIATED})$ {{",
              "        add_header Vary Accept always;",
              *("    " + line for line in _CROSS_ORIGIN),
              "        try_files $uri.$mmkg_ext =404;", "    }"]
    for path in odd:  # e.g. /context.jsonld: JSON-LD without a charset parameter
        content_type = sink.types[path]
        lines += [f"    location = {path} {{", "        types { }",
                  f"        default_type {_media(content_type)};",
                  f"        charset {'utf-8' if 'charset=' in content_type else 'off'};", "    }"]
    lines += ["}", ""]
    return "\n".join(lines)


def htaccess(sink: FolderSink) -> str:
    """The same rules for Apache (mod_rewrite, mod_headers, mod_mime), for the folder as the
    document root."""
    usual, odd = _types(sink)
    lines = ["# mmkg static publication for Apache: this folder is the document root.",
             "# Written by `mmkg publish`; the same rules as the nginx configuration.",
             "Options -MultiViews -Indexes", "DirectoryIndex index.html",
             "AddDefaultCharset off"]
    for ext, content_type in sorted(usual.items()):
        if ext:
            lines.append(f"AddType {_media(content_type)} .{ext}")
            if "charset=" in content_type:
                lines.append(f"AddCharset utf-8 .{ext}")
    for path in odd:
        name = Path(path).name
        lines += [f'<Files "{name}">', f"    ForceType {_media(sink.types[path])}",
                  "</Files>"]
    if "" in usual:  # files without an extension are the index pages (/states ...)
        lines += ['<FilesMatch "^[^.]+$">', f"    ForceType {_media(usual[''])}",
                  "</FilesMatch>"]
    lines += ['Header always set Access-Control-Allow-Origin "*"',
              "RewriteEngine On",
              "RewriteRule ^\\.config/ - [R=404,L]"]
    if sink.redirects:
        lines.append("# identifiers renamed in a release: 301 to the new ones")
    for old, new, extension in _moves(sink):
        if extension:
            lines.append(f"RewriteRule ^{old}(\\.[a-z0-9]+)?$ /{new}$1 [R=301,L]")
        else:
            lines.append(f"RewriteRule ^{old}$ /{new} [R=301,L]")
    lines += [
              "# an identifier: 303 See Other to its document, when there is one",
              "RewriteCond %{DOCUMENT_ROOT}/doc/$1/$2.ttl -f",
              f"RewriteRule ^{IDENTIFIER}$ /doc/$1/$2 [R=303,L]",
              "RewriteRule ^id/ - [R=404,L]",
              "RewriteRule ^dataset$ /.well-known/void [R=303,L]",
              "# a document: the representation its Accept header asks for"]
    for header, fmt in accept_table():
        condition = f'"={header}"' if header else '"^$"'
        lines += [f"RewriteCond %{{HTTP_ACCEPT}} {condition}",
                  f"RewriteRule ^({NEGOTIATED})$ $1.{fmt.extension} [E=MMKG_NEGOTIATED:1,L]"]
    for rule, fmt in _first_type_rules():
        lines += [f'RewriteCond %{{HTTP_ACCEPT}} "{rule}" [NC]',
                  f"RewriteRule ^({NEGOTIATED})$ $1.{fmt.extension} [E=MMKG_NEGOTIATED:1,L]"]
    lines += [f"RewriteRule ^({NEGOTIATED})$ $1.{TURTLE.extension} [E=MMKG_NEGOTIATED:1,L]",
              "Header append Vary Accept env=REDIRECT_MMKG_NEGOTIATED",
              "# compressed on the fly (mod_deflate), as the app does above one packet",
              "<IfModule mod_deflate.c>",
              "    AddOutputFilterByType DEFLATE " + " ".join(sorted(
                  {_media(t) for t in usual.values()} - {"application/gzip", "image/x-icon"})),
              "</IfModule>", ""]
    return "\n".join(lines)


def publish(app: Flask, folder: Path, listen: str = "80") -> FolderSink:
    """Write the static publication of `app` into `folder` (created; files of an earlier
    publication are overwritten)."""
    state = get_state(app)
    state.static = True
    folder.mkdir(parents=True, exist_ok=True)
    sink = FolderSink(folder, state.site.redirects)
    record_all(app, sink, f"publishing every document and page to {folder}")
    static = Path(str(resources.files("mmkg") / "static"))
    shutil.copytree(static, sink.root / "static", dirs_exist_ok=True)
    for css in (sink.root / "static").rglob("*.css"):
        css.with_name(css.name + ".gz").write_bytes(gzip.compress(css.read_bytes(), mtime=0))
    config = sink.root / CONFIG_DIR
    config.mkdir(exist_ok=True)
    (config / "nginx.conf").write_text(nginx_conf(sink, listen), encoding="utf-8")
    (sink.root / ".htaccess").write_text(htaccess(sink), encoding="utf-8")
    return sink


# ---------------------------------------------------------------------------------------------
# The command

def add_command(subparsers: Subcommands) -> argparse.ArgumentParser:
    from ..serve import add_settings_arguments

    parser = subparsers.add_parser(
        "publish", help="write every document, dump and page to a folder for a static host",
        description="Write every document in every format, the dumps, the VoID, the ontology "
                    "and the pages to FOLDER, with an nginx configuration "
                    "(FOLDER/.config/nginx.conf, to include inside http { }) and an Apache "
                    "FOLDER/.htaccess that answer identifiers with 303 and negotiate formats. "
                    "Pages link to search, /sparql and /reconcile only when --public-url "
                    "names the app that answers them. Takes the options of `mmkg serve` "
                    "(the data, the base, the cache directory...).")
    parser.add_argument("folder", type=Path, metavar="FOLDER")
    parser.add_argument("--listen", default="80", metavar="ADDRESS",
                        help="nginx's listen directive for the server block (default: 80)")
    add_settings_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..app import create_app
    from ..kg.loader import LoadError
    from ..kg.validate import DataNotValid, load_validated
    from ..serve import settings_from_args

    settings = settings_from_args(args)
    try:
        graph = load_validated(settings)
    except (LoadError, DataNotValid) as err:
        print(f"mmkg publish: the data is refused: {err}", file=sys.stderr)
        return 1
    app = create_app(settings, graph)
    try:
        sink = publish(app, args.folder, args.listen)
    finally:
        get_state(app).backend.close()
    print(f"mmkg publish: {len(sink.types):,} files in {sink.root}; nginx: include "
          f"{sink.root / CONFIG_DIR / 'nginx.conf'} inside http {{ }}; Apache: "
          f"{sink.root / '.htaccess'}", file=sys.stderr)
    return 0
