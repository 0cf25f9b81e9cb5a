"""The batch run: plan -> fetch -> transform -> load -> summary, one session at a time."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from .config import resolve_cache_dir, resolve_database
from .db import Database, is_connection_lost, open_database
from .errors import F1DBError, FetchError, RunAborted, UsageError, first_line
from .fetch import EventRef, FastF1Source, FetchedSession, SessionRef, session_name
from .load import read_ledger, replace_session_rows, write_ledger
from .models import TABLE_NAMES, TELEMETRY_TABLES, Base
from .plan import LOADED, MISSING, PARTIAL, SessionPlan, plan_session, table_statuses
from .progress import NullProgress
from .schema import require_current_schema
from .summary import RunSummary
from .transform import table_frame

log = logging.getLogger("f1db")

FIRST_SEASON = 1950


def parse_tables(spec: str | None, *, telemetry: bool = True) -> tuple[str, ...]:
    """``--tables t1,t2`` (None: all) minus telemetry tables with ``--no-telemetry``."""
    if spec is None:
        chosen = list(TABLE_NAMES)
    else:
        chosen = [name.strip() for name in spec.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in TABLE_NAMES]
        if unknown or not chosen:
            raise UsageError(f"Unknown table {', '.join(unknown) or '(none given)'} in --tables: "
                             f"choose from {','.join(TABLE_NAMES)}")
    if not telemetry:
        chosen = [name for name in chosen if name not in TELEMETRY_TABLES]
        if not chosen:
            raise UsageError("--no-telemetry leaves no table of --tables to load")
    return tuple(name for name in TABLE_NAMES if name in chosen)


class DatabasePopulator:
    """Fill a database with a season of FastF1 sessions; rerun at any time to resume.

    Args:
        year: championship season.
        database_url: any SQLAlchemy URL; None follows DATABASE_URL / Cloud SQL / SQLite.
        events: event names (fuzzy) or round numbers; empty means the whole season.
        sessions: session identifiers (FP1 ... R or full names); empty means all.
        tables: table names to fill; None means all (see ``parse_tables``).
        force: reload sessions already stored, replacing their rows.
        offline: FastF1 offline mode, cache only.
        cache_dir: FastF1 cache folder (default: FASTF1_CACHE_DIR, then backend/fastf1_cache).
        include_testing: also walk pre-season testing events (stored as rounds -1, -2).
        progress: a NullProgress/TqdmProgress.
    """

    def __init__(self, year: int = 2018, *, database_url: str | None = None,
                 events: tuple[str, ...] = (), sessions: tuple[str, ...] = (),
                 tables: tuple[str, ...] | None = None, force: bool = False,
                 offline: bool = False, cache_dir: str | Path | None = None,
                 include_testing: bool = False, progress: NullProgress | None = None):
        if isinstance(year, bool) or not isinstance(year, int) or year < FIRST_SEASON:
            raise UsageError(f"Year must be a season from {FIRST_SEASON} on, not {year!r}")
        self.year = year
        self.events = tuple(events)
        self.session_names = tuple(dict.fromkeys(session_name(s, year) for s in sessions))
        self.tables = parse_tables(None) if tables is None else parse_tables(",".join(tables))
        self.force = force
        self.include_testing = include_testing
        self.progress = progress or NullProgress()
        self.target = resolve_database(database_url)
        self.source = FastF1Source(cache_dir=resolve_cache_dir(
            None if cache_dir is None else str(cache_dir)), offline=offline)
        self.database: Database | None = None

    # -- selection -------------------------------------------------------------------------

    def select(self, max_events: int | None = None) -> list[tuple[EventRef, list[SessionRef]]]:
        """Events and sessions this run covers, in schedule order; bad names raise UsageError."""
        if max_events is not None and (isinstance(max_events, bool) or max_events < 0):
            raise UsageError(f"--max-events must be 0 (no limit) or more, not {max_events}")
        season = self.source.season(self.year, include_testing=self.include_testing)
        if self.events:
            chosen = [self.source.find_event(season, selector) for selector in self.events]
            events = list({event.round_number: event for event in chosen}.values())
        else:
            events = season
        if max_events:
            events = events[:max_events]
        selection = []
        for event in events:
            refs = [ref for ref in event.sessions
                    if not self.session_names or ref.key.session_type in self.session_names]
            if refs:
                selection.append((event, refs))
        if not selection:
            wanted = ", ".join(self.session_names)
            raise UsageError(f"No session {wanted} in the selected {self.year} events: "
                             f"pick sessions the event has (a sprint weekend has SQ/SS and S)")
        return selection

    # -- the run ---------------------------------------------------------------------------

    def populate_database(self, max_events: int | None = None) -> RunSummary:
        """Load every selected session that is not already complete; return the summary."""
        started, loads_before = time.monotonic(), self.source.loads
        selection = self.select(max_events)
        self.database = self.database or open_database(self.target)
        require_current_schema(self.database)
        summary = RunSummary(year=self.year, database=self.database.describe())
        summary.sessions_planned = sum(len(refs) for _, refs in selection)
        log.info("Populating %s sessions of %s into %s", summary.sessions_planned, self.year,
                 summary.database)
        with self.database.engine.connect() as connection:
            ledger = read_ledger(connection, self.year)
        cache_changed = self.source.offline_cache_changed_utc()
        try:
            for event, refs in self.progress.bar(selection, total=len(selection),
                                                 desc=str(self.year), level=0):
                self.progress.set_description(0, event.name)
                for ref in self.progress.bar(refs, total=len(refs), desc="sessions", level=1):
                    self.progress.set_description(1, ref.key.session_type)
                    stored = ledger.get(_ledger_key(ref))
                    plan = plan_session(ref, self.tables, stored, force=self.force,
                                        offline_cache_changed_utc=cache_changed)
                    self._run_session(plan, stored, summary)
        except RunAborted as error:
            summary.aborted = str(error)
            log.error("Stopped: %s", error)
        summary.fastf1_loads = self.source.loads - loads_before
        summary.duration_seconds = time.monotonic() - started
        return summary

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
            self.database = None

    def _run_session(self, plan: SessionPlan, previous: dict | None, summary: RunSummary):
        ref = plan.ref
        entry = {"session": ref.label, "year": ref.key.year, "round_number": ref.key.round_number,
                 "session_type": ref.key.session_type}
        summary.sessions.append(entry)
        if plan.skipped:
            summary.sessions_skipped += 1
            entry["outcome"] = "skipped"
            entry["reason"] = plan.skip_reason
            log.info("Skipped %s: %s", ref.label, plan.skip_reason)
            return
        try:
            fetched = self.source.fetch_session(ref, set(plan.tables))
            if not fetched.frames and previous is None:
                raise FetchError("FastF1 gave no data for this session" + (
                    f" (offline: not in the cache at {self.source.cache_dir})"
                    if self.source.offline else ""))
            frames = {table: table_frame(Base.metadata.tables[table], fetched.frames[table],
                                         ref.key) for table in plan.tables
                      if table in fetched.frames}
            statuses = _statuses(plan, fetched, previous)
            counts = self._store_with_retry(ref, frames, statuses)
        except RunAborted:
            raise
        except F1DBError as error:
            self._fail(summary, entry, str(error))
            return
        except SQLAlchemyError as error:
            self._fail(summary, entry, f"database error: {first_line(error)}")
            return
        summary.sessions_loaded += 1
        entry["outcome"] = "loaded"
        entry["rows_inserted"] = {table: inserted for table, (_, inserted) in counts.items()}
        for table, (deleted, inserted) in counts.items():
            summary.rows_inserted[table] += inserted
            summary.rows_replaced[table] += deleted
        for table in plan.tables:
            reason = fetched.missing.get(table) or fetched.partial.get(table)
            if reason:
                summary.missing.append({"session": ref.label, "table": table,
                                        "status": statuses[table], "reason": reason})
        stored = ", ".join(f"{t} {n:,}" for t, (_, n) in counts.items())
        gaps = ", ".join(sorted({**fetched.missing, **fetched.partial}))
        log.info("Loaded %s: %s%s", ref.label, stored or "no rows",
                 f" (missing or partial: {gaps})" if gaps else "")

    def _fail(self, summary: RunSummary, entry: dict, reason: str) -> None:
        summary.sessions_failed += 1
        entry["outcome"] = "failed"
        entry["reason"] = reason
        summary.failures.append({"session": entry["session"], "reason": reason})
        log.error("Failed %s: %s", entry["session"], reason)

    def _store_with_retry(self, ref, frames, statuses) -> dict[str, tuple[int, int]]:
        """Store in one transaction; a dropped connection (Cloud SQL) is retried once."""
        try:
            return self._store(ref, frames, statuses)
        except DBAPIError as error:
            if not is_connection_lost(error):
                raise
            log.warning("Database connection lost while storing %s; retrying once", ref.label)
        try:
            return self._store(ref, frames, statuses)
        except DBAPIError as error:
            if is_connection_lost(error):
                raise RunAborted(f"lost the database connection twice ({first_line(error)}): "
                                 f"rerun to resume, stored sessions are kept") from None
            raise

    def _store(self, ref: SessionRef, frames, statuses) -> dict[str, tuple[int, int]]:
        counts = {}
        with self.database.engine.begin() as connection:
            for table in self.progress.bar(list(frames), total=len(frames), desc="tables",
                                           level=2):
                self.progress.set_description(2, table)
                counts[table] = replace_session_rows(connection, Base.metadata.tables[table],
                                                     ref.key, frames[table])
            write_ledger(connection, _ledger_values(ref, statuses, self.source.version))
        return counts


def _statuses(plan: SessionPlan, fetched: FetchedSession, previous: dict | None) -> dict:
    """Statuses of every table after this session's load (kept ones carried over).

    A table FastF1 could not give this time keeps rows and status stored earlier
    (``--force`` never trades stored data for nothing).
    """
    previous = previous or {}
    statuses = {t: previous.get(f"{t}_status") for t in TABLE_NAMES}
    new = table_statuses(plan.tables, missing=fetched.missing, partial=fetched.partial)
    for table, status in new.items():
        if status == MISSING and statuses[table] in (LOADED, PARTIAL):
            continue
        statuses[table] = status
    return statuses


def _ledger_values(ref: SessionRef, statuses: dict, fastf1_version: str) -> dict:
    return {"year": ref.key.year, "round_number": ref.key.round_number,
            "session_type": ref.key.session_type, "event_name": ref.event_name,
            "country": ref.country, "location": ref.location, "event_format": ref.event_format,
            "session_start_utc": ref.start_utc, "fastf1_version": fastf1_version,
            **{f"{table}_status": status for table, status in statuses.items()}}


def _ledger_key(ref: SessionRef) -> tuple[int, str]:
    return ref.key.round_number, ref.key.session_type
