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
from ..signals import STOP_SIGNALS, deferred, interruptible, stop_on_signals, stops_received

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
        self._stops_at_start = stops_received()

    def start(self) -> None:
        """Start the workers: forked on Linux (a worker starts in milliseconds with
        everything imported; the caller has closed its database connections, so none is
        shared), spawned elsewhere."""
        # Not on macOS, whose system libraries are not safe to use after a fork.
        forks = sys.platform.startswith("linux")
        context = multiprocessing.get_context("fork" if forks else "spawn")
        for number in range(1, self.jobs + 1):
            parent_end, child_end = context.Pipe()
            # A forked worker inherits the parent's ends of the earlier workers' pipes:
            # it closes them, so that only the parent holds them.
            earlier = [worker.connection for worker in self.workers] if forks else []
            process = context.Process(target=worker_main, name=f"f1db-worker-{number}",
                                      args=(self.spec, child_end, number, earlier),
                                      daemon=True)
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
        """Wait for the workers, then read and handle what they sent. The caller runs the
        pool inside ``signals.deferred``: a stop is raised only in the wait (or as it
        begins), never while a message is half read or half handled, or a plan half sent;
        the pipes' streams stay whole and every outcome is recorded once."""
        while live := [worker for worker in self.workers if worker.ended is None
                       or worker.process.is_alive()]:
            if deadline is not None and time.monotonic() > deadline:
                return
            with interruptible():
                ready = wait([worker.connection for worker in live
                              if not worker.connection.closed]
                             + [worker.process.sentinel for worker in live], timeout=1.0)
            outcomes: list[Outcome] = []
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
        except Exception:            # end of file, or a stream the worker left cut
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
        run_stopped = self.stopping or stops_received() > self._stops_at_start
        if run_stopped or worker.ended == "aborted":
            # Rolled back by the run's stop or abort, as in one process: no outcome.
            worker.in_hand.clear()
        elif worker.ended == "stopped":
            how = "was stopped by a signal sent to it alone"
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
            self.record(failed)              # which logs it
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
        with self._lock, deferred():           # a stop never cuts a message in two
            self.connection.send(message)

    def next_plan(self) -> SessionPlan | None:
        with self._lock, deferred():
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
        except Exception:  # pragma: no cover - the parent is gone: nowhere to log to
            pass


def worker_main(spec: WorkerSpec, connection: Connection, number: int,
                inherited: list[Connection] = ()) -> None:
    """A worker process: load the plans the parent hands out until it hands out none.

    Whatever ends it is reported over the pipe and nothing reaches the console: the stop
    signals are held back until its own handlers are in place, a crash is logged (the
    traceback goes to the parent's log file) and the process exits 1.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    _stop_with_parent()
    for other in inherited:
        other.close()
    send = _Sender(connection)
    populator, exit_code = None, 0
    with stop_on_signals():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        try:
            _log_to_parent(send, spec.log_levels)
            from ..populator import DatabasePopulator    # the run imports this module

            populator = DatabasePopulator(**spec.options)
            populator.serve_plans(send.next_plan, lambda outcome: send(("outcome", outcome)))
            send(("finished",))
        except RunAborted as error:
            send(("aborted", str(error), error.exit_code))
        except Interrupted:
            send(("stopped",))
        except F1DBError as error:            # its start-up failed: the run cannot go on
            send(("aborted", f"worker {number}: {error}", error.exit_code))
        except BaseException as error:       # a bug, or the parent gone (a broken pipe)
            exit_code = 1
            log.error("Worker %s crashed: %s: %s", number, type(error).__name__, error,
                      exc_info=True)
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            _close_quietly(populator, send)
    os._exit(exit_code)


def _log_to_parent(send: _Sender, log_levels: dict[str, int]) -> None:
    from ..sources.fastf1_source import import_fastf1

    import_fastf1()        # FastF1 installs its own console handler on import: replaced here
    handler = _ToParent(send)
    for name, level in log_levels.items():
        logger = logging.getLogger(name or None)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = name == ""
    logging.captureWarnings(True)


def _close_quietly(populator, send: _Sender) -> None:
    """The worker's FastF1 loads and requests for the summary (whatever ended it), then
    its connections closed; a parent that is gone changes nothing."""
    try:
        if populator is not None:
            send(("counts", populator.source.loads, populator.source.requests))
    except Exception:
        pass
    try:
        if populator is not None:
            populator.close()
    except Exception:
        pass
    try:
        send.connection.close()
    except Exception:
        pass


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
