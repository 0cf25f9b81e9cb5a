"""SIGINT, SIGTERM and SIGHUP as an exception, so a stop unwinds like any error: the session
in flight is rolled back by its transaction, the summary is written, and the process exits
130, 143 or 129 (Cloud Run and Kubernetes send SIGTERM before they kill a task; a closed
terminal sends SIGHUP).

Only the first stop is raised. A second signal while the first one unwinds (Ctrl-C pressed
twice, a platform sending SIGTERM again) is noted and otherwise ignored: raised in the middle
of the rollback or of writing the summary, it would skip both. The rollback of the write in
flight waits at most 30 s; SIGKILL still ends the process at once."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

from .errors import Interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_received: list[Interrupted] = []
_pending: list[Interrupted] = []     # a first stop noted inside ``deferred``, not raised yet
_deferral = 0                        # depth of ``deferred`` blocks (main thread only)


def received() -> Interrupted | None:
    """The stop this process was asked for first, if any (also once the exception was
    caught: a rollback that fails after a stop must not be mistaken for a database fault)."""
    return _received[0] if _received else None


def stops_received() -> int:
    """How many stop signals this process has received so far (a later count that is
    higher: a stop came in between)."""
    return len(_received)


def raise_if_received() -> None:
    """Raise the stop this process was asked for, if any: how code that no signal handler
    interrupts (the writer thread, a loop between chunks) ends promptly after a stop."""
    if _received:
        raise _received[0]


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise :class:`Interrupted` in the main thread."""

    def handler(number, _frame):
        stop = Interrupted(number, signal.Signals(number).name)
        first = not _received
        _received.append(stop)
        if first:
            if _deferral:
                _pending.append(stop)        # raised where the deferral allows (below)
            else:
                raise stop

    saved = {number: signal.signal(number, handler) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, previous in saved.items():
            # After a stop the process is on its way out with its exit code: a later
            # signal must not replace that code with a kill by the default handler.
            signal.signal(number, signal.SIG_IGN if _received else previous)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """While inside, a stop is noted but not raised: it is raised when the outermost
    ``deferred`` block ends, or in an ``interruptible`` window inside it.

    For steps that a stop must not cut in two: a message half written to or read from a
    pipe (run/jobs.py), after which the stream is garbage. The handler only ever runs in
    the main thread, so in any other thread this does nothing.
    """
    global _deferral
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferral += 1
    try:
        yield
    finally:
        _deferral -= 1
    if not _deferral and _pending:
        raise _pending.pop()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Inside ``deferred``: a window where a stop is raised at once (a blocking wait); a
    stop noted before the window is raised as it opens."""
    global _deferral
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved, _deferral = _deferral, 0
    try:
        if _pending:
            raise _pending.pop()
        yield
    finally:
        _deferral = saved
