"""One session's work, in one place: claim -> re-plan -> fetch -> transform -> write -> ledger.

:meth:`SessionJob.fetch` takes the session's claim (claims.py; skipped at once when
another worker holds it), reads its ledger entry again now that it is held and re-plans
from it (another worker may have stored it meanwhile), waits until the request budget has
room for a cold load, has the source load it and transforms the frames into lazy table
chunks. It returns the :class:`Fetched` session, still holding its claim, or why there is
nothing to do (a ``records.Skipped``).

:meth:`SessionJob.write` writes a fetched session in its claim's transaction, table by
table and chunk by chunk, then its ledger rows, and ends the claim with the commit: a
session is in the ledger exactly when its rows are. It may run in the writer thread
(write_behind.py), where no signal handler runs, so a stop is noticed between chunks.

Database errors leave both as the library's own (TransientError, PermissionProblem, ...)
so that the retry policy (retry.py) decides on classes, never on messages.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Callable

from .. import signals
from ..claims import HeldSession, SessionClaims, wait_for_lock
from ..db import Database
from ..errors import F1DBError, FetchError, Interrupted
from ..faults import as_f1db_error, describe, is_database_error
from ..ledger import record_failure, write_ledger
from ..load import CIRCUIT_TABLES, measured_layout_stored, prepare_rows, replace_session_rows
from ..models import EVENT_TABLES, stored_table
from ..plan import SessionPlan, parts_to_record
from ..progress import NullProgress
from ..records import (FetchedSession, LedgerEntry, Loaded, Parts, SessionKey, SessionRef,
                       Skip, Skipped, SkipReason)
from ..sources.fastf1_readers import unmeasured_layout
from ..sources.fastf1_source import FastF1Source
from ..transform import session_tables

log = logging.getLogger("f1db")


@dataclass(frozen=True)
class RunContext:
    """What every session of one run shares."""

    database: Database
    source: FastF1Source
    claims: SessionClaims
    progress: NullProgress
    plan_for: Callable[[SessionRef, LedgerEntry | None], SessionPlan]   # the run's rules


@dataclass
class Fetched:
    """A fetched session waiting to be written: its claim (held since before the load,
    released when the write's transaction ends), its lazy table chunks and ledger parts."""

    ref: SessionRef
    held: HeldSession
    release: contextlib.ExitStack
    tables: dict
    parts: Parts
    note: str | None
    seconds: dict[str, float] = field(default_factory=dict)
    unmeasured_layout: bool = False     # its circuit layout came without marker distances

    def abandon(self, error: BaseException) -> None:
        """Roll back and release the claim without writing (a stop, a failed hand-over)."""
        self.tables.clear()
        self.release.__exit__(type(error), error, error.__traceback__)


class SessionJob:
    """One session of a run (see the module's doc)."""

    def __init__(self, ref: SessionRef, context: RunContext):
        self.ref, self.context = ref, context

    def fetch(self, *, prepare: bool = False) -> Fetched | Skipped:
        """Claim, re-plan, fetch and transform. ``prepare``: encode the rows now for a write
        that will overlap the next load (load.prepare_rows says why)."""
        context, ref = self.context, self.ref
        release = contextlib.ExitStack()
        try:
            with database_errors_classified():
                held = release.enter_context(context.claims.claim(ref.key))
                if held is None:
                    release.close()
                    return Skipped(ref, Skip(SkipReason.HELD_BY_ANOTHER_WORKER))
                stored = held.read_entry()
                plan = context.plan_for(ref, stored)
                if plan.skipped:
                    release.close()
                    return Skipped(ref, Skip(plan.skip.reason, plan.skip.tables,
                                             plan.skip.until_utc, meanwhile=True))
                context.source.ensure_budget(set(plan.tables), live_timing=ref.live_timing)
                context.progress.set_description(1, f"{ref.key.session_type}: loading with "
                                                    f"FastF1")
                log.info("%s: loading %s with FastF1", ref.label, ", ".join(plan.tables))
                started = time.monotonic()
                fetched = self._load(plan, stored)
                load_seconds = time.monotonic() - started
                context.progress.set_description(1, ref.key.session_type)
                parts = parts_to_record(plan, fetched, stored)
                unmeasured = unmeasured_layout(fetched)
                tables = session_tables(fetched.take_frames(), plan.tables, ref.key)
                if prepare:
                    tables = {name: prepare_rows(context.database.engine,
                                                 stored_table(name), chunks)
                              for name, chunks in tables.items()}
        except BaseException:
            release.__exit__(*sys.exc_info())
            raise
        return Fetched(ref, held, release, tables, parts, plan.note,
                       {"fastf1": load_seconds}, unmeasured)

    def write(self, fetched: Fetched) -> Loaded:
        """Write a fetched session in its claim's transaction, the ledger last, and end
        the claim. Attempts are the caller's to count (``Loaded.attempts`` is 1 here)."""
        started = time.monotonic()
        with database_errors_classified():
            with fetched.release:
                with fetched.held.writing() as connection:
                    counts = self._store(connection, fetched)
        seconds = {**fetched.seconds, "write": time.monotonic() - started}
        return Loaded(fetched.ref, counts, fetched.parts, fetched.note, seconds)

    def load(self) -> Loaded | Skipped:
        """Fetch and write at once (no overlap)."""
        fetched = self.fetch()
        return self.write(fetched) if isinstance(fetched, Fetched) else fetched

    def record_failure(self, reason: str) -> None:
        """Remember in ``session_failures`` why the session failed (its own transaction:
        the session's was rolled back); the summary has it either way."""
        try:
            with self.context.database.engine.begin() as connection:
                record_failure(connection, self.ref, reason)
        except Exception as error:
            if signals.received():
                raise signals.received() from None
            log.warning("Could not record the failure of %s in session_failures: %s",
                        self.ref.label, describe(error))

    # -- steps -----------------------------------------------------------------------------

    def _load(self, plan: SessionPlan, stored: LedgerEntry | None) -> FetchedSession:
        source = self.context.source
        fetched = source.fetch_session(plan.ref, set(plan.tables))
        if not fetched.frames and stored is None:
            raise FetchError("FastF1 gave no data for this session" + (
                f" (offline: not in the cache at {source.cache_dir})" if source.offline
                else ""))
        return fetched

    def _store(self, connection, fetched: Fetched) -> dict[str, tuple[int, int]]:
        """The session's rows, table by table and chunk by chunk, then its ledger rows.

        A stop signal is noticed between chunks (this may run in the writer thread, where
        no signal handler runs), so the transaction rolls back within a chunk's time.
        """
        key, tables, progress = self.ref.key, fetched.tables, self.context.progress
        counts = {}
        if any(table in EVENT_TABLES for table in tables):
            # Every session of the event writes its circuit layout: one at a time.
            wait_for_lock(connection, event_lock(key))
            if fetched.unmeasured_layout and measured_layout_stored(connection, key):
                for table in CIRCUIT_TABLES:   # never trade stored distances for none
                    tables.pop(table, None)
        for table in progress.bar(list(tables), total=len(tables), desc="tables", level=2):
            progress.set_description(2, table)
            signals.raise_if_received()
            rows = tables.pop(table)
            with progress.rows(f"{key.session_type} {table}", level=3) as advance:
                counts[table] = replace_session_rows(
                    connection, stored_table(table), key,
                    _until_stopped(rows) if _is_chunks(rows) else rows, on_rows=advance)
        write_ledger(connection, self.ref, self.context.source.version, fetched.parts)
        return counts


def event_lock(key: SessionKey) -> str:
    """The named lock of rows every session of an event writes (its circuit layout)."""
    return f"event {key.year} {key.round_number}"


@contextlib.contextmanager
def database_errors_classified():
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


def _is_chunks(rows) -> bool:
    """Lazy table chunks (an iterator), as opposed to rows already prepared."""
    return isinstance(rows, Iterator)


def _until_stopped(chunks):
    """``chunks``, ending with the stop signal's exception as soon as one was received."""
    for chunk in chunks:
        signals.raise_if_received()
        yield chunk
