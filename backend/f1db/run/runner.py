"""The sessions of a run, in schedule order: each job under the one retry policy, its write
overlapped with the next load where the dialect wants it, outcomes reported in order.

For each planned session:

1. a plan that skips it (from the ledger read at the start) is reported at once;
2. an attempt fetches it (session_job.py); a transient fault retries the attempt after a
   backoff (retry.py), any other library error fails the session, FastF1's own rate
   limit is waited out without counting as an attempt;
3. the fetched session is written: inline, or handed to the writer thread
   (write_behind.py) while the next session loads. A write that fails comes back to this
   thread through the same policy: retried inline (FastF1 reads its own cache again),
   with the attempts counted on, or failed.

Outcomes are reported in schedule order: while a write is in flight, later outcomes wait
for it. A stop (SIGINT, SIGTERM) or an aborted run (RunAborted) leaves through the caller,
who lets the write in flight settle.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ..errors import F1DBError, RunAborted
from ..plan import SessionPlan
from ..records import Failed, Loaded, Outcome, SessionKey, Skipped
from ..sources.fastf1_source import FastF1RateLimited
from .retry import RetryPolicy
from .session_job import Fetched, RunContext, SessionJob
from .write_behind import WriteBehind

Report = Callable[[Outcome], None]


class SessionRunner:
    """Runs planned sessions one after another (see the module's doc).

    ``writer``: the writer thread when writes overlap the next load, else None (every
    session written before the next loads). ``last``: the selection's last session, whose
    write has the process to itself (it streams instead of being prepared first).
    """

    def __init__(self, context: RunContext, policy: RetryPolicy, report: Report, *,
                 writer: WriteBehind | None, last: SessionKey | None):
        self.context, self.policy, self._report_now = context, policy, report
        self.writer, self.last = writer, last
        self._pending: list[Outcome] = []

    def run(self, plan: SessionPlan, *, attempts_before: int = 0) -> None:
        if plan.skipped:
            self._report(Skipped(plan.ref, plan.skip))
            return
        job = SessionJob(plan.ref, self.context)
        inline = attempts_before > 0 or self.writer is None
        attempt = attempts_before
        while True:
            attempt += 1
            try:
                result = (job.load() if inline
                          else job.fetch(prepare=plan.ref.key != self.last))
            except FastF1RateLimited as limited:
                attempt -= 1                   # waited out, not a failed attempt
                self.context.source.wait_out(limited)
                continue
            except RunAborted:
                raise
            except F1DBError as error:
                if self.policy.retry(plan.ref.label, error, attempt):
                    continue
                self._fail(job, self.policy.failed(plan.ref, error, attempt))
                return
            break
        if isinstance(result, Fetched):
            self._hand_over(job, plan, result, attempt)
        elif isinstance(result, Loaded):
            self._report(_with_attempts(result, attempt))
        else:
            self._report(result)

    def finish(self) -> None:
        """Wait for the last write and report what is still pending."""
        if self.writer is not None:
            self.writer.finish()
        self._flush()

    def settle(self, timeout: float) -> None:
        """After a stop or an aborted run: let the write in flight end (writer.settle),
        then report what is pending."""
        if self.writer is not None:
            self.writer.settle(timeout)
        self._flush()

    # -- internals -------------------------------------------------------------------------

    def _hand_over(self, job: SessionJob, plan: SessionPlan, fetched: Fetched,
                   attempt: int) -> None:
        """Give the write to the writer thread; its outcome comes back through ``written``
        in this thread, when the next session is handed over or the run ends."""

        def written(loaded: Loaded | None, error: BaseException | None) -> None:
            try:
                if error is None:
                    self._report_now(_with_attempts(loaded, attempt))
                elif not isinstance(error, F1DBError):
                    raise error           # a stop, or a bug: as if it had happened here
                elif self.policy.retry(plan.ref.label, error, attempt):
                    self.run(plan, attempts_before=attempt)
                else:
                    self._fail(job, self.policy.failed(plan.ref, error, attempt), now=True)
            finally:
                self._flush()

        try:
            self.writer.submit(lambda: job.write(fetched), written)
        except BaseException as error:    # the previous write's outcome raised (a stop)
            fetched.abandon(error)
            raise

    def _fail(self, job: SessionJob, failed: Failed, *, now: bool = False) -> None:
        (self._report_now if now else self._report)(failed)
        job.record_failure(failed.reason)

    def _report(self, outcome: Outcome) -> None:
        """Report in schedule order: while a write is in flight, after it."""
        if self.writer is not None and self.writer.busy:
            self._pending.append(outcome)
        else:
            self._report_now(outcome)

    def _flush(self) -> None:
        while self._pending:
            self._report_now(self._pending.pop(0))


def _with_attempts(loaded: Loaded, attempts: int) -> Loaded:
    return replace(loaded, attempts=attempts)
