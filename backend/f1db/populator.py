"""``DatabasePopulator``: the library's front door, a thin facade over the run (run/).

Three modes over one selection of sessions: :meth:`~DatabasePopulator.populate_database`
(load what is not stored), :meth:`~DatabasePopulator.plan_run` (say what a run would do,
``--plan``) and :meth:`~DatabasePopulator.watch` (keep the current season fresh,
``--watch``). Each session's work is a ``run.session_job.SessionJob``; the sessions of a run
go through ``run.runner.SessionRunner`` (docs/ARCHITECTURE.md, "The pipeline").
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Callable, Iterable

from .claims import SessionClaims
from .config import resolve_cache_dir, resolve_database
from .db import Database, open_database
from .dialects import dialect_of
from .errors import Interrupted, RunAborted, TransientError, UsageError
from .ledger import read_ledger
from .plan import SessionPlan, Watching, plan_session
from .plan_report import PlanReport
from .progress import NullProgress
from .records import EventRef, LedgerEntry, Outcome, SessionKey, SessionRef, Skipped
from .run.calendar import refresh_calendar
from .run.history import (SOURCES as HISTORY_SOURCES, HistoryPlan, HistoryRun,
                          HistorySummary, plan_history)
from .run.options import RunOptions
from .run.planning import plan_selection
from .run.retry import RetryPolicy
from .run.runner import SessionRunner
from .run.session_job import RunContext, database_errors_classified
from .run.watch import watch as watch_season
from .run.write_behind import WriteBehind
from .schema import require_current_schema, schema_state
from .selection import (RIDE_ALONG, WITHOUT_LOAD, check_max_events, select_sessions,
                        tables_not_available, tables_of_session)
from .shard import Shard, shard_keys
from .sources.budget import SystemClock
from .sources.fastf1_source import FastF1Source
from .summary import RunSummary

log = logging.getLogger("f1db")

STOP_WAIT_SECONDS = 30     # a stop waits this long for the write in flight to roll back

Selection = list[tuple[EventRef, list[SessionRef]]]


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
        overlap: write each session in a background thread while FastF1 loads the next,
            where the database's dialect gains from it (PostgreSQL); False writes each
            session before loading the next.
        jobs: worker processes loading sessions at once (run/jobs.py); each needs the
            memory of a FastF1 process of its own. 1 loads in this process.

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
                 clock=None, overlap: bool = True, jobs: int = 1):
        self.options = RunOptions.checked(
            year, events=events, sessions=sessions, tables=tables, force=force,
            include_testing=include_testing, shard=shard, retries=retries,
            retry_wait=retry_wait, refresh_older_than=refresh_older_than,
            requests_per_hour=requests_per_hour, jobs=jobs)
        # What a worker process builds its own populator from (run/jobs.py): the checked
        # selection is the parent's business, so a worker gets no shard.
        self._worker_options = dict(
            year=self.options.years, database_url=database_url, events=events,
            sessions=sessions, tables=tables, force=force, offline=offline,
            cache_dir=cache_dir, include_testing=include_testing, retries=retries,
            retry_wait=retry_wait, wait_for_budget=wait_for_budget,
            requests_per_hour=requests_per_hour, refresh_older_than=refresh_older_than,
            overlap=overlap, shard="1/1")
        self.target = resolve_database(database_url)
        self.progress = progress or NullProgress()
        self.clock = clock or SystemClock()
        self.overlap = overlap
        self.source = FastF1Source(
            cache_dir=resolve_cache_dir(None if cache_dir is None else str(cache_dir)),
            offline=offline, requests_per_hour=requests_per_hour,
            wait_for_budget=wait_for_budget, clock=self.clock,
            countdown=lambda seconds, reason: self.progress.countdown(seconds, reason,
                                                                      self.clock),
            shared_log=self._shared_request_log)
        self.database: Database | None = None
        self._budget_database: Database | None = None

    @property
    def years(self) -> tuple[int, ...]:
        return self.options.years

    @property
    def year(self) -> int:
        """The first season (kept for callers of the one-season API)."""
        return self.years[0]

    # -- the three modes -------------------------------------------------------------------

    def select(self, max_events: int | None = None) -> Selection:
        """Events and sessions this run (this shard) covers, in schedule order."""
        max_events = check_max_events(max_events)
        self.source.start()
        selection = []
        missing: dict[str, UsageError] = {}      # event selector -> its first season's refusal
        found: set[str] = set()
        for year in self.years:
            season = self.source.season(year, include_testing=self.options.include_testing)
            if self.options.events:
                chosen = []
                for selector in self.options.events:
                    try:
                        chosen.append(self.source.find_event(season, selector))
                        found.add(selector)
                    except UsageError as refusal:
                        # Over several seasons an event that some of them lack (Miami
                        # before 2022) is taken where it exists; one season: an error.
                        if len(self.years) == 1:
                            raise
                        missing.setdefault(selector, refusal)
                        log.info("%s: no event of %s matches it", selector, year)
                season = list({event.round_number: event for event in chosen}.values())
                if not season:
                    continue                     # none of the events in this season
            selection += select_sessions(season, self.options.session_names(year), year,
                                         max_events)
        for selector, refusal in missing.items():
            if selector not in found:            # in none of the seasons: a typo, say so
                raise refusal
        shard = self.options.shard
        if shard is None:
            return selection
        mine = shard_keys((ref for _, refs in selection for ref in refs), shard)
        return [(event, kept) for event, refs in selection
                if (kept := [ref for ref in refs if ref.key in mine])]

    def populate_database(self, max_events: int | None = None, *,
                          watching: Watching | None = None) -> RunSummary:
        """Load every selected session that is not already complete; return the summary.

        Ends early, with the summary saying why, on a stop signal or a spent budget.
        """
        started, loads_before = time.monotonic(), self.source.loads
        requests_before = self.source.requests
        summary = self._new_summary()
        runner = None
        try:
            selection = self.select(max_events)   # bad input fails before anything is written
            summary.sessions_planned = sum(len(refs) for _, refs in selection)
            ledger = self._start_up(summary)
            log.info("Populating %s sessions of %s%s into %s", summary.sessions_planned,
                     summary.seasons,
                     f" (shard {self.options.shard})" if self.options.shard else "",
                     summary.database)
            plan_for = self._planner(watching)
            if self.options.jobs > 1:
                self._run_in_workers(summary, plan_for, selection, ledger)
            else:
                last = next((refs[-1].key for _, refs in reversed(selection) if refs), None)
                runner = self._runner(summary.record, plan_for, last)
                for event, refs in self.progress.bar(selection, total=len(selection),
                                                     desc=summary.seasons, level=0):
                    self.progress.set_description(0, f"{event.year} {event.name}")
                    for ref in self.progress.bar(refs, total=len(refs), desc="sessions",
                                                 level=1):
                        self.progress.set_description(1, ref.key.session_type)
                        plan = plan_for(ref, ledger.get(ref.key))
                        summary.record_not_available(plan.not_available)
                        runner.run(plan)
                runner.finish()                   # the last session's write
        except RunAborted as error:
            self._settle(runner)
            summary.record_abort(error)
        except Interrupted as stop:
            self._settle(runner)
            summary.record_stop(stop)
        finally:
            self._settle(runner)                  # only busy when something unforeseen
        summary.fastf1_loads += self.source.loads - loads_before     # workers' added already
        summary.requests += self.source.requests - requests_before
        summary.duration_seconds = time.monotonic() - started
        return summary

    def serve_plans(self, next_plan: Callable[[], SessionPlan | None],
                    report: Callable[[Outcome], None]) -> None:
        """A worker process's run (run/jobs.py): load each plan ``next_plan`` hands out
        until it hands out None, reporting each outcome. The parent planned the sessions
        and made the schema current."""
        runner = None
        try:
            with database_errors_classified():
                self.source.start()
                self._open()
            runner = self._runner(report, self._planner(None), last=None)
            while (plan := next_plan()) is not None:
                runner.run(plan)
            runner.finish()
        finally:
            self._settle(runner)

    def load_history(self, source: str = "dump", *, all_seasons: bool = False,
                     dump_file: str | Path | None = None, force: bool = False, http=None,
                     today: dt.date | None = None) -> HistorySummary:
        """Jolpica's history (1950 on) into the history tables, from its CSV dump
        (``dump``: downloaded and checked, or ``dump_file``) or its API (``api``); the
        run's seasons, or every season of the dump with ``all_seasons``. Returns the
        summary; a stop signal ends it with the rounds written so far kept."""
        if source not in HISTORY_SOURCES:
            raise UsageError(f"history source {source!r} is not one of "
                             f"{', '.join(HISTORY_SOURCES)}", parameter="history")
        if source == "api" and (all_seasons or dump_file is not None):
            raise UsageError("the API way needs the seasons (see --year) and reads no dump "
                             "file", parameter="history")
        years = None if all_seasons else self.years
        summary = HistorySummary(source=source, years=years, database=self.target.describe())
        with database_errors_classified():
            self._open()
            require_current_schema(self.database)
        summary.database = self.database.describe()
        if source == "api":
            self.source.start()
        run = HistoryRun(self.database.engine, self.source, years=years, summary=summary,
                         clock=self.clock, force=force, today=today,
                         policy=self._retry_policy())
        requests_before = self.source.requests
        try:
            if source == "dump":
                run.from_dump(None if dump_file is None else Path(dump_file), http=http,
                              offline=self.source.offline)
            else:
                run.from_api()
        except Interrupted as stop:
            summary.stopped = stop
        except RunAborted as error:             # a spent budget with --no-wait
            summary.aborted = error
        summary.requests += self.source.requests - requests_before
        return summary

    def plan_history(self, *, today: dt.date | None = None) -> HistoryPlan:
        """``--history --plan``: per season of the run, the rounds run, stored and left,
        and what the rest costs through the API; nothing written, no schema created."""
        today = today or dt.datetime.now(dt.timezone.utc).date()
        self.source.start()
        with database_errors_classified():
            self._open(write=False)
            state = schema_state(self.database)
        return plan_history(self.database.engine, self.source, self.years, today=today,
                            database=self.database.describe(),
                            tables_exist=state.up_to_date)

    def plan_run(self, max_events: int | None = None) -> PlanReport:
        """What a run would do, and what it would cost, without loading or writing anything.

        Reads the schedules (FastF1's cache, or the network within the budget) and the
        ledger; never calls ``Session.load``; creates no schema (an empty database is
        reported as such).
        """
        started, loads_before = time.monotonic(), self.source.loads
        requests_before = self.source.requests
        report = PlanReport(years=self.years, database=self.target.describe(),
                            shard=str(self.options.shard) if self.options.shard else None,
                            offline=self.source.offline)
        selection = self.select(max_events)
        self._open(write=False)
        report.database = self.database.describe()
        plan_selection(report, selection, self.database, self.source, self.years,
                       self._planner(None))
        report.fastf1_loads = self.source.loads - loads_before
        report.requests = self.source.requests - requests_before
        report.duration_seconds = time.monotonic() - started
        return report

    def watch(self, max_events: int | None = None, *, poll_seconds: float = 900,
              delay: dt.timedelta = dt.timedelta(minutes=90),
              give_up_after: dt.timedelta = dt.timedelta(days=7),
              polls: int | None = None) -> RunSummary:
        """Keep the season current: each poll loads the sessions that ended ``delay`` ago
        and retries missing parts until a session is ``give_up_after`` old (run/watch.py).
        Ends on a stop signal (or after ``polls`` polls), returning the last poll's summary."""
        return watch_season(
            lambda watching: self.populate_database(max_events, watching=watching),
            clock=self.clock, poll_seconds=poll_seconds, delay=delay,
            give_up_after=give_up_after, polls=polls)

    def _close_connections(self) -> None:
        """Close the pooled database connections (the engines open new ones when asked)."""
        for database in (self.database, self._budget_database):
            if database is not None:
                database.engine.dispose()

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
            self.database = None
        if self._budget_database is not None:
            self._budget_database.close()
            self._budget_database = None

    # -- wiring ----------------------------------------------------------------------------

    def _new_summary(self) -> RunSummary:
        return RunSummary(years=self.years, database=self.target.describe(),
                          shard=str(self.options.shard) if self.options.shard else None)

    def _open(self, *, write: bool = True) -> None:
        self.database = self.database or open_database(self.target, write=write)

    def _start_up(self, summary: RunSummary) -> dict:
        """Open the database, check its schema, refresh the calendar and read the ledger;
        a transient database fault here (a connection dropped after it was made) is
        retried with the sessions' policy, then ends the run (RunAborted) with a summary."""
        policy = self._retry_policy()
        attempt = 0
        while True:
            attempt += 1
            try:
                with database_errors_classified():
                    self._open()
                    require_current_schema(self.database)
                    summary.database = self.database.describe()
                    if not summary.schedules:     # a retry after it was refreshed
                        refresh_calendar(self.database, self.source, self.years,
                                         testing=self.options.include_testing,
                                         summary=summary)
                    with self.database.engine.connect() as connection:
                        return read_ledger(connection, self.years)
            except TransientError as error:
                if not policy.retry("start-up", error, attempt):
                    raise RunAborted(f"the database kept failing at start-up, gave up after "
                                     f"{attempt} attempts: {error}") from None

    def _shared_request_log(self):
        """The request budget's log in the target database when it is PostgreSQL: one budget
        for every process and task writing to it (sources/budget_db.py). Its own small
        engine, opened when the first request may be made (before the schema step)."""
        from .dialects import dialect_named
        from .sources.budget_db import DatabaseRequestLog

        if not dialect_named(self.target.dialect).shares_request_budget:
            return None
        with database_errors_classified():
            self._budget_database = self._budget_database or open_database(self.target)
        return DatabaseRequestLog(self._budget_database.engine,
                                  database=self._budget_database.describe(), clock=self.clock)

    def _retry_policy(self) -> RetryPolicy:
        return RetryPolicy(retries=self.options.retries, first_wait=self.options.retry_wait,
                           clock=self.clock)

    def _planner(self, watching: Watching | None):
        """The run's rules as ``plan_for(ref, stored) -> SessionPlan``."""
        options, cache_changed = self.options, self.source.offline_cache_changed_utc()

        def plan_for(ref: SessionRef, stored: LedgerEntry | None) -> SessionPlan:
            era = {"live_timing": ref.live_timing, "year": ref.key.year}
            return plan_session(ref, tables_of_session(options.tables, ref.key.session_type,
                                                       **era), stored,
                                not_available=tables_not_available(
                                    options.tables, ref.key.session_type, **era),
                                force=options.force,
                                offline_cache_changed_utc=cache_changed,
                                refresh=options.refresh, watching=watching,
                                ride_along=RIDE_ALONG, without_load=WITHOUT_LOAD)
        return plan_for

    def _runner(self, report: Callable[[Outcome], None], plan_for,
                last: SessionKey | None) -> SessionRunner:
        """The runner of this process's sessions; ``last``: the last one, if known (its
        write streams instead of being prepared first)."""
        context = RunContext(self.database, self.source, SessionClaims(self.database.engine),
                             self.progress, plan_for)
        writes_behind = self.overlap and dialect_of(self.database.engine).writes_behind
        return SessionRunner(context, self._retry_policy(), report,
                             writer=WriteBehind() if writes_behind else None, last=last)

    def _run_in_workers(self, summary: RunSummary, plan_for, selection: Selection,
                        ledger: dict) -> None:
        """The selection's sessions loaded by ``jobs`` worker processes (run/jobs.py): the
        skipped ones reported here, the others handed out one at a time; one progress bar
        of sessions."""
        from .run.jobs import WorkerPool, WorkerSpec, forwarded_log_levels
        from .signals import deferred

        work = []
        for _, refs in selection:
            for ref in refs:
                plan = plan_for(ref, ledger.get(ref.key))
                summary.record_not_available(plan.not_available)
                if plan.skipped:
                    summary.record(Skipped(plan.ref, plan.skip))
                else:
                    work.append(plan)
        if not work:
            return
        # A worker loads what it is handed whatever its options say: no shard, no force
        # needed (the parent's plans already carry both).
        pool = WorkerPool(WorkerSpec(self._worker_options, forwarded_log_levels()), work,
                          self.options.jobs, record=summary.record,
                          stop_wait=STOP_WAIT_SECONDS)
        log.info("Loading %s sessions with %s worker processes", len(work), pool.jobs)
        self._close_connections()                 # none may be shared with a forked worker
        pool.start()
        try:
            # A stop is raised only where the pool waits for its workers (run/jobs.py),
            # never in the middle of relaying a message or of this loop.
            with deferred():
                for _ in self.progress.bar(pool.outcomes(), total=len(work),
                                           desc=f"sessions ({pool.jobs} workers)", level=1):
                    pass
        finally:
            summary.fastf1_loads += pool.fastf1_loads
            summary.requests += pool.requests
            # Outcomes came in as the workers finished; the summary lists them in schedule
            # order, as a run of one process does.
            order = {(ref.key.year, ref.key.round_number, ref.key.session_type): place
                     for place, ref in enumerate(ref for _, refs in selection for ref in refs)}
            summary.sessions.sort(key=lambda entry: order.get(
                (entry.year, entry.round_number, entry.session_type), len(order)))
        if pool.aborted is not None:
            raise pool.aborted

    @staticmethod
    def _settle(runner: SessionRunner | None) -> None:
        if runner is not None:
            runner.settle(STOP_WAIT_SECONDS)
