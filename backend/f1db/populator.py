"""The batch run: plan -> fetch -> transform -> load -> summary, one session at a time.

The only module that knows every stage; each stage is a named step below, and the
summary records one outcome per session (docs/ARCHITECTURE.md, "The pipeline").

Each session is one attempt after another until it is stored, skipped or given up on:

1. plan it from the ledger read at the start (stored sessions cost nothing);
2. wait, if need be, until the request budget has room for it;
3. claim it (claims.py); skip it if another worker holds it; read its ledger entry again;
4. fetch, transform and store it in one transaction, which ends before the claim does.

A transient fault (faults.py) rolls the attempt back and retries it with exponential
backoff and full jitter (tenacity), ``retries`` times; a permanent one fails the session
at once. Either way the run goes on with the next session. A stop (SIGINT, SIGTERM:
signals.py) or a spent budget with ``wait_for_budget=False`` ends the run with a summary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from . import signals
from .budget import SystemClock
from .claims import SessionClaims, wait_for_lock, writing_transaction
from .config import resolve_cache_dir, resolve_database
from .db import Database, open_database
from .errors import (F1DBError, FetchError, Interrupted, RunAborted,
                     TransientError, UsageError)
from .faults import as_f1db_error, describe, is_database_error
from .fetch import (FastF1RateLimited, FastF1Source, estimated_requests, session_name,
                    unmeasured_layout)
from .ledger import (read_event_counts, read_failures, read_ledger, record_failure,
                     write_ledger)
from .dialects import dialect_of
from .dialects.pg_copy import PreparedCopy
from .load import (CIRCUIT_TABLES, measured_layout_stored, prepare_rows,
                   replace_season_schedule, replace_session_rows)
from .models import EVENT_TABLES, Base
from .plan import SessionPlan, Watching, freshness_from, parts_to_record, plan_session
from .progress import NullProgress
from .records import (EventRef, FailureRecord, FetchedSession, LedgerEntry, PartStatus,
                      SessionKey, SessionRef)
from .schema import require_current_schema, schema_state
from .selection import (RIDE_ALONG, WITHOUT_LOAD, check_max_events, check_years,
                        choose_tables, select_sessions, tables_of_session)
from .shard import Shard, parse_shard, shard_from_environment, shard_keys
from .summary import RunSummary
from .transform import schedule_tables, session_tables
from .write_behind import WriteBehind

log = logging.getLogger("f1db")

MAX_RETRY_WAIT_SECONDS = 300
STOP_WAIT_SECONDS = 30     # a stop waits this long for the write in flight to roll back


@dataclass(frozen=True)
class _Stored:
    counts: dict[str, tuple[int, int]]
    parts: dict[str, tuple[PartStatus, str | None]]
    note: str | None
    seconds: dict[str, float]


@dataclass
class _Write:
    """A fetched session waiting to be written: its claim (held since before the load,
    released when the write's transaction ends), its lazy table chunks and ledger parts."""

    ref: SessionRef
    claim: object
    exit_claim: contextlib.ExitStack
    tables: dict
    parts: dict[str, tuple[PartStatus, str | None]]
    note: str | None
    seconds: dict[str, float] = field(default_factory=dict)
    unmeasured_layout: bool = False     # its circuit layout came without marker distances

    def abandon(self, error: BaseException) -> None:
        """Roll back and release the claim without writing (a stop, a failed hand-over)."""
        self.tables.clear()
        self.exit_claim.__exit__(type(error), error, error.__traceback__)


class DatabasePopulator:
    """Fill a database with seasons of FastF1 sessions; rerun at any time to resume.

    Args:
        year: a season, or several (any iterable of years).
        database_url: any SQLAlchemy URL; None follows DATABASE_URL / Cloud SQL / SQLite.
        events: event names (fuzzy) or round numbers, looked up in every season; empty
            means every event.
        sessions: session identifiers (FP1 ... R or full names); empty means all.
        tables: table names to fill; None means all (see ``selection.choose_tables``).
        force: reload sessions already stored, replacing their rows.
        offline: FastF1 offline mode, cache only.
        cache_dir: FastF1 cache folder (default: FASTF1_CACHE_DIR, then backend/fastf1_cache).
        include_testing: also walk pre-season testing events (stored as rounds -1, -2).
        progress: a NullProgress/TqdmProgress.
        shard: ``"K/N"`` or a Shard: only this worker's share of the selection; None
            follows CLOUD_RUN_TASK_INDEX/COUNT or JOB_COMPLETION_INDEX/SHARD_COUNT.
        retries: new attempts of a session after a transient fault.
        retry_wait: seconds of the first backoff (doubled per attempt, full jitter).
        wait_for_budget: when the hour's request budget is spent, wait for it (True) or
            end the run with exit code 3 (False).
        requests_per_hour: this machine's budget of live timing requests (at most 500).
        refresh_older_than: days (``30``) or a FastF1 version (``"3.9.0"``): reload
            sessions stored before then or by an older FastF1.
        clock: time() and sleep() (tests pass a fake one).
        overlap: on PostgreSQL, write each session in a background thread while FastF1
            loads the next (write_behind.py); False (and SQLite) writes each session
            before loading the next.

    Building one checks the arguments and applies no setting: FastF1's process-wide cache
    settings are applied when a run starts. Session names are resolved through FastF1's
    own table, so FastF1 is imported when ``sessions`` is given.
    """

    def __init__(self, year: int | Iterable[int] = 2018, *, database_url: str | None = None,
                 events: tuple[str, ...] = (), sessions: tuple[str, ...] = (),
                 tables: tuple[str, ...] | None = None, force: bool = False,
                 offline: bool = False, cache_dir: str | Path | None = None,
                 include_testing: bool = False, progress: NullProgress | None = None,
                 shard: Shard | str | None = None, retries: int = 3,
                 retry_wait: float = 10.0, wait_for_budget: bool = True,
                 requests_per_hour: int = 500, refresh_older_than: float | str | None = None,
                 clock=None, overlap: bool = True):
        self.years = check_years(year)
        self.events = tuple(events)
        self.session_ids = tuple(sessions)
        for identifier in self.session_ids:       # unknown names fail now, not mid-run
            session_name(identifier, self.years[0])
        self.tables = choose_tables(None if tables is None else tuple(tables))
        self.force = force
        self.include_testing = include_testing
        self.progress = progress or NullProgress()
        self.shard = (parse_shard(shard) if isinstance(shard, str)
                      else shard or shard_from_environment())
        self.retries = _count(retries, "retries")
        self.retry_wait = _seconds(retry_wait, "retry_wait")
        self.refresh = freshness_from(refresh_older_than)
        self.clock = clock or SystemClock()
        self.target = resolve_database(database_url)
        if not 1 <= _count(requests_per_hour, "requests_per_hour") <= 500:
            raise UsageError(f"The request budget must be 1 to 500 an hour (FastF1's own "
                             f"limit), not {requests_per_hour}", parameter="requests_per_hour")
        self.source = FastF1Source(
            cache_dir=resolve_cache_dir(None if cache_dir is None else str(cache_dir)),
            offline=offline, requests_per_hour=requests_per_hour,
            wait_for_budget=wait_for_budget, clock=self.clock,
            countdown=lambda seconds, reason: self.progress.countdown(seconds, reason,
                                                                      self.clock))
        self.database: Database | None = None
        self.overlap = overlap
        self.writer = WriteBehind()
        self._pending_reports: list[tuple[Callable, tuple]] = []

    @property
    def year(self) -> int:
        """The first season (kept for callers of the one-season API)."""
        return self.years[0]

    # -- selection -------------------------------------------------------------------------

    def select(self, max_events: int | None = None) -> list[tuple[EventRef, list[SessionRef]]]:
        """Events and sessions this run (this shard) covers, in schedule order."""
        max_events = check_max_events(max_events)
        self.source.start()
        selection = []
        for year in self.years:
            season = self.source.season(year, include_testing=self.include_testing)
            if self.events:
                chosen = [self.source.find_event(season, selector) for selector in self.events]
                season = list({event.round_number: event for event in chosen}.values())
            names = tuple(dict.fromkeys(session_name(s, year) for s in self.session_ids))
            selection += select_sessions(season, names, year, max_events)
        if self.shard is None:
            return selection
        mine = shard_keys((ref for _, refs in selection for ref in refs), self.shard)
        return [(event, kept) for event, refs in selection
                if (kept := [ref for ref in refs if ref.key in mine])]

    # -- the run ---------------------------------------------------------------------------

    def populate_database(self, max_events: int | None = None, *,
                          watching: Watching | None = None) -> RunSummary:
        """Load every selected session that is not already complete; return the summary.

        Ends early, with the summary saying why, on a stop signal or a spent budget.
        """
        started, loads_before = time.monotonic(), self.source.loads
        requests_before = self.source.requests
        summary = self._new_summary()
        try:
            selection = self.select(max_events)   # bad input fails before anything is written
            self._open()
            require_current_schema(self.database)
            summary.database = self.database.describe()
            summary.sessions_planned = sum(len(refs) for _, refs in selection)
            self._refresh_schedules(summary)
            log.info("Populating %s sessions of %s%s into %s", summary.sessions_planned,
                     summary.seasons, f" (shard {self.shard})" if self.shard else "",
                     summary.database)
            with self.database.engine.connect() as connection:
                ledger = read_ledger(connection, self.years)
            claims = SessionClaims(self.database.engine)
            cache_changed = self.source.offline_cache_changed_utc()
            run = _RunContext(claims, summary, cache_changed, watching,
                              last=next((refs[-1].key for _, refs in reversed(selection)
                                         if refs), None))
            for event, refs in self.progress.bar(selection, total=len(selection),
                                                 desc=summary.seasons, level=0):
                self.progress.set_description(0, f"{event.year} {event.name}")
                for ref in self.progress.bar(refs, total=len(refs), desc="sessions", level=1):
                    self.progress.set_description(1, ref.key.session_type)
                    plan = self._plan(ref, ledger.get(ref.key), cache_changed, watching)
                    self._run_session(plan, run)
            self.writer.finish()                  # the last session's write
        except RunAborted as error:
            self.writer.settle(STOP_WAIT_SECONDS)
            summary.aborted, summary.abort_exit_code = str(error), error.exit_code
            log.error("Stopped: %s", error)
        except Interrupted as stop:
            self.writer.settle(STOP_WAIT_SECONDS)
            self._record_stop(summary, stop)
        finally:
            self.writer.settle(STOP_WAIT_SECONDS)     # only busy when something unforeseen
            self._flush_reports()
        summary.fastf1_loads = self.source.loads - loads_before
        summary.requests = self.source.requests - requests_before
        summary.duration_seconds = time.monotonic() - started
        return summary

    def plan_run(self, max_events: int | None = None) -> RunSummary:
        """What a run would do, and what it would cost, without loading or writing anything.

        Reads the schedules (FastF1's cache, or the network within the budget) and the
        ledger; never calls ``Session.load``; creates no schema (an empty database is
        reported as such).
        """
        started = time.monotonic()
        summary = self._new_summary()
        selection = self.select(max_events)
        self._open()
        ledger, failures, stored_events = self._read_ledger_if_any()
        summary.database = self.database.describe()
        for year in self.years:
            season = self.source.seasons[year]      # one events row per event, one
            summary.record_schedule(                 # event_sessions row per session
                year, len(season), sum(len(event.sessions) for event in season),
                refreshed=False, stored=stored_events.get(year, 0))
        summary.sessions_planned = sum(len(refs) for _, refs in selection)
        cache_changed = self.source.offline_cache_changed_utc()
        requests = jolpica = sessions_to_load = 0
        for _, refs in selection:
            for ref in refs:
                plan = self._plan(ref, ledger.get(ref.key), cache_changed, None)
                state, next_step = _describe_plan(plan, ledger.get(ref.key),
                                                  failures.get(ref.key))
                summary.record_planned(ref, state, next_step)
                if not plan.skipped:
                    cost = estimated_requests(plan.tables)
                    requests, jolpica = requests + cost[0], jolpica + cost[1]
                    sessions_to_load += 1
        summary.estimate = self._estimate(sessions_to_load, requests, jolpica)
        summary.duration_seconds = time.monotonic() - started
        return summary

    def watch(self, max_events: int | None = None, *, poll_seconds: float = 900,
              delay: dt.timedelta = dt.timedelta(minutes=90),
              give_up_after: dt.timedelta = dt.timedelta(days=7),
              polls: int | None = None) -> RunSummary:
        """Keep the season current: each poll loads the sessions that ended ``delay`` ago
        and retries missing parts until a session is ``give_up_after`` old. The same
        plan, lock and retry code as a run; one log line per poll. Ends on a stop signal
        (or after ``polls`` polls), returning the last poll's summary."""
        watching = Watching(delay=delay, give_up_after=give_up_after)
        poll = 0
        while True:
            poll += 1
            summary = self.populate_database(max_events, watching=watching)
            if summary.stopped or summary.aborted:
                return summary
            waiting = sum(1 for entry in summary.sessions
                          if entry.reason and entry.reason.startswith("waiting for its data"))
            log.info("Watch poll %s: %s loaded, %s failed, %s waiting for data, %s parts "
                     "missing; next poll in %s min", poll, summary.sessions_loaded,
                     summary.sessions_failed, waiting, len(summary.missing),
                     round(poll_seconds / 60, 1))
            if polls is not None and poll >= polls:
                return summary
            try:
                self.clock.sleep(poll_seconds)
            except Interrupted as stop:
                self._record_stop(summary, stop)
                return summary

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
            self.database = None

    # -- steps -----------------------------------------------------------------------------

    def _new_summary(self) -> RunSummary:
        return RunSummary(years=self.years, database=self.target.describe(),
                          shard=str(self.shard) if self.shard else None)

    def _open(self) -> None:
        self.database = self.database or open_database(self.target)

    def _refresh_schedules(self, summary: RunSummary) -> None:
        """``events`` and ``event_sessions`` from the schedules this run read (no request),
        one transaction per season under the season's lock; unchanged rows are not
        rewritten. A transient fault here is logged and left for the next run: the
        sessions matter more than a calendar that is refreshed by every run."""
        for year in self.years:
            frames = schedule_tables(self.source.schedules[year], self.source.seasons[year])
            try:
                with _database_errors_classified():
                    with writing_transaction(self.database.engine,
                                             lock=f"events {year}") as connection:
                        changed = replace_season_schedule(connection, year, frames,
                                                          testing=self.include_testing)
            except TransientError as error:
                log.warning("Could not refresh the %s events (retried by the next run): %s",
                            year, error)
                continue
            summary.record_schedule(year, len(frames["events"]), len(frames["event_sessions"]),
                                    refreshed=changed)

    def _read_ledger_if_any(self) -> tuple[dict, dict[object, FailureRecord],
                                           dict[int, int]]:
        """The ledger, the failures and the events stored per season (``--plan``); all
        empty on an empty database."""
        state = schema_state(self.database)
        if state.empty:
            return {}, {}, {}
        require_current_schema(self.database, create_if_empty=False, access="read")
        with self.database.engine.connect() as connection:
            return (read_ledger(connection, self.years), read_failures(connection, self.years),
                    read_event_counts(connection, self.years))

    def _plan(self, ref: SessionRef, stored: LedgerEntry | None,
              cache_changed: dt.datetime | None, watching: Watching | None) -> SessionPlan:
        return plan_session(ref, tables_of_session(self.tables, ref.key.session_type), stored,
                            force=self.force, offline_cache_changed_utc=cache_changed,
                            refresh=self.refresh, watching=watching,
                            ride_along=RIDE_ALONG, without_load=WITHOUT_LOAD)

    def _run_session(self, plan: SessionPlan, run: "_RunContext", *,
                     attempts_before: int = 0) -> None:
        """Plan, claim, fetch and hand the write over (or write it here when not
        overlapping, and for a retry after a failed write, which reads FastF1's cache)."""
        ref = plan.ref
        if plan.skipped:
            self._report(run.summary.record_skipped, ref, plan.skip_reason)
            return
        attempts = attempts_before
        inline = attempts_before > 0 or not self._overlaps()

        def attempt():
            nonlocal attempts
            attempts += 1
            try:
                job = self._attempt(ref, run, prepare=not inline and self._prepares(ref, run))
                return self._write(job) if inline and isinstance(job, _Write) else job
            except FastF1RateLimited:
                attempts -= 1             # waited out, not a failed attempt
                raise

        try:
            result = self._with_retries(ref, attempt, attempts_before)
        except RunAborted:
            raise
        except TransientError as error:
            self._report(self._fail, run.summary, ref,
                         f"gave up after {attempts} attempts: {error}", attempts)
            return
        except F1DBError as error:
            self._report(self._fail, run.summary, ref, str(error), attempts)
            return
        if isinstance(result, str):
            self._report(run.summary.record_skipped, ref, result)
        elif isinstance(result, _Stored):
            self._report(self._record_loaded, run.summary, ref, result, attempts)
        else:
            self._hand_over(result, plan, run, attempts)

    def _hand_over(self, job: _Write, plan: SessionPlan, run: "_RunContext",
                   attempts: int) -> None:
        """Give the write to the writer thread; its outcome comes back through
        ``written`` in this thread, when the next session is handed over or the run ends."""

        def written(stored: _Stored | None, error: BaseException | None) -> None:
            try:
                record(stored, error)
            finally:
                self._flush_reports()

        def record(stored: _Stored | None, error: BaseException | None) -> None:
            if error is None:
                self._record_loaded(run.summary, job.ref, stored, attempts)
            elif isinstance(error, TransientError) and attempts <= self.retries:
                wait = self._backoff()(_Attempt(attempts))
                log.warning("%s: %s; retrying in %.0f s (attempt %s of %s)", job.ref.label,
                            error, wait, attempts + 1, self.retries + 1)
                self.clock.sleep(wait)
                self._run_session(plan, run, attempts_before=attempts)
            elif isinstance(error, TransientError):
                self._fail(run.summary, job.ref, f"gave up after {attempts} attempts: {error}",
                           attempts)
            elif isinstance(error, F1DBError):
                self._fail(run.summary, job.ref, str(error), attempts)
            else:
                raise error               # a stop, or a bug: as if it had happened here

        try:
            self.writer.submit(lambda: self._write(job), written)
        except BaseException as error:    # the previous write's outcome raised (a stop)
            job.abandon(error)
            raise

    def _report(self, record: Callable, *args) -> None:
        """Record an outcome in schedule order: while a write is in flight, after it."""
        if self.writer.busy:
            self._pending_reports.append((record, args))
        else:
            record(*args)

    def _flush_reports(self) -> None:
        while self._pending_reports:
            record, args = self._pending_reports.pop(0)
            record(*args)

    def _with_retries(self, ref: SessionRef, attempt: Callable, attempts_before: int = 0):
        """``attempt()`` until it returns, with backoff on TransientError; FastF1's own
        rate limit is waited out without counting as an attempt."""
        backoff = self._backoff()
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1 - attempts_before),
            wait=lambda state: backoff(_Attempt(attempts_before + state.attempt_number)),
            retry=retry_if_exception_type(TransientError), reraise=True,
            sleep=self.clock.sleep,
            before_sleep=lambda state: log.warning(
                "%s: %s; retrying in %.0f s (attempt %s of %s)", ref.label,
                state.outcome.exception(), state.next_action.sleep,
                attempts_before + state.attempt_number + 1, self.retries + 1))
        while True:
            try:
                return retrying(attempt)
            except FastF1RateLimited as error:
                self.source.wait_out(error)

    def _backoff(self) -> wait_random_exponential:
        """Full jitter: a random wait up to retry_wait x 2^(attempt-1), at most 300 s."""
        return wait_random_exponential(multiplier=self.retry_wait, max=MAX_RETRY_WAIT_SECONDS)

    def _overlaps(self) -> bool:
        """Write behind on PostgreSQL only: there the write is mostly the server's work, in
        its own process. SQLite writes in this process, so on two cores a thread only
        contends with FastF1 (measured: 3 sessions 25.6 s overlapped, 24.3 s inline)."""
        return (self.overlap and self.database is not None
                and dialect_of(self.database.engine).writes_behind)

    def _prepares(self, ref: SessionRef, run: "_RunContext") -> bool:
        """Whether to encode a session's rows before handing its write over: on PostgreSQL
        when FastF1 will load another session meanwhile (load.PreparedCopy says why). The
        last session's write has the process to itself, so it streams, encoding each
        chunk while the server ingests the previous one."""
        return ref.key != run.last

    def _attempt(self, ref: SessionRef, run: "_RunContext", *,
                 prepare: bool = False) -> _Write | str:
        """One attempt up to the write: claim, re-plan from the fresh ledger entry, fetch.

        Returns the write to do (holding the claim), or why there is none (a skip reason).
        Database errors come back classified: TransientError (retried), PermissionProblem,
        or F1DBError.
        """
        claim_held = contextlib.ExitStack()
        try:
            with _database_errors_classified():
                claim = claim_held.enter_context(run.claims.claim(ref.key))
                if claim is None:
                    claim_held.close()
                    return "held by another worker"
                stored = claim.read_entry()
                plan = self._plan(ref, stored, run.cache_changed, run.watching)
                if plan.skipped:
                    claim_held.close()
                    return f"{plan.skip_reason} (stored meanwhile)"
                self.source.ensure_budget(set(plan.tables))
                self.progress.set_description(1, f"{ref.key.session_type}: loading with FastF1")
                log.info("%s: loading %s with FastF1", ref.label, ", ".join(plan.tables))
                started = time.monotonic()
                fetched = self._fetch(plan, stored)
                load_seconds = time.monotonic() - started
                self.progress.set_description(1, ref.key.session_type)
                parts = parts_to_record(plan, fetched, stored)
                unmeasured = unmeasured_layout(fetched)
                tables = session_tables(fetched.take_frames(), plan.tables, ref.key)
                if prepare:
                    tables = {name: prepare_rows(self.database.engine,
                                                 Base.metadata.tables[name], chunks)
                              for name, chunks in tables.items()}
        except BaseException:
            claim_held.__exit__(*sys.exc_info())
            raise
        return _Write(ref, claim, claim_held, tables, parts, plan.note,
                      {"fastf1": load_seconds}, unmeasured)

    def _write(self, job: _Write) -> _Stored:
        """Write a fetched session in its claim's transaction, the ledger last, and end the
        claim; runs in the writer thread (or inline). Errors come back classified."""
        started = time.monotonic()
        with _database_errors_classified():
            with job.exit_claim:
                with job.claim.writing() as connection:
                    counts = self._store(connection, job.ref, job.tables, job.parts,
                                         unmeasured_layout=job.unmeasured_layout)
        seconds = {**job.seconds, "write": time.monotonic() - started}
        return _Stored(counts, job.parts, job.note, seconds)

    def _fetch(self, plan: SessionPlan, stored: LedgerEntry | None) -> FetchedSession:
        fetched = self.source.fetch_session(plan.ref, set(plan.tables))
        if not fetched.frames and stored is None:
            raise FetchError("FastF1 gave no data for this session" + (
                f" (offline: not in the cache at {self.source.cache_dir})"
                if self.source.offline else ""))
        return fetched

    def _store(self, connection, ref: SessionRef, tables: dict, parts, *,
               unmeasured_layout: bool = False) -> dict[str, tuple[int, int]]:
        """The session's rows, table by table and chunk by chunk, then its ledger rows.

        A stop signal is noticed between chunks (this may run in the writer thread, where
        no signal handler runs), so the transaction rolls back within a chunk's time.
        """
        counts = {}
        if any(table in EVENT_TABLES for table in tables):
            # Every session of the event writes its circuit layout: one at a time.
            wait_for_lock(connection, f"event {ref.key.year} {ref.key.round_number}")
            if unmeasured_layout and measured_layout_stored(connection, ref.key):
                for table in CIRCUIT_TABLES:   # never trade stored distances for none
                    tables.pop(table, None)
        for table in self.progress.bar(list(tables), total=len(tables), desc="tables",
                                       level=2):
            self.progress.set_description(2, table)
            signals.raise_if_received()
            rows = tables.pop(table)
            with self.progress.rows(f"{ref.key.session_type} {table}", level=3) as advance:
                counts[table] = replace_session_rows(
                    connection, Base.metadata.tables[table], ref.key,
                    rows if isinstance(rows, PreparedCopy) else _until_stopped(rows),
                    on_rows=advance)
        write_ledger(connection, ref, self.source.version, parts)
        return counts

    def _record_loaded(self, summary: RunSummary, ref: SessionRef, stored: _Stored,
                       attempts: int) -> None:
        summary.record_loaded(ref, stored.counts, stored.parts, attempts=attempts,
                              note=stored.note, seconds=stored.seconds)

    def _fail(self, summary: RunSummary, ref: SessionRef, reason: str, attempts: int) -> None:
        summary.record_failed(ref, reason, attempts=attempts)
        try:
            with self.database.engine.begin() as connection:
                record_failure(connection, ref, reason)
        except Exception as error:   # the failure is in the summary either way
            if signals.received():
                raise signals.received() from None
            log.warning("Could not record the failure of %s in session_failures: %s",
                        ref.label, describe(error))

    def _record_stop(self, summary: RunSummary, stop: Interrupted) -> None:
        summary.stopped, summary.stop_exit_code = stop.signal_name, stop.exit_code
        log.error("Stopped by %s: the sessions in flight were rolled back", stop.signal_name)

    def _estimate(self, sessions: int, requests: int, jolpica: int) -> str:
        if not sessions:
            return "nothing to load"
        if self.source.offline:
            return (f"{sessions} sessions to load from the FastF1 cache "
                    f"(offline: no network requests)")
        budget = self.source.budget
        seconds = budget.seconds_needed(requests, jolpica) if budget else 0.0
        waiting = (f"about {_duration(seconds)} under the rate limits" if seconds >= 60
                   else "within this hour's request budget")
        return (f"{sessions} sessions to load: at most {requests} network requests "
                f"({jolpica} to Jolpica; cached responses cost none), {waiting} "
                f"(FastF1's parsing and the writes come on top)")


