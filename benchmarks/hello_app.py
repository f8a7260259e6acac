"""The ceiling of the Python stack: Flask's "hello" under the same gunicorn, with the same
options, as `mmkg serve --workers N` (mmkg.web.production.run_gunicorn).

    python benchmarks/hello_app.py PORT [WORKERS]
"""

from __future__ import annotations

import sys

from flask import Flask

from mmkg.config import Settings
from mmkg.web.production import run_gunicorn

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"


if __name__ == "__main__":
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    run_gunicorn(app, Settings(port=port, workers=workers))
