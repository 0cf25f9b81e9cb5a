"""``--jobs N``: the sessions of one run loaded by N worker processes on this machine, with
one progress display, one summary and one log (the parent's).

The parent does what a run does before its first load (the selection, the schema, the
calendar, the ledger, each session's plan), then hands the planned sessions out one at a
time to whichever worker asks next: a worker that finishes early takes more, so one slow
race does not hold up others. Each worker is a whole loader (its own FastF1, database
connections, writer thread and claims), built from the run's options, loading each
session exactly as a run of one process does. The request budget is the shared one (the
file beside the FastF1 cache, or the database's), so N workers keep FastF1's limits
together.

Worker -> parent, over one pipe per worker (no shared queue, whose lock a killed worker
could take with it): its log records (written by the parent's handlers: one console, one
log file), each outcome, its FastF1 loads and requests, an abort (a spent budget with
``--no-wait``) or a stop. Parent -> worker: the next plan, or none.

Stops: SIGINT reaches every process of the terminal's group, and the parent passes
SIGTERM and SIGHUP on, so a platform's stop reaches the workers: each rolls back what it
was writing, reports and exits; the parent prints the summary and exits with the signal's
code. A worker killed outright (the out-of-memory killer, kill -9) fails the sessions it
held (the database rolls their transactions back) and the others go on. If the parent is
killed outright, the workers are stopped too (Linux: ``PR_SET_PDEATHSIG``), each rolling
back: nothing stored is lost or doubled.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterator

from ..errors import F1DBError, Interrupted, RunAborted
from ..plan import SessionPlan
from ..records import Failed, Outcome, SessionKey, SessionRef
from ..signals import STOP_SIGNALS, stop_on_signals

log = logging.getLogger("f1db")

# The loggers whose records a worker sends to the parent (the parent's own configuration
# then decides where each goes, as for its own records).
FORWARDED_LOGGERS = ("f1db", "fastf1", "sqlalchemy", "py.warnings", "")


def forwarded_log_levels() -> dict[str, int]:
    """Per forwarded logger, the level the parent's configuration lets through."""
    return {name: logging.getLogger(name or None).getEffectiveLevel()
            for name in FORWARDED_LOGGERS}


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker is built from: the populator's keyword arguments and, per logger,
    the level the parent's configuration lets through."""

    options: dict
    log_levels: dict[str, int]


@dataclass
class _Worker:
    number: int
    process: multiprocessing.process.BaseProcess
    connection: Connection
    in_hand: dict[SessionKey, SessionRef]
    ended: str | None = None            # "finished", "stopped", "aborted"


