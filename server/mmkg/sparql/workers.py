"""The query workers: long-lived forked processes that hold the store and run one task at a
time, each killed and replaced at its deadline, because pyoxigraph has no cancellation API
(RULINGS: Timeouts). A task is the full safety check of a query (guard.check) and, for a Job,
its execution: both under the same deadline, away from the process that answers requests.

Two lanes keep cheap queries from queueing behind expensive ones: a query first runs in the
fast lane with a short budget; one that needs longer is stopped there and run again in the
slow lane, where it may take the query timeout. A client whose query needed the slow lane
starts there for the next minute, so repeated expensive queries do not hold the fast lane
either. Each lane admits clients fairly (admission.py). Every worker gives up the network
unless a federation allow-list is set (sandbox.py) and has a memory ceiling. Errors come back
to the caller as their own class. No Flask here.
"""

from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import os
import re
import resource
import select
import signal
import stat
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pyoxigraph as ox

from ..config import Settings
from ..kg.loader import EMPTY_GRAPH
from .admission import Lane
from .errors import EngineFault, QueryError, QueryOutOfMemory, QuerySyntaxError, QueryTimeout
from .guard import PreparedQuery, check, rdflib_error_position
from .querytext import explain, position, written_order
from .results import Answer, serialize_capped, write_boolean, write_solutions, write_triples
from .sandbox import deny_network

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """What a worker needs: the query, its dataset, the output format and the row cap."""

    prepared: PreparedQuery
    output: str  # a formats.RESULTS_FORMATS key (SELECT/ASK) or an RDF media type (others)
    max_results: int
    prefixes: dict[str, str] | None = None

    def __call__(self, store: ox.Store) -> Answer:
        return execute(store, self)


@dataclass(frozen=True)
class Check:
    """Only the full safety check of a query (the remote mode, and queries whose form the
    screen could not read): the checked query comes back."""

    prepared: PreparedQuery

    def __call__(self, store: ox.Store) -> PreparedQuery:
        return check(self.prepared)


def dataset_kwargs(prepared: PreparedQuery) -> dict[str, Any]:
    """pyoxigraph's dataset arguments: explicit graphs, or the store's default graph (which
    the loader fills with the union of every graph, as a set)."""
    if prepared.default_graphs is None and prepared.named_graphs is None:
        return {}
    # FROM NAMED without FROM: the default graph is empty (SPARQL 1.1 Query, 13.2).
    defaults = [ox.NamedNode(g) for g in prepared.default_graphs or ()] or [EMPTY_GRAPH]
    return {"default_graph": defaults,
            "named_graphs": [ox.NamedNode(g) for g in prepared.named_graphs or ()]}


def execute(store: ox.Store, job: Job) -> Answer:
    """Check one job's query if it is still pending, run it on a store and serialize its
    answer (what a worker process does)."""
    prepared = check(job.prepared)
    try:
        result = store.query(prepared.text, **dataset_kwargs(prepared))
    except SyntaxError as err:  # the query's fault, with Oxigraph's message and position
        raise _oxigraph_syntax_error(err, prepared.text) from None
    if prepared.form == "SELECT" and isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        columns = written_order(prepared.text, variables)
        if columns != variables:  # SELECT * in the written order: our writer sets columns
            return write_solutions(columns, ({v: s[v] for v in columns} for s in result),
                                   job.output, job.max_results)
        answer = serialize_capped(result, job.output, job.max_results)
        if answer is not None:
            return answer
        # A very large answer: run again and stream only the first rows through our writer.
        again = store.query(prepared.text, **dataset_kwargs(prepared))
        if isinstance(again, ox.QuerySolutions):
            variables = [v.value for v in again.variables]
            return write_solutions(variables, ({v: s[v] for v in variables} for s in again),
                                   job.output, job.max_results)
    elif prepared.form == "ASK" and isinstance(result, ox.QueryBoolean):
        return write_boolean(bool(result), job.output)
    elif prepared.form in ("CONSTRUCT", "DESCRIBE") and isinstance(result, ox.QueryTriples):
        return write_triples(result, job.output, job.max_results, job.prefixes)
    raise EngineFault(f"{prepared.form} query gave {type(result).__name__}")


