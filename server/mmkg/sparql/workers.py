"""The query workers: long-lived forked processes that hold the store and run one job at a
time, each killed and replaced at the deadline, because pyoxigraph has no cancellation API
(RULINGS: Timeouts). Without a federation allow-list every worker gives up the network first
(sandbox.py). Errors come back to the caller as their own class. No Flask here.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import re
import signal
import stat
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from ..kg.loader import EMPTY_GRAPH
from .errors import EngineFault, QueryError, QuerySyntaxError, QueryTimeout
from .guard import PreparedQuery
from .querytext import explain
from .results import Answer, serialize_capped, write_boolean, write_solutions, write_triples
from .sandbox import deny_network


@dataclass(frozen=True)
class Job:
    """What a worker needs: the query, its dataset, the output format and the row cap."""

    prepared: PreparedQuery
    output: str  # a formats.RESULTS_FORMATS key (SELECT/ASK) or an RDF media type (others)
    max_results: int
    prefixes: dict[str, str] | None = None


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
    """Run one job on a store and serialize its answer (what a worker process does)."""
    prepared = job.prepared
    try:
        result = store.query(prepared.text, **dataset_kwargs(prepared))
    except SyntaxError as err:  # the query's fault, with Oxigraph's message and position
        raise _oxigraph_syntax_error(err, prepared.text) from None
    if prepared.form == "SELECT" and isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        columns = prepared.columns(variables)
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
    """Oxigraph says "error at LINE:COLUMN: message"; told as a sentence at that place."""
    match = re.match(r"error at (\d+):(\d+): (.*)", str(err), re.DOTALL)
    if match:
        return explain(text, match.group(3), int(match.group(1)), int(match.group(2)))
    return explain(text, str(err))


# --- the worker pool ---------------------------------------------------------------------

def _worker_main(store: ox.Store, conn: Any, parent: int, allow_network: bool) -> None:
    """A forked worker: answer jobs until the parent goes away.

    Without a federation allow-list the worker first gives up the network for good (see
    sandbox.py): if the kernel will not enforce that, it answers every job with a fault rather
    than run queries that could call out.
    """
    # The parent's Python signal handlers (gunicorn's, Flask's reloader's) were copied by the
    # fork; a worker must simply die when told to, so that shutdowns do not hang.
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH",
                 "SIGTTIN", "SIGTTOU", "SIGCHLD"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _close_inherited_sockets(keep=conn.fileno())
    refusal = None
    if not allow_network:
        try:
            deny_network()
        except OSError as err:
            refusal = f"query worker could not give up the network, so it runs nothing: {err}"
    while True:
        try:
            if not conn.poll(1.0):
                if os.getppid() != parent:  # the server died without telling us
                    return
                continue
            job = conn.recv()
        except (EOFError, OSError):
            return
        if refusal:
            conn.send(("fault", refusal))
            continue
        try:
            conn.send(("ok", execute(store, job)))
        except QueryError as err:  # the query's fault: pickled as itself (errors.py)
            conn.send(("query-error", err))
        except Exception as err:  # reported to the parent, which logs it as a 500
            conn.send(("fault", f"{type(err).__name__}: {err}"))


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
                os.close(fd)
        except OSError:
            pass  # already closed (the directory listing's own descriptor)


class _Worker:
    def __init__(self, store: ox.Store, allow_network: bool) -> None:
        context = multiprocessing.get_context("fork")  # the child shares the loaded store
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main,
                                       args=(store, child, os.getpid(), allow_network),
                                       daemon=True, name="mmkg-query-worker")
        self.process.start()
        child.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """Long-lived forked workers, each holding the store; a worker past its deadline is killed
    and replaced, so a runaway query really stops and other queries keep being answered.

    Workers may open network connections only when `allow_network` (a federation allow-list
    is configured); otherwise the kernel refuses them every socket but a Unix one.
    """

    def __init__(self, store: ox.Store, size: int = 2, allow_network: bool = False) -> None:
        self.store, self.size, self.allow_network = store, max(1, size), allow_network
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        self._pid = os.getpid()
        weakref.finalize(self, WorkerPool._stop_all, self._all)

    def _start(self) -> None:
        with self._lock:
            if self._started and self._pid != os.getpid():
                # This process was forked (e.g. gunicorn --preload): the inherited workers
                # belong to the parent; start our own.
                self._idle, self._started = queue.Queue(), False
                self._all.clear()  # this process's copy only; the parent keeps its workers
            if not self._started:
                self._pid = os.getpid()
                for _ in range(self.size):
                    self._add()
                self._started = True

    def _add(self) -> None:
        worker = _Worker(self.store, self.allow_network)
        self._all.add(worker)
        self._idle.put(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.stop()
        self._all.discard(worker)
        self._add()

    @staticmethod
    def _stop_all(workers: set[_Worker]) -> None:
        for worker in list(workers):
            worker.stop()

    def pids(self) -> list[int]:
        """The process ids of this process's workers (started on the first job)."""
        return sorted(w.process.pid for w in list(self._all) if w.process.pid is not None)

    def close(self) -> None:
        self._stop_all(self._all)
        self._all.clear()

    def _acquire(self, deadline: float, timeout: float, job: Job) -> _Worker:
        """An idle worker that accepted the job; a worker found dead before the query started
        (killed from outside, say) is replaced and the job goes to another one."""
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise QueryTimeout(f"every query worker stayed busy for the {timeout:g} s "
                                   "timeout; try again later") from None
            try:
                if worker.process.is_alive():
                    worker.conn.send(job)
                    return worker
            except OSError:
                pass
            self._discard(worker)

    def run(self, job: Job, timeout: float) -> Answer:
        """Run a job within `timeout` seconds (waiting for a free worker counts too)."""
        self._start()
        deadline = time.monotonic() + timeout
        worker = self._acquire(deadline, timeout, job)
        returned = False  # the worker is back in the pool, or discarded
        try:
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                returned = True
                self._discard(worker)
                raise QueryTimeout(f"query stopped after the {timeout:g} s timeout; simplify "
                                   "it or add a LIMIT")
            reply: tuple[str, object] = worker.conn.recv()
        except (EOFError, OSError) as err:  # BrokenPipeError is an OSError
            returned = True
            self._discard(worker)
            raise EngineFault(f"query worker died: {err!r}") from err
        finally:
            if not returned:
                self._idle.put(worker)
        kind, value = reply
        if kind == "ok" and isinstance(value, Answer):
            return value
        if kind == "query-error" and isinstance(value, QueryError):
            raise value
        raise EngineFault(str(value))
