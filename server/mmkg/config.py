"""The one declared configuration: each setting with its default, flag, variable and help."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from .uris import BASE

# What `mmkg` hands each command module to add its sub-command to (cli.py).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _paths(value: str | list[str] | tuple[str, ...]) -> tuple[Path, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(os.pathsep) if v]
    return tuple(Path(v) for v in value)


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value else None


def _bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _strings(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    return tuple(v for v in value if v)


class SettingError(ValueError, argparse.ArgumentTypeError):
    """A setting's value that cannot be used; argparse shows its message as it is."""


def _public_url(value: str) -> str:
    """An absolute http(s) URL without query or fragment, kept without its trailing slash."""
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or \
            parts.fragment:
        raise SettingError(f"must be an http(s) URL without query or fragment, such as "
                           f"https://kg.example.org/ (got {value[:100]!r})")
    return value.rstrip("/")


def _report_address(value: str) -> str:
    """An address people can follow: https:, http: or mailto:, or empty."""
    value = value.strip()
    if value and not value.startswith(("https://", "http://", "mailto:")):
        raise SettingError(f"must be an https:, http: or mailto: address (got "
                           f"{value[:100]!r})")
    return value


def _address_logging(value: str) -> str:
    value = value.strip().lower()
    if value not in ADDRESS_LOGGING:
        raise SettingError(f"log addresses must be one of {', '.join(ADDRESS_LOGGING)}, "
                           f"not {value!r}")
    return value


# How much of a client's address the logs keep: nothing, its network (IPv4 /24, IPv6 /48),
# or all of it. The privacy setting `--log-addresses`; web/privacy.py applies it.
ADDRESS_LOGGING = ("none", "network", "full")


def setting(default: Any, help: str, convert: Any = None, metavar: str = "") -> Any:
    return field(default=default, metadata={"help": help, "convert": convert, "metavar": metavar})


@dataclass(frozen=True)
class Settings:
    """All settings: each is `--flag-name` on `mmkg serve` and `MMKG_FLAG_NAME` in the env."""

    data: tuple[Path, ...] = setting(
        (), "extra RDF files or folders served beside the shipped data (repeatable flag; "
            "os.pathsep-separated in the environment)", _paths, "PATH")
    no_default_data: bool = setting(
        False, "serve only --data, not the shipped ontology and data", _bool)
    base: str = setting(
        BASE, "canonical base IRI of every identifier (responses keep it; HTML links go to "
              "the serving host)", str, "IRI")
    public_url: str = setting(
        "", "the URL clients reach this server at (behind a proxy: its public address); "
            "absolute links (JSON-LD context, reconciliation manifest, landing page) use it. "
            "Unset: root-relative links, and http://HOST:PORT where a link must be absolute; "
            "never the request's Host header. For `mmkg publish`: the app that answers "
            "search, /sparql and /reconcile (static pages link to them only when set)",
        _public_url, "URL")
    host: str = setting("127.0.0.1", "interface to listen on", str, "HOST")
    port: int = setting(8080, "port to listen on", int, "PORT")
    workers: int = setting(
        0, "web worker processes of the production server (gunicorn with gevent workers, "
           "which buffer slow clients); 0: one per CPU core", int, "N")
    dev: bool = setting(
        False, "run Flask's development server instead of the production server (one "
               "process; for development only)", _bool)
    log_addresses: str = setting(
        "network", "how much of a client's address the access and error logs keep: none, "
                   "network (IPv4 /24, IPv6 /48) or full", _address_logging, "WHICH")
    query_timeout: float = setting(
        10.0, "seconds a SPARQL query may run before it is stopped (HTTP 503)", float, "SECONDS")
    max_results: int = setting(
        10000, "most result rows (or triples) a query returns; truncation is signalled", int, "N")
    max_query_length: int = setting(
        20000, "longest SPARQL query accepted, in characters (HTTP 413 beyond)", int, "CHARS")
    query_workers: int = setting(
        2, "worker processes of the slow lane, which runs the SPARQL queries that outlast the "
           "fast lane (each worker killed and replaced when a query passes the timeout); "
           "queries beyond this many wait, and a client holding its share while others wait "
           "gets HTTP 429", int, "N")
    fast_lane_workers: int = setting(
        2, "worker processes of the fast lane, where every query starts; 0 sends every query "
           "straight to the slow lane", int, "N")
    fast_lane_seconds: float = setting(
        0.5, "seconds a query may run in the fast lane before it is stopped there and run "
             "again in the slow lane (so cheap queries never queue behind expensive ones)",
        float, "SECONDS")
    query_memory: int = setting(
        1024, "megabytes of memory a query process may use beyond the loaded store; a query "
              "past it is stopped (HTTP 507); 0: no ceiling", int, "MB")
    sparql_endpoint: str = setting(
        "", "URL of an external SPARQL 1.1 endpoint to answer queries and resource lookups "
            "instead of the embedded Oxigraph store", str, "URL")
    sparql_default_graph: str = setting(
        "", "with --sparql-endpoint: the endpoint's graph that holds the served data (our "
            "dump), sent as default-graph-uri with every query that names no dataset, with "
            "the served files' graphs as named-graph-uri; for stores whose default graph is "
            "every graph they hold, their own system graphs included (Virtuoso)", str, "IRI")
    federation_allowlist: tuple[str, ...] = setting(
        (), "SPARQL endpoints that SERVICE may call (comma-separated); empty by default",
        _strings, "URLS")
    federation_allow_private: bool = setting(
        False, "let SERVICE call loopback, private and link-local addresses on the allow-list "
               "(tests and private deployments only)", _bool)
    report_errors_to: str = setting(
        "", "where readers report an error in the data: an issue tracker (https:) or a mailto: "
            "address, linked from every page; empty: the /corrections page says what a report "
            "needs and that this deployment names no address", _report_address, "URL")
    cache_dir: Path | None = setting(
        None, "folder for what is computed once per data version: the validation verdict and "
              "every document and page, pre-built (default: the user cache directory, "
              "$XDG_CACHE_HOME/mmkg or ~/.cache/mmkg)", _path, "PATH")
    no_prebuilt: bool = setting(
        False, "answer documents and pages live (each made on first request and kept in "
               "memory) instead of pre-building them all at start: for development, or data "
               "too large to pre-build", _bool)
    query_cache_mb: int = setting(
        64, "memory each server process may use to keep SPARQL answers (the data does not "
            "change while serving, so a repeated query is answered from memory): half as "
            "answers by query text, half as whole responses by request; 0 turns the cache "
            "off", int, "MIB")

    @property
    def query_cache_half(self) -> int:
        """Bytes for each of the two SPARQL caches (sparql/cache.py, web/answer_replay.py)."""
        return self.query_cache_mb * 2**20 // 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then MMKG_* environment variables, then explicit overrides."""
        variables = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = variables.get("MMKG_" + f.name.upper())
            if raw is not None:
                values[f.name] = f.metadata["convert"](raw)
        for name, value in overrides.items():
            if value is None:
                continue
            convert = next(f.metadata["convert"] for f in fields(cls) if f.name == name)
            values[name] = convert(value) if convert else value
        return cls(**values)


def setting_fields() -> tuple[Any, ...]:
    """The declared settings, for building the command line and the docs."""
    return fields(Settings)
