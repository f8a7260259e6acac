"""The production server `mmkg serve` runs by default: gunicorn with gevent workers, and
Flask's development server behind `--dev` (RULINGS: Production by default).

Why gevent: a gthread worker gives each connection a thread for as long as the client takes
to send its request, so 20 clients trickling a body at one byte per 3 s held every thread and
made every request time out (issue 13). A gevent worker gives each connection a greenlet, up
to `worker_connections` (1,000) per worker, and reads a request's headers within the
keep-alive time; waiting for a query worker is cooperative too (sparql/workers.py polls its
pipe through gevent's poll). `mmkg serve` patches the standard library for gevent before it
imports anything else (cli.py), so every lock the app makes is gevent's.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler

from ..config import Settings
from .privacy import loggable_address

# gunicorn's largest request line (RULINGS: GET is bounded by it, not raised to unlimited).
REQUEST_LINE_LIMIT = 8190
WORKER_CONNECTIONS = 1000
TOO_LONG = (f"Request line longer than {REQUEST_LINE_LIMIT} bytes. Send long SPARQL queries "
            "by POST, as a form (query=...) or with Content-Type: application/sparql-query.")


def worker_count(settings: Settings) -> int:
    """`--workers`, or one per CPU core this process may use."""
    if settings.workers > 0:
        return settings.workers
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn settings `mmkg serve` runs with."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": worker_count(settings),
        "worker_class": worker_class(settings.log_addresses),
        "worker_connections": WORKER_CONNECTIONS,
        "logger_class": logger_class(settings.log_addresses),
        "preload_app": True,  # loaded and validated once, before the fork
        "limit_request_line": REQUEST_LINE_LIMIT,
        # A worker's loop must outlive the longest wait it may see: a query's fast-lane try
        # and its slow-lane wait and run.
        "timeout": int(settings.fast_lane_seconds + 2 * settings.query_timeout) + 30,
        "accesslog": "-",
        "errorlog": "-",
        # gunicorn 27's control socket sits at one path per user: two servers would share it.
        "control_socket_disable": True,
    }


def worker_class(keep: str) -> type:
    """gunicorn's gevent worker, answering an over-long request line with a 414 that says
    to use POST, and logging client addresses only as far as `keep` allows."""
    from gunicorn import util
    from gunicorn.http.errors import LimitRequestLine
    from gunicorn.workers.ggevent import GeventWorker

    class Worker(GeventWorker):  # type: ignore[misc]
        def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
            shown = (loggable_address(str(addr[0]), keep), addr[1]) if addr else addr
            if isinstance(exc, LimitRequestLine):
                self.log.info("414 request line too long, from %s", shown[0] if shown else "-")
                body = (TOO_LONG + "\n").encode("utf-8")
                head = ("HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Access-Control-Allow-Origin: *\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n")
                try:
                    util.write_nonblock(client, head.encode("latin-1") + body)
                except OSError:
                    self.log.debug("Failed to send the 414 answer.")
                return
            super().handle_error(req, client, shown, exc)

    return Worker


def logger_class(keep: str) -> type:
    """gunicorn's logger with the client address cut to what `keep` allows."""
    from gunicorn.glogging import Logger

    class PrivateLogger(Logger):  # type: ignore[misc]
        def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
                  request_time: timedelta) -> dict[str, Any]:
            atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
            shown = loggable_address(environ.get("REMOTE_ADDR"), keep)
            atoms["h"] = atoms["{remote_addr}e"] = shown
            for header in ("{x-forwarded-for}i", "{x-real-ip}i", "{forwarded}i"):
                if header in atoms:
                    atoms[header] = "-"
            return atoms

    return PrivateLogger


def run_gunicorn(app: Flask, settings: Settings) -> None:
    """gunicorn with the already-built app: loaded and validated once, before the fork."""
    from gunicorn.app.base import BaseApplication

    options = gunicorn_options(settings)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # older gunicorns lack the newest settings
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    Server().run()


def run_development(app: Flask, settings: Settings) -> None:
    """Flask's own server (`--dev`), its log lines cut like gunicorn's."""
    keep = settings.log_addresses

    class Handler(WSGIRequestHandler):
        def address_string(self) -> str:
            return loggable_address(super().address_string(), keep)

    app.run(host=settings.host, port=settings.port, threaded=True, use_reloader=False,
            request_handler=Handler)


def patch_for_gevent() -> None:
    """Make the standard library cooperative (gevent's monkey patching), before the app and
    its libraries are imported: locks, queues and sockets made afterwards are gevent's."""
    from gevent import monkey

    monkey.patch_all()