def _oxigraph_syntax_error(err: SyntaxError, text: str) -> QuerySyntaxError:
    """Oxigraph says "error at LINE:COLUMN: message"; told as a sentence at that place.

    Oxigraph's parser backtracks, and often reports the end of the query ("ends too early,
    expected LANGMATCHES" for `FILTER(?s = )`). When it points into the last word, rdflib's
    parser is asked where it stopped, and the earlier place is shown."""
    match = re.match(r"error at (\d+):(\d+): (.*)", str(err), re.DOTALL)
    if not match:
        return explain(text, str(err))
    at = (int(match.group(1)), int(match.group(2)))
    told = explain(text, match.group(3), *at)
    generic = any(f": {words}" in told.message
                  for words in ("the query ends too early", "unexpected"))
    if generic and _in_last_word(text, *at):
        other = rdflib_error_position(text)
        if other is not None and other < at:
            return explain(text, "", *other)
    return told


def _in_last_word(text: str, line: int, column: int) -> bool:
    stripped = text.rstrip()
    words = stripped.split()
    return not words or (line, column) >= position(text, len(stripped) - len(words[-1]))


# --- the worker pool ---------------------------------------------------------------------

@dataclass(frozen=True)
class PoolConfig:
    """The lanes' sizes, the fast lane's budget, the memory ceiling and the network switch."""

    workers: int = 2  # the slow lane
    fast_workers: int = 2  # the fast lane (0: every query goes straight to the slow lane)
    fast_seconds: float = 0.5
    memory_mb: int = 1024  # address space a worker may add after the fork (0: no ceiling)
    allow_network: bool = False

    @classmethod
    def of(cls, settings: Settings) -> PoolConfig:
        return cls(settings.query_workers, settings.fast_lane_workers,
                   settings.fast_lane_seconds, settings.query_memory,
                   bool(settings.federation_allowlist))


def _limit_memory(megabytes: int) -> None:
    """Cap this process's address space at its size now plus `megabytes` (the store is shared
    with the parent after the fork and already counted in the size)."""
    # An allocation past the ceiling aborts the process: without this the kernel would first
    # write a core dump of it (the whole store), which takes long and fills disks.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Rust prints a backtrace before it aborts when asked to; with no memory left that print
    # itself crashes (a segmentation fault instead of the abort that names the cause).
    os.environ["RUST_BACKTRACE"] = "0"
    if megabytes <= 0:
        return
    with open("/proc/self/status", encoding="ascii") as status:
        size = next(int(line.split()[1]) * 1024 for line in status
                    if line.startswith("VmSize:"))
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = size + megabytes * 2**20
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))


# What a worker may call that gevent makes cooperative: the waits, closing descriptors,
# signal handlers and the DNS look-up of the federation check.
_BLOCKING = {"select": ("poll", "select"), "time": ("sleep",), "os": ("close",),
             "signal": ("signal",),
             "socket": ("getaddrinfo", "gethostbyname", "gethostbyname_ex")}


