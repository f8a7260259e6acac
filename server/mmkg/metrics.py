"""Counters and latency histograms a deployer can scrape at /metrics (Prometheus text format,
version 0.0.4), kept in memory shared by every process forked after the module is imported:
gunicorn's workers fork from the process that loaded the app, so a scrape that reaches any
worker reports the whole server. No Flask here.

Every series is declared below with its label values, so the memory is a fixed array and a
client can never create series. To count something new, declare it in SERIES.

Hook for caches (a SPARQL result cache, say): `METRICS.count_cache("sparql_results", hit)`.
"""

from __future__ import annotations

import bisect
import itertools
import multiprocessing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

ROOMS = ("linkeddata", "sparql", "wikidata", "ops", "other")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
OUTCOMES = ("answered", "syntax_error", "bad_request", "too_long", "too_deep", "refused",
            "timeout", "throttled", "out_of_memory", "remote_error", "fault")
CACHES = ("sparql_results", "documents", "bodies")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Series:
    """One declared metric: its kind, help text and the values each label may take."""

    name: str
    kind: str  # "counter" | "histogram"
    help: str
    labels: Mapping[str, tuple[str, ...]]

    def label_sets(self) -> Iterator[tuple[str, ...]]:
        yield from itertools.product(*self.labels.values())

    @property
    def width(self) -> int:
        """Slots per label set: one for a counter; buckets, +Inf and sum for a histogram."""
        return 1 if self.kind == "counter" else len(BUCKETS) + 2


SERIES = (
    Series("mmkg_http_requests_total", "counter", "HTTP requests answered, by room and status",
           {"room": ROOMS, "status": STATUS_CLASSES}),
    Series("mmkg_http_request_duration_seconds", "histogram",
           "Time to answer an HTTP request, by room", {"room": ROOMS}),
    Series("mmkg_sparql_queries_total", "counter",
           "SPARQL queries by outcome (refused: policy; throttled: 429; timeout: 503)",
           {"outcome": OUTCOMES}),
    Series("mmkg_cache_hits_total", "counter", "Answers served from a cache", {"cache": CACHES}),
    Series("mmkg_cache_misses_total", "counter", "Answers a cache did not hold",
           {"cache": CACHES}),
)


class Metrics:
    """The declared series in one shared array of doubles, updated under one lock."""

    def __init__(self, series: tuple[Series, ...] = SERIES) -> None:
        self.series = {s.name: s for s in series}
        self._offset: dict[tuple[str, tuple[str, ...]], int] = {}
        size = 0
        for s in series:
            for labels in s.label_sets():
                self._offset[(s.name, labels)] = size
                size += s.width
        context = multiprocessing.get_context("fork")
        self._values = context.RawArray("d", size)
        self._lock = context.Lock()

    def _slot(self, name: str, labels: Mapping[str, str]) -> int:
        series = self.series[name]
        key = tuple(labels[label] for label in series.labels)
        try:
            return self._offset[(name, key)]
        except KeyError:
            raise ValueError(f"{name} has no series {dict(labels)}") from None

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        slot = self._slot(name, labels)
        with self._lock:
            self._values[slot] += amount

    def observe(self, name: str, value: float, **labels: str) -> None:
        """One observation of a histogram: its bucket (not cumulative here) and its sum."""
        slot = self._slot(name, labels)
        bucket = bisect.bisect_left(BUCKETS, value)  # len(BUCKETS): the +Inf bucket
        with self._lock:
            self._values[slot + bucket] += 1
            self._values[slot + len(BUCKETS) + 1] += value

    def count_cache(self, cache: str, hit: bool) -> None:
        """The hook for caches: one hit or one miss."""
        self.inc("mmkg_cache_hits_total" if hit else "mmkg_cache_misses_total", cache=cache)

    def value(self, name: str, **labels: str) -> float:
        """A counter's current value (tests, health)."""
        return float(self._values[self._slot(name, labels)])

    def render(self) -> str:
        """Every series in Prometheus's text exposition format."""
        with self._lock:
            values = list(self._values)
        lines: list[str] = []
        for s in self.series.values():
            lines += [f"# HELP {s.name} {s.help}", f"# TYPE {s.name} {s.kind}"]
            for labels in s.label_sets():
                at = self._offset[(s.name, labels)]
                pairs = [f'{k}="{v}"' for k, v in zip(s.labels, labels, strict=True)]
                if s.kind == "counter":
                    lines.append(f"{s.name}{{{','.join(pairs)}}} {_number(values[at])}")
                    continue
                total = 0.0
                for i, bound in enumerate((*BUCKETS, float("inf"))):
                    total += values[at + i]
                    le = 'le="+Inf"' if bound == float("inf") else f'le="{bound!r}"'
                    lines.append(f"{s.name}_bucket{{{','.join([*pairs, le])}}} "
                                 f"{_number(total)}")
                lines.append(f"{s.name}_sum{{{','.join(pairs)}}} "
                             f"{_number(values[at + len(BUCKETS) + 1])}")
                lines.append(f"{s.name}_count{{{','.join(pairs)}}} {_number(total)}")
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


# The server's metrics: made when the package is first imported, before gunicorn forks.
METRICS = Metrics()
