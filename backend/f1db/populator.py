"""The batch run: plan -> fetch -> transform -> load -> summary, one session at a time.

The only module that knows every stage; each stage is a named step below, and the
summary records one outcome per session (docs/ARCHITECTURE.md, "The pipeline").
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from .config import resolve_cache_dir, resolve_database
from .db import Database, is_connection_lost, open_database
from .errors import F1DBError, FetchError, RunAborted, first_line
from .fetch import FastF1Source, session_name
from .ledger import read_ledger, write_ledger
from .load import replace_session_rows
from .models import Base
from .plan import SessionPlan, parts_to_record, plan_session
from .progress import NullProgress
from .records import EventRef, FetchedSession, LedgerEntry, SessionRef
from .schema import require_current_schema
from .selection import check_max_events, check_year, choose_tables, select_sessions
from .summary import RunSummary
from .transform import session_frames

log = logging.getLogger("f1db")


class DatabasePopulator:
    """Fill a database with a season of FastF1 sessions; rerun at any time to resume.

    Args:
        year: championship season.
        database_url: any SQLAlchemy URL; None follows DATABASE_URL / Cloud SQL / SQLite.
        events: event names (fuzzy) or round numbers; empty means the whole season.
        sessions: session identifiers (FP1 ... R or full names); empty means all.
        tables: table names to fill; None means all (see ``selection.choose_tables``).
        force: reload sessions already stored, replacing their rows.
        offline: FastF1 offline mode, cache only.
        cache_dir: FastF1 cache folder (default: FASTF1_CACHE_DIR, then backend/fastf1_cache).
        include_testing: also walk pre-season testing events (stored as rounds -1, -2).
        progress: a NullProgress/TqdmProgress.

    Building one checks the arguments and applies no setting: FastF1's process-wide cache
    settings are applied when a run starts (``populate_database``, ``select``). Session
    names are resolved through FastF1's own table, so FastF1 is imported when ``sessions``
    is given.
    """

    def __init__(self, year: int = 2018, *, database_url: str | None = None,
                 events: tuple[str, ...] = (), sessions: tuple[str, ...] = (),
                 tables: tuple[str, ...] | None = None, force: bool = False,
                 offline: bool = False, cache_dir: str | Path | None = None,
                 include_testing: bool = False, progress: NullProgress | None = None):
        self.year = check_year(year)
        self.events = tuple(events)
        self.session_names = tuple(dict.fromkeys(session_name(s, year) for s in sessions))
        self.tables = choose_tables(None if tables is None else tuple(tables))
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
        max_events = check_max_events(max_events)
        self.source.start()
        season = self.source.season(self.year, include_testing=self.include_testing)
        if self.events:
            chosen = [self.source.find_event(season, selector) for selector in self.events]
            season = list({event.round_number: event for event in chosen}.values())
        return select_sessions(season, self.session_names, self.year, max_events)

    # -- the run ---------------------------------------------------------------------------

    def populate_database(self, max_events: int | None = None) -> RunSummary:
        """Load every selected session that is not already complete; return the summary."""
        started, loads_before = time.monotonic(), self.source.loads
        selection = self.select(max_events)
        self.database = self.database or open_database(self.target)
        require_current_schema(self.database)
        summary = RunSummary(year=self.year, database=self.database.describe(),
                             sessions_planned=sum(len(refs) for _, refs in selection))
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
                    stored = ledger.get(ref.key)
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

    def _run_session(self, plan: SessionPlan, stored: LedgerEntry | None,
                     summary: RunSummary) -> None:
        ref = plan.ref
        if plan.skipped:
            summary.record_skipped(ref, plan.skip_reason)
            return
        try:
            fetched = self._fetch(plan, stored)
            frames = session_frames(fetched.take_frames(), plan.tables, ref.key)
            parts = parts_to_record(plan, fetched, stored)
            counts = self._store_with_retry(ref, frames, parts)
        except RunAborted:
            raise
        except F1DBError as error:
            summary.record_failed(ref, str(error))
            return
        except SQLAlchemyError as error:
            summary.record_failed(ref, f"database error: {first_line(error)}")
            return
        summary.record_loaded(ref, counts, parts)

    def _fetch(self, plan: SessionPlan, stored: LedgerEntry | None) -> FetchedSession:
        fetched = self.source.fetch_session(plan.ref, set(plan.tables))
        if not fetched.frames and stored is None:
            raise FetchError("FastF1 gave no data for this session" + (
                f" (offline: not in the cache at {self.source.cache_dir})"
                if self.source.offline else ""))
        return fetched

    def _store_with_retry(self, ref, frames, parts) -> dict[str, tuple[int, int]]:
        """Store in one transaction; a dropped connection (Cloud SQL) is retried once."""
        try:
            return self._store(ref, frames, parts)
        except DBAPIError as error:
            if not is_connection_lost(error):
                raise
            log.warning("Database connection lost while storing %s; retrying once", ref.label)
        try:
            return self._store(ref, frames, parts)
        except DBAPIError as error:
            if is_connection_lost(error):
                raise RunAborted(f"lost the database connection twice ({first_line(error)}): "
                                 f"rerun to resume, stored sessions are kept") from None
            raise

    def _store(self, ref: SessionRef, frames, parts) -> dict[str, tuple[int, int]]:
        """The session's rows, then its ledger rows, in one transaction."""
        counts = {}
        with self.database.engine.begin() as connection:
            for table in self.progress.bar(list(frames), total=len(frames), desc="tables",
                                           level=2):
                self.progress.set_description(2, table)
                counts[table] = replace_session_rows(connection, Base.metadata.tables[table],
                                                     ref.key, frames[table])
            write_ledger(connection, ref, self.source.version, parts)
        return counts