def _never_yield() -> None:
    """Under gevent (the production server) the fork copied the web process's event loop and
    greenlets, one of them waiting on the listening socket: were this worker ever to enter
    that loop, it would accept requests. So a worker first puts back the blocking originals
    of what it calls (gevent's os.close, for one, visits the loop) and never enters it."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_anything_patched():
        return
    for module, names in _BLOCKING.items():
        for name in names:
            if monkey.is_object_patched(module, name):
                setattr(sys.modules[module], name, monkey.get_original(module, name))


def _close_inherited_sockets(keep: int) -> None:
    """Close the sockets the fork copied from the server (its listener, the clients' kept-alive
    connections): a worker holding a copy would keep a connection open after the server
    closed it, and the next request a browser sent on it would never be answered."""
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: nothing to learn the descriptors from; keep them
        return
    for fd in descriptors:
        if fd == keep or fd <= 2:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                # closerange, not close: gevent's os.close leaves the closing to its loop,
                # which a worker never runs (_never_yield).
                os.closerange(fd, fd + 1)
        except OSError:
            pass  # already closed (the directory listing's own descriptor)


def _worker_main(store: ox.Store, conn: Any, parent: int, config: PoolConfig) -> None:
    """A forked worker: answer tasks until the parent goes away.

    Without a federation allow-list the worker first gives up the network for good (see
    sandbox.py): if the kernel will not enforce that, it answers every job with a fault rather
    than run queries that could call out.
    """
    _never_yield()
    # The parent's Python signal handlers (gunicorn's, Flask's reloader's) were copied by the
    # fork; a worker must simply die when told to, so that shutdowns do not hang.
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH",
                 "SIGTTIN", "SIGTTOU", "SIGCHLD"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _close_inherited_sockets(keep=conn.fileno())
    # An allocation past the memory ceiling aborts the process (Rust's rule): expected here,
    # so no fault dump from an inherited faulthandler (pytest enables one).
    faulthandler.disable()
    refusal = None
    if not config.allow_network:
        try:
            deny_network()
        except OSError as err:
            refusal = f"query worker could not give up the network, so it runs nothing: {err}"
    try:
        _limit_memory(config.memory_mb)
    except (OSError, ValueError, StopIteration) as err:
        refusal = refusal or f"query worker could not set its memory ceiling: {err}"
    while True:
        try:
            if not _readable(conn, 1.0):
                if os.getppid() != parent:  # the server died without telling us
                    return
                continue
            task = conn.recv()
        except (EOFError, OSError):
            return
        if refusal:
            conn.send(("fault", refusal))
            continue
        try:
            conn.send(("ok", task(store)))
        except QueryError as err:  # the query's fault: pickled as itself (errors.py)
            conn.send(("query-error", err))
        except MemoryError:
            # Python ran into the ceiling; leave after saying so (what was allocated may not
            # be given back), and the pool starts a fresh worker.
            conn.send(("query-error", _out_of_memory(config)))
            return
        except Exception as err:  # reported to the parent, which logs it as a 500
            conn.send(("fault", f"{type(err).__name__}: {err}"))


def _out_of_memory(config: PoolConfig) -> QueryOutOfMemory:
    return QueryOutOfMemory(f"query stopped: it needed more than the {config.memory_mb} MB a "
                            "query may use; simplify it or add a LIMIT")


class _Worker:
    def __init__(self, store: ox.Store, config: PoolConfig) -> None:
        context = multiprocessing.get_context("fork")  # the child shares the loaded store
        self.conn, child = context.Pipe()
        # Under gevent the pipe is made of gevent sockets, left non-blocking: a large answer
        # would then fail half-read. Both ends block; the parent polls before it reads.
        for end in (self.conn, child):
            os.set_blocking(end.fileno(), True)
        self.process = context.Process(target=_worker_main,
                                       args=(store, child, os.getpid(), config),
                                       daemon=True, name="mmkg-query-worker")
        self.process.start()
        child.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self._reap(5.0)
        self.conn.close()

    def died_of_memory(self, config: PoolConfig) -> bool:
        """Whether the worker ended at the memory ceiling: Oxigraph (Rust) aborts the process
        when an allocation fails, or, when even the abort finds no memory, the process faults
        (a segmentation fault is then logged too, in case it was something else)."""
        self._reap(5.0)
        code = self.process.exitcode
        if code == -signal.SIGSEGV and config.memory_mb > 0:
            logging.getLogger(__name__).warning(
                "query worker ended with a segmentation fault; taken as the %d MB memory "
                "ceiling", config.memory_mb)
            return True
        return code == -signal.SIGABRT

    def _reap(self, timeout: float) -> None:
        """Wait for the process to end, checking its status: `join(timeout)` would wait the
        whole timeout, because workers forked later hold copies of its exit sentinel."""
        until = time.monotonic() + timeout
        while self.process.exitcode is None and time.monotonic() < until:
            time.sleep(0.005)


def _readable(conn: Any, timeout: float) -> bool:
    """`conn.poll(timeout)` through `select.poll` as it is now: under gevent (the production
    server) that is gevent's cooperative poll, so the web process answers other requests
    while this one waits (multiprocessing binds its own poller when it is first imported)."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(max(0.0, timeout) * 1000))


# How long a client whose query outlasted the fast lane starts in the slow lane, and how many
# such clients are remembered (the oldest are forgotten first).
COSTLY_SECONDS = 60.0
COSTLY_CLIENTS = 10_000


class _TooSlow(Exception):
    """The fast lane's budget ran out: the query is expensive and goes to the slow lane."""


