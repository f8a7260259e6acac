"""The cache directory: what is computed once per data version (the SHACL verdict, the
pre-built responses) is kept there under a key that changes whenever anything that could
change the result changes: the served files, the shapes, this package's code, the libraries
that write the bytes, and the settings that shape responses. Never inside the installed
package (RULINGS: pre-built documents). No Flask here."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import tempfile
from collections.abc import Iterable
from dataclasses import fields
from importlib import resources
from pathlib import Path

import platformdirs

from . import __version__
from .config import Settings

# Libraries whose output is in the cached bytes or verdicts.
LIBRARIES = ("rdflib", "pyoxigraph", "pyshacl", "pylode", "Flask", "Werkzeug", "Jinja2")
# Package files that are code or shape responses (the data folders are keyed separately).
CODE_SUFFIXES = (".py", ".html", ".css", ".js", ".rq", ".json")
# Settings that cannot change a response body or header: they do not key the cache, so a
# second server on another port reuses the first one's work.
NOT_IN_KEY = frozenset({"host", "port", "workers", "query_workers", "cache_dir",
                        "query_cache_mb", "query_timeout", "no_prebuilt"})


def cache_root(settings: Settings) -> Path:
    """The configured folder, or the user cache directory (XDG rules on Linux) read now."""
    return settings.cache_dir or platformdirs.user_cache_path("mmkg")


def files_digest(paths: Iterable[Path]) -> str:
    """A content hash of files, by name and bytes, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """This package's version and code (templates and queries included) and its libraries'
    versions: a changed line of code means a new key even when the version number is the
    same (a developer's checkout)."""
    digest = hashlib.sha256(f"mmkg {__version__}".encode())
    for name in LIBRARIES:
        try:
            digest.update(f"{name} {importlib.metadata.version(name)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name} -\n".encode())
    root = Path(str(resources.files("mmkg")))
    code = sorted(p for p in root.rglob("*") if p.suffix in CODE_SUFFIXES
                  and "__pycache__" not in p.parts and "data" not in p.relative_to(root).parts)
    digest.update(files_digest(code).encode())
    return digest.hexdigest()


def settings_fingerprint(settings: Settings) -> str:
    """The settings that may shape a response, as a hash. Without --public-url, absolute
    links name the listening address (web.urls.public_root): then it keys the cache too."""
    ignored = NOT_IN_KEY - {"host", "port"} if not settings.public_url else NOT_IN_KEY
    shown = [(f.name, repr(getattr(settings, f.name))) for f in fields(settings)
             if f.name not in ignored]
    return hashlib.sha256(repr(shown).encode()).hexdigest()


def key(*parts: str) -> str:
    """A short file-name-safe key from the given fingerprints."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a reader (another server starting) sees the old
    file or the new one, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