class WorkerPool:
    """The parent's side: hands out ``plans``, relays the workers' log records, records
    their outcomes in the summary through ``record``."""

    def __init__(self, spec: WorkerSpec, plans: list[SessionPlan], jobs: int, *,
                 record: Callable[[Outcome], None], stop_wait: float):
        self.spec, self.work = spec, collections.deque(plans)
        self.jobs = min(jobs, len(plans))
        self.record, self.stop_wait = record, stop_wait
        self.workers: list[_Worker] = []
        self.aborted: RunAborted | None = None
        self.stopping = False
        self.fastf1_loads = 0
        self.requests = 0

    def start(self) -> None:
        """Start the workers: forked on Linux (a worker starts in milliseconds with
        everything imported; the caller has closed its database connections, so none is
        shared), spawned elsewhere."""
        # Not on macOS, whose system libraries are not safe to use after a fork.
        forks = sys.platform.startswith("linux")
        context = multiprocessing.get_context("fork" if forks else "spawn")
        for number in range(1, self.jobs + 1):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=worker_main, name=f"f1db-worker-{number}",
                                      args=(self.spec, child_end, number), daemon=True)
            process.start()
            child_end.close()
            self.workers.append(_Worker(number, process, parent_end, {}))

    def outcomes(self) -> Iterator[Outcome]:
        """Serve the started workers until every plan is done; yields each outcome as it
        arrives (for the progress display). A stop (Interrupted) is passed on to the
        workers, waited for (``stop_wait``), then raised."""
        try:
            yield from self._serve()
        except Interrupted as stop:
            self.stopping = True
            self._pass_on(stop.signal_number)
            deadline = time.monotonic() + self.stop_wait
            for _ in self._serve(deadline):
                pass
            raise
        finally:
            self._end_stragglers()

    # -- the parent's loop -------------------------------------------------------------------

    def _serve(self, deadline: float | None = None) -> Iterator[Outcome]:
        """Wait for the workers (a stop may interrupt the wait), then read and handle what
        they sent with the stop signals held back: a stop in the middle of reading a
        message would leave the pipe's stream cut, a half-handled worker counted twice."""
        while live := [worker for worker in self.workers if worker.ended is None
                       or worker.process.is_alive()]:
            if deadline is not None and time.monotonic() > deadline:
                return
            ready = wait([worker.connection for worker in live if not worker.connection.closed]
                         + [worker.process.sentinel for worker in live], timeout=1.0)
            outcomes: list[Outcome] = []
            with _stop_signals_held():
                for worker in live:
                    if not worker.connection.closed and worker.connection in ready:
                        outcomes += self._receive(worker)
                    elif worker.connection.closed and worker.process.sentinel in ready:
                        outcomes += self._gone(worker)
            yield from outcomes

    def _receive(self, worker: _Worker) -> list[Outcome]:
        outcomes: list[Outcome] = []
        try:
            while worker.connection.poll():
                outcomes += self._handle(worker, worker.connection.recv())
        except (EOFError, OSError):
            worker.connection.close()
            outcomes += self._gone(worker)
        return outcomes

    def _handle(self, worker: _Worker, message: tuple) -> list[Outcome]:
        kind = message[0]
        if kind == "log":
            record = message[1]
            logger = logging.getLogger(None if record.name == "root" else record.name)
            if logger.isEnabledFor(record.levelno):
                logger.handle(record)
        elif kind == "ready":
            plan = None if (self.stopping or self.aborted) or not self.work else \
                self.work.popleft()
            if plan is not None:
                worker.in_hand[plan.ref.key] = plan.ref
            worker.connection.send(("plan", plan))
        elif kind == "outcome":
            outcome = message[1]
            worker.in_hand.pop(outcome.ref.key, None)
            self.record(outcome)
            return [outcome]
        elif kind == "counts":
            self.fastf1_loads += message[1]
            self.requests += message[2]
        elif kind == "aborted":
            worker.ended = "aborted"
            if self.aborted is None:
                self.aborted = RunAborted(message[1])
                self.aborted.exit_code = message[2]
        elif kind in ("stopped", "finished"):
            worker.ended = worker.ended or kind
        return []

    def _gone(self, worker: _Worker) -> list[Outcome]:
        """A worker whose pipe closed: ended as asked, or killed with sessions in hand."""
        worker.process.join(timeout=self.stop_wait)
        if worker.ended is None:
            worker.ended = "killed"
        how = _how_it_ended(worker.process.exitcode)
        outcomes: list[Outcome] = []
        if worker.ended == "stopped" or self.stopping:
            worker.in_hand.clear()        # rolled back by the stop, as in one process
        for ref in worker.in_hand.values():
            reason = (f"its worker process {how} while loading it; what it had written "
                      f"was rolled back: rerun to load it")
            outcomes.append(Failed(ref, F1DBError, reason))
        worker.in_hand.clear()
        if not any(other.process.is_alive() for other in self.workers) and self.work \
                and not (self.stopping or self.aborted):
            reason = "not loaded: every worker process ended before it (see above)"
            outcomes += [Failed(plan.ref, F1DBError, reason) for plan in self.work]
            self.work.clear()
        for failed in outcomes:
            log.error("Failed %s: %s", failed.ref.label, failed.reason)
            self.record(failed)
        return outcomes

    def _pass_on(self, number: int) -> None:
        for worker in self.workers:
            if worker.process.is_alive():
                try:
                    os.kill(worker.process.pid, signal.SIGTERM if number == signal.SIGINT
                            else number)
                except ProcessLookupError:
                    pass

    def _end_stragglers(self) -> None:
        for worker in self.workers:
            worker.process.join(timeout=0 if self.stopping else self.stop_wait)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP held back (delivered when the block ends)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"ended with exit code {exitcode}"


# -- the worker's side -------------------------------------------------------------------------

class _Sender:
    """The worker's end of the pipe, for the main thread and the writer thread alike."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self._lock = threading.Lock()

    def __call__(self, message: tuple) -> None:
        with self._lock:
            self.connection.send(message)

    def next_plan(self) -> SessionPlan | None:
        with self._lock:
            self.connection.send(("ready",))
            return self.connection.recv()[1]


class _ToParent(logging.Handler):
    """Log records as the parent can unpickle them (message formatted, traceback as text)."""

    def __init__(self, send: _Sender):
        super().__init__()
        self.send = send
        self.setFormatter(logging.Formatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.exc_info:
                record.exc_text = self.formatter.formatException(record.exc_info)
            record.msg, record.args = record.getMessage(), None
            record.exc_info = None
            self.send(("log", record))
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def worker_main(spec: WorkerSpec, connection: Connection, number: int) -> None:
    """A worker process: load the plans the parent hands out until it hands out none."""
    _stop_with_parent()
    from ..sources.fastf1_source import import_fastf1

    import_fastf1()        # FastF1 installs its own console handler on import: replaced below
    send = _Sender(connection)
    handler = _ToParent(send)
    for name, level in spec.log_levels.items():
        logger = logging.getLogger(name or None)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = name == ""
    logging.captureWarnings(True)

    from ..populator import DatabasePopulator    # the run imports this module

    populator = None
    with stop_on_signals():
        try:
            populator = DatabasePopulator(**spec.options)
            loads, requests = populator.serve_plans(send.next_plan,
                                                    lambda outcome: send(("outcome", outcome)))
            send(("counts", loads, requests))
            send(("finished",))
        except RunAborted as error:
            send(("aborted", str(error), error.exit_code))
        except Interrupted:
            send(("stopped",))
        except F1DBError as error:            # its start-up failed: the run cannot go on
            send(("aborted", f"worker {number}: {error}", error.exit_code))
        finally:
            if populator is not None:
                populator.close()
            connection.close()


def _stop_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (kill -9 included), so a
    worker never loads on alone; elsewhere, nothing (documented)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:                       # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)
