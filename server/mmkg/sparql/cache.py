"""The SPARQL answer cache: the data does not change while serving, so an answer is kept and
a repeated query is answered from memory. No Flask here.

Keyed by what decides the bytes of an answer: the one query text the guard prepared (escapes
applied, so two spellings of one query share an entry only when they are the same text), the
dataset it reads, the output format, the row cap and the prefixes written into RDF output.
Bounded by the bytes of the answers it holds; the least recently used go first. Failures
(timeouts, errors) are never kept: the next request tries again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from .results import Answer
from .workers import Job

# What an entry costs besides its body (key, Answer object, dict slot), roughly.
ENTRY_OVERHEAD = 512


def job_key(job: Job) -> Hashable:
    prepared = job.prepared
    prefixes = tuple(sorted(job.prefixes.items())) if job.prefixes else ()
    return (prepared.text, prepared.default_graphs, prepared.named_graphs, job.output,
            job.max_results, prefixes)


class AnswerCache:
    """Answers by job, at most `max_bytes` of them; `hits` and `misses` count lookups."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = self.misses = 0
        self._entries: OrderedDict[Hashable, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, job: Job, run: Callable[[], Answer]) -> tuple[Answer, bool]:
        """The kept answer to `job` (True), or `run()`'s, kept when it fits (False).

        Two identical queries arriving together may both run: neither waits on the other.
        """
        key = job_key(job)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found, True
            self.misses += 1
        answer = run()
        self._keep(key, answer)
        return answer, False

    def _keep(self, key: Hashable, answer: Answer) -> None:
        cost = len(answer.body) + ENTRY_OVERHEAD
        if cost > self.max_bytes // 4:  # one huge answer must not flush everything else
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = answer
            self.size += cost
            while self.size > self.max_bytes:
                _, old = self._entries.popitem(last=False)
                self.size -= len(old.body) + ENTRY_OVERHEAD

    def __len__(self) -> int:
        return len(self._entries)
