"""Fair admission to a lane of query workers: who gets the next free worker, and who is told
to come back later. No Flask here.

RULINGS "Fair admission": a client may hold at most its share of a lane's workers *while
other clients wait*; a request beyond that is refused at once (429 with Retry-After, as
Wikidata's query service does) instead of queueing in front of them. A lone client is never
refused: it simply waits. Free workers go first to the waiting client that holds the fewest.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .errors import QueryThrottled

W = TypeVar("W")


@dataclass(eq=False)
class _Ticket(Generic[W]):
    client: str
    seq: int
    hold_seconds: float
    worker: W | None = field(default=None)


class Lane(Generic[W]):
    """A fixed set of workers and a fair queue in front of them (thread-safe)."""

    def __init__(self, name: str, workers: Iterable[W]) -> None:
        self.name = name
        self._idle: deque[W] = deque(workers)
        self.size = len(self._idle)
        self._cond = threading.Condition()
        self._held: dict[str, list[float]] = {}  # client -> when each of its workers is due back
        self._waiting: list[_Ticket[W]] = []
        self._seq = itertools.count()

    def acquire(self, client: str, deadline: float, hold_seconds: float) -> W | None:
        """A worker for `client`, waiting until `deadline` (time.monotonic) at most; None when
        none came free in time. `hold_seconds` is the longest the worker will be held (its
        time limit): it gives the Retry-After of a refused client, when its first held worker
        is due back. Raises QueryThrottled when the client already holds its share while
        another client waits."""
        with self._cond:
            if not self._idle:
                self._refuse_beyond_share(client)
            ticket: _Ticket[W] = _Ticket(client, next(self._seq), hold_seconds)
            self._waiting.append(ticket)
            self._grant()
            while ticket.worker is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._waiting.remove(ticket)
                    return None
                self._cond.wait(remaining)
            return ticket.worker

    def release(self, client: str, worker: W) -> None:
        """Give a worker back (or its replacement, when it was killed)."""
        with self._cond:
            due = self._held.get(client)
            if due:
                due.remove(min(due))
                if not due:
                    del self._held[client]
            self._idle.append(worker)
            self._grant()

    def busy(self) -> int:
        """Workers held right now."""
        with self._cond:
            return sum(len(due) for due in self._held.values())

    def _grant(self) -> None:
        """Hand idle workers to waiting tickets, the client holding fewest first (then the
        oldest ticket). Called with the lock held."""
        granted = False
        while self._idle and self._waiting:
            ticket = min(self._waiting,
                         key=lambda t: (len(self._held.get(t.client, ())), t.seq))
            self._waiting.remove(ticket)
            ticket.worker = self._idle.popleft()
            self._held.setdefault(ticket.client, []).append(
                time.monotonic() + ticket.hold_seconds)
            granted = True
        if granted:
            self._cond.notify_all()

    def _refuse_beyond_share(self, client: str) -> None:
        """QueryThrottled if `client` holds its share of this lane while others wait."""
        due = self._held.get(client, [])
        others = {t.client for t in self._waiting} - {client}
        if not due or not others:
            return
        share = max(1, self.size // (len(others) + 1))
        if len(due) >= share:
            retry_after = max(1, math.ceil(min(due) - time.monotonic()))
            raise QueryThrottled(
                f"you already have {len(due)} queries running in the {self.name} lane while "
                f"others wait for it ({self.size} worker(s) shared fairly); retry in "
                f"{retry_after} s", retry_after)
