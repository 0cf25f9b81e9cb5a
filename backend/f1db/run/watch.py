"""``--watch``: keep the current season fresh, one run per poll.

Each poll is an ordinary run with watch mode's rules (plan.Watching): a session is loaded
once it has ended plus ``delay``; its missing parts are retried until it is
``give_up_after`` old. One log line per poll; a stop signal ends the watch between polls
or inside one (then the run's own summary says so).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from ..errors import Interrupted
from ..plan import Watching
from ..records import SkipReason
from ..summary import RunSummary

log = logging.getLogger("f1db")


def watch(run_once: Callable[[Watching], RunSummary], *, clock, poll_seconds: float,
          delay: dt.timedelta, give_up_after: dt.timedelta,
          polls: int | None = None) -> RunSummary:
    """Poll until stopped (or ``polls`` polls); returns the last poll's summary."""
    watching = Watching(delay=delay, give_up_after=give_up_after)
    poll = 0
    while True:
        poll += 1
        summary = run_once(watching)
        if summary.stopped or summary.aborted:
            return summary
        waiting = sum(1 for entry in summary.sessions
                      if entry.skip_reason == SkipReason.WAITING_FOR_DATA.value)
        log.info("Watch poll %s: %s loaded, %s failed, %s waiting for data, %s parts "
                 "missing; next poll in %s min", poll, summary.sessions_loaded,
                 summary.sessions_failed, waiting, len(summary.missing),
                 round(poll_seconds / 60, 1))
        if polls is not None and poll >= polls:
            return summary
        try:
            clock.sleep(poll_seconds)
        except Interrupted as stop:
            summary.record_stop(stop)
            return summary
