"""The one retry policy: every attempt of a session, and every write, goes through it.

A session either stores whole or not at all (one transaction), so any fault may simply be
retried; but retrying what cannot pass wastes the rate-limited FastF1 budget and hides the
cause. A ``TransientError`` (faults.py says which database and network errors are) is
retried ``retries`` times with exponential backoff and full jitter (a random wait up to
``first_wait`` x 2^(attempt - 1), at most ``MAX_WAIT_SECONDS``, so that workers which
failed together do not retry together); any other library error fails the session at
once. FastF1's own rate limit is no failed attempt: the caller waits it out and tries again.
"""

from __future__ import annotations

import logging
import random

from ..errors import F1DBError, TransientError
from ..records import Failed, SessionRef

log = logging.getLogger("f1db")

MAX_WAIT_SECONDS = 300


class RetryPolicy:
    def __init__(self, *, retries: int, first_wait: float, clock,
                 max_wait: float = MAX_WAIT_SECONDS, rng: random.Random | None = None):
        self.retries, self.first_wait, self.max_wait = retries, first_wait, max_wait
        self.clock = clock
        self._random = rng or random.Random()

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): full jitter."""
        return self._random.uniform(0, min(self.max_wait,
                                           self.first_wait * 2 ** (attempt - 1)))

    def retry(self, what: str, error: F1DBError, attempt: int) -> bool:
        """After ``attempt`` at ``what`` (a session's label, "start-up") failed with
        ``error``: whether to try again. When yes, the wait is logged and slept here (a
        stop signal interrupts the sleep)."""
        if not isinstance(error, TransientError) or attempt > self.retries:
            return False
        wait = self.backoff(attempt)
        log.warning("%s: %s; retrying in %.0f s (attempt %s of %s)", what, error, wait,
                    attempt + 1, self.retries + 1)
        self.clock.sleep(wait)
        return True

    @staticmethod
    def failed(ref: SessionRef, error: F1DBError, attempts: int) -> Failed:
        """The outcome of a session given up on after ``attempts``."""
        reason = (f"gave up after {attempts} attempts: {error}"
                  if isinstance(error, TransientError) else str(error))
        return Failed(ref, type(error), reason, attempts)
