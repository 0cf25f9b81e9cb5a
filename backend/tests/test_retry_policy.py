"""The one retry policy (run/retry.py): which errors are retried, how long it waits, and
what a session given up on says. The paths through it (a failed attempt, a failed write
in the writer thread) are tested end to end in test_failures_mid_run and
test_overlapped_writes."""

from __future__ import annotations

import random

import pytest

from f1db.errors import F1DBError, FetchError, TransientError, WriteError
from f1db.records import SessionKey, SessionRef
from f1db.run.retry import MAX_WAIT_SECONDS, RetryPolicy

REF = SessionRef(SessionKey(2021, 14, "Practice 2"), "Italian Grand Prix", "Italy", "Monza",
                 "conventional", None)


class Clock:
    def __init__(self):
        self.slept: list[float] = []

    def sleep(self, seconds):
        self.slept.append(seconds)


def policy(retries=3, first_wait=10.0, seed=1):
    clock = Clock()
    return RetryPolicy(retries=retries, first_wait=first_wait, clock=clock,
                       rng=random.Random(seed)), clock


def test_transient_errors_are_retried_until_the_retries_are_spent(caplog):
    retry, clock = policy(retries=2)
    error = TransientError("database connection problem: connection reset")
    assert [retry.retry(REF.label, error, attempt) for attempt in (1, 2, 3)] == [True, True, False]
    assert len(clock.slept) == 2
    assert "retrying in" in caplog.text and "(attempt 2 of 3)" in caplog.text
    assert "(attempt 3 of 3)" in caplog.text


@pytest.mark.parametrize("error", [FetchError("FastF1 failed to load: KeyError: 'x'"),
                                   WriteError("laps: the database refused the rows"),
                                   F1DBError("database error: relation laps does not exist")])
def test_other_errors_fail_at_once_with_their_own_words(error):
    retry, clock = policy()
    assert retry.retry(REF.label, error, 1) is False and clock.slept == []
    failed = retry.failed(REF, error, 1)
    assert (failed.error, failed.reason, failed.attempts) == (type(error), str(error), 1)


def test_a_transient_error_given_up_on_says_how_often_it_was_tried():
    retry, _ = policy(retries=3)
    failed = retry.failed(REF, TransientError("network fault: HTTP 503"), 4)
    assert failed.reason == "gave up after 4 attempts: network fault: HTTP 503"
    assert failed.error is TransientError and failed.ref == REF


def test_backoff_is_full_jitter_doubling_up_to_the_ceiling():
    retry, _ = policy(first_wait=10.0, seed=7)
    for attempt in range(1, 12):
        ceiling = min(MAX_WAIT_SECONDS, 10.0 * 2 ** (attempt - 1))
        waits = [retry.backoff(attempt) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > 0.8 * ceiling          # the whole range is used
    assert policy(first_wait=0.0)[0].backoff(5) == 0.0     # --retry-wait 0: no wait
