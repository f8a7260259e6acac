"""Progress of long work (validating, building every document, publishing, exporting) on
stderr: what is being done, how far it is, and how long it took. No Flask here."""

from __future__ import annotations

import sys
import time
from typing import TextIO

EVERY_SECONDS = 2.0  # often enough to show it is alive, rarely enough to stay readable


class Progress:
    """`with Progress("building documents", total) as p: ... p.advance()`: a line when it
    starts, at most one every EVERY_SECONDS while it runs, and one when it ends."""

    def __init__(self, what: str, total: int | None = None, out: TextIO | None = None,
                 prefix: str = "mmkg") -> None:
        self.what, self.total, self.done = what, total, 0
        self.out = out if out is not None else sys.stderr
        self.prefix = prefix
        self.started = self.shown = time.monotonic()

    def __enter__(self) -> Progress:
        size = f" ({self.total:,})" if self.total is not None else ""
        self._say(f"{self.what}{size}...")
        return self

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        now = time.monotonic()
        if now - self.shown >= EVERY_SECONDS:
            self.shown = now
            if self.total:
                self._say(f"{self.what}: {self.done:,}/{self.total:,} "
                          f"({100 * self.done // self.total}%, {now - self.started:.0f} s)")
            else:
                self._say(f"{self.what}: {self.done:,} ({now - self.started:.0f} s)")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        elapsed = time.monotonic() - self.started
        if kind is None:
            count = f"{self.done:,} " if self.done else ""
            self._say(f"{self.what}: {count}done in {elapsed:.1f} s")
        else:
            self._say(f"{self.what}: stopped after {elapsed:.1f} s")

    def _say(self, text: str) -> None:
        print(f"{self.prefix}: {text}", file=self.out, flush=True)