def _describe_plan(plan: SessionPlan, stored: LedgerEntry | None,
                   failure: FailureRecord | None) -> tuple[str, str]:
    """(state, next step) of a session for ``--plan``."""
    if stored is None:
        if failure is not None:
            state = "failed"
            when = failure.failed_at_utc.strftime("%Y-%m-%d %H:%M")
            detail = f"failed {failure.failed_runs}x, last {when} UTC: {failure.reason}"
        else:
            state, detail = "new", ""
    else:
        gaps = {table: status for table, status in stored.statuses.items()
                if status != PartStatus.LOADED}
        state = ("partial" if PartStatus.PARTIAL in gaps.values()
                 else "missing" if gaps else "stored")
        detail = ", ".join(f"{table} {status}" for table, status in sorted(gaps.items()))
    if plan.skipped:
        step = plan.skip_reason
    else:
        step = f"load {', '.join(plan.tables)}" + (f" ({plan.note})" if plan.note else "")
    return state, step + (f"; {detail}" if detail else "")


def _count(value, parameter: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{parameter.replace('_', ' ').capitalize()} must be a whole number "
                         f"of 0 or more, not {value!r}", parameter=parameter)
    return value


def _seconds(value, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"{parameter.replace('_', ' ').capitalize()} must be 0 or more "
                         f"seconds, not {value!r}", parameter=parameter)
    return float(value)


def _duration(seconds: float) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass(frozen=True)
class _RunContext:
    """What every session of one run shares."""

    claims: SessionClaims
    summary: RunSummary
    cache_changed: dt.datetime | None
    watching: Watching | None
    last: SessionKey | None             # the selection's last session (nothing loads after it)


@dataclass(frozen=True)
class _Attempt:
    """The part of tenacity's retry state its wait strategies read."""

    attempt_number: int


@contextlib.contextmanager
def _database_errors_classified():
    """A database error leaves as an F1DBError (TransientError, PermissionProblem, ...);
    a rollback that failed because of a stop leaves as that stop."""
    try:
        yield
    except (F1DBError, Interrupted):
        raise
    except Exception as error:
        if not is_database_error(error):
            raise
        if signals.received():
            raise signals.received() from None
        raise as_f1db_error(error) from None


def _until_stopped(chunks):
    """``chunks``, ending with the stop signal's exception as soon as one was received."""
    for chunk in chunks:
        signals.raise_if_received()
        yield chunk
