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
from typing import Iterator

from .errors import Interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_received: list[Interrupted] = []


def received() -> Interrupted | None:
    """The stop this process was asked for first, if any (also once the exception was
    caught: a rollback that fails after a stop must not be mistaken for a database fault)."""
    return _received[0] if _received else None


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
            raise stop

    saved = {number: signal.signal(number, handler) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, previous in saved.items():
            # After a stop the process is on its way out with its exit code: a later
            # signal must not replace that code with a kill by the default handler.
            signal.signal(number, signal.SIG_IGN if _received else previous)
