"""Write session N while FastF1 loads session N+1: one writer thread, one session at a time.

FastF1's ``Session.load`` is single-threaded Python, and most of a write is the database
server's work (COPY parsing, index upkeep) in its own process, so on two cores the two
overlap well; a thread is enough because both sides spend that time outside the GIL or in
another process. The populator keeps everything else in the main thread (claims, plans,
retries, the summary, signals) and hands over only the write itself:

* ``submit(job, done)`` first finishes the previous job, so at most one session is being
  written while the next one loads, and memory holds at most those two;
* ``done(result, error)`` runs in the main thread (inside the next ``submit`` or
  ``finish``), so the summary and any retry stay single-threaded;
* a stop (SIGINT/SIGTERM) is raised in the main thread; the job notices it between
  chunks (``signals.raise_if_received``), rolls back and ends, and ``finish`` waits for that.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)

Done = Callable[[object, BaseException | None], None]


class WriteBehind:
    """Runs ``job()`` callables in a background thread, one at a time."""

    def __init__(self):
        self._thread: threading.Thread | None = None
        self._ended = threading.Event()   # set by the job's thread as its last act
        self._done: Done | None = None
        self._result: object = None
        self._error: BaseException | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def submit(self, job: Callable[[], object], done: Done) -> None:
        """Finish the job in flight (delivering its outcome), then start ``job``."""
        self.finish()
        self._result, self._error, self._done = None, None, done
        self._ended.clear()
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True,
                                        name="f1db-writer")
        self._thread.start()

    def finish(self) -> None:
        """Wait for the job in flight, then hand its outcome to its ``done`` callback.

        The wait can be interrupted by a stop signal (the exception propagates; call
        :meth:`settle` afterwards so the job can roll back before the process exits).
        """
        if self._thread is None:
            return
        # Wait on an Event, not Thread.join(): a join interrupted by a signal handler's
        # exception marks a still-running thread as stopped (CPython 3.11).
        self._ended.wait()
        self._thread.join()
        done, result, error = self._take()
        done(result, error)

    def settle(self, timeout: float | None = None) -> None:
        """After a stop or an aborted run: let the job in flight end without starting
        anything new. A job that committed is delivered to ``done`` as usual (it is stored,
        so the summary must say so); one that failed, typically by noticing the stop and
        rolling back, is not delivered (no retry, no failure record: the run is ending)."""
        if self._thread is None:
            return
        if not self._ended.wait(timeout):
            log.warning("The write in flight did not end within %s s; exiting anyway "
                        "(the database rolls it back when the connection closes)", timeout)
            return
        if self._error is None:
            self.finish()
            return
        log.info("The write in flight ended: %s", self._take()[2])

    def _take(self) -> tuple[Done, object, BaseException | None]:
        """The ended job's callback and outcome; the writer is idle again."""
        taken = self._done, self._result, self._error
        self._thread = self._done = None
        self._result = self._error = None
        return taken

    def _run(self, job: Callable[[], object]) -> None:
        try:
            self._result = job()
        except BaseException as error:   # delivered to the main thread by finish()
            self._error = error
        finally:
            self._ended.set()