class WorkerPool:
    """Long-lived forked workers, each holding the store, in a fast and a slow lane; a worker
    past its deadline is killed and replaced, so a runaway query really stops and other
    queries keep being answered.

    Workers may open network connections only when `allow_network` (a federation allow-list
    is configured); otherwise the kernel refuses them every socket but a Unix one.
    """

    def __init__(self, store: ox.Store, config: PoolConfig | None = None) -> None:
        self.store, self.config = store, config or PoolConfig()
        self._lanes: dict[str, Lane[_Worker]] = {}
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._costly: dict[str, float] = {}  # client -> until when it starts in the slow lane
        weakref.finalize(self, WorkerPool._stop_all, self._all)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            # First use, or this process was forked (e.g. gunicorn --preload): inherited
            # workers belong to the parent; start our own (and forget the copies).
            self._all.clear()
            self._lanes = {}
            if self.config.fast_workers > 0:
                self._lanes["fast"] = Lane("fast", self._new(self.config.fast_workers))
            self._lanes["slow"] = Lane("slow", self._new(max(1, self.config.workers)))
            self._pid = os.getpid()

    def _new(self, count: int) -> list[_Worker]:
        workers = [_Worker(self.store, self.config) for _ in range(count)]
        self._all.update(workers)
        return workers

    def _replace(self, lane: Lane[_Worker], client: str, worker: _Worker) -> None:
        worker.stop()
        self._all.discard(worker)
        lane.release(client, self._new(1)[0])

    @staticmethod
    def _stop_all(workers: set[_Worker]) -> None:
        for worker in list(workers):
            worker.stop()

    def pids(self) -> list[int]:
        """The process ids of this process's workers (started on the first task)."""
        return sorted(w.process.pid for w in list(self._all) if w.process.pid is not None)

    def busy(self) -> dict[str, tuple[int, int]]:
        """Per lane: (workers busy, workers in all)."""
        return {name: (lane.busy(), lane.size) for name, lane in self._lanes.items()}

    def close(self) -> None:
        self._stop_all(self._all)
        self._all.clear()

    def answer(self, job: Job, timeout: float, client: str = "") -> Answer:
        """Check and run a job within `timeout` seconds (waiting for a worker counts too)."""
        answer = self.run(job, timeout, client)
        if not isinstance(answer, Answer):
            raise EngineFault(f"a job came back as {type(answer).__name__}")
        return answer

    def check(self, prepared: PreparedQuery, timeout: float, client: str = "") -> PreparedQuery:
        """The full check of a pending query, in a worker, within `timeout` seconds."""
        checked = self.run(Check(prepared), timeout, client)
        if not isinstance(checked, PreparedQuery):
            raise EngineFault(f"a check came back as {type(checked).__name__}")
        return checked

    def run(self, task: Callable[[ox.Store], T], timeout: float, client: str = "") -> T:
        """Run a task: first in the fast lane within its budget, else in the slow lane within
        `timeout` (from when it enters that lane, waiting included)."""
        self._start()
        fast = self._lanes.get("fast")
        if fast is not None and self._costly.get(client, 0.0) < time.monotonic():
            try:
                return self._attempt(fast, task, client, time.monotonic() + timeout,
                                     min(timeout, self.config.fast_seconds), timeout,
                                     last=self.config.fast_seconds >= timeout)
            except _TooSlow:
                self._remember_costly(client)
        return self._attempt(self._lanes["slow"], task, client, time.monotonic() + timeout,
                             timeout, timeout, last=True)

    def _remember_costly(self, client: str) -> None:
        if len(self._costly) >= COSTLY_CLIENTS:
            now = time.monotonic()
            self._costly = {c: t for c, t in self._costly.items() if t > now}
            while len(self._costly) >= COSTLY_CLIENTS:
                self._costly.pop(next(iter(self._costly)))
        self._costly.pop(client, None)  # re-inserted last: the newest
        self._costly[client] = time.monotonic() + COSTLY_SECONDS

    def _attempt(self, lane: Lane[_Worker], task: Callable[[ox.Store], T], client: str,
                 wait_until: float, budget: float, timeout: float, last: bool) -> T:
        """One run in one lane: a worker (replacing any found dead), the task, the reply."""
        while True:
            worker = lane.acquire(client, wait_until, budget)
            if worker is None:
                raise QueryTimeout(f"every query worker of the {lane.name} lane stayed busy for "
                                   f"the {timeout:g} s timeout; try again later")
            try:
                if worker.process.is_alive():
                    worker.conn.send(task)
                    break
            except OSError:
                pass
            self._replace(lane, client, worker)  # found dead (killed from outside, say)
        returned = False  # the worker is back in the lane, or replaced
        try:
            if not _readable(worker.conn, budget):
                returned = True
                self._replace(lane, client, worker)
                if not last:
                    raise _TooSlow
                raise QueryTimeout(f"query stopped after the {timeout:g} s timeout; simplify "
                                   "it or add a LIMIT")
            reply: tuple[str, object] = worker.conn.recv()
            if isinstance(reply[1], QueryOutOfMemory):
                # The worker leaves after saying so: never hand it another query.
                returned = True
                self._replace(lane, client, worker)
        except (EOFError, OSError) as err:  # BrokenPipeError is an OSError
            returned = True
            memory = worker.died_of_memory(self.config)
            self._replace(lane, client, worker)
            if memory:
                raise _out_of_memory(self.config) from None
            raise EngineFault(f"query worker died (exit code {worker.process.exitcode}): "
                              f"{err!r}") from err
        finally:
            if not returned:
                lane.release(client, worker)
        kind, value = reply
        if kind == "ok":
            return value  # type: ignore[return-value]  # what the task returns
        if kind == "query-error" and isinstance(value, QueryError):
            raise value
        raise EngineFault(str(value))
