"""What a run must do for each selected session, decided from the ledger alone.

Pure: no FastF1, no database. A session whose requested tables are all loaded is
skipped before FastF1 is called; missing and partial tables are retried; tables never
asked for stay as they are, and are loaded when a later run asks for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .records import FetchedSession, LedgerEntry, PartStatus, SessionRef


@dataclass(frozen=True)
class SessionPlan:
    ref: SessionRef
    tables: tuple[str, ...]          # tables to (re)load; empty when skipped
    skip_reason: str | None = None

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None


def plan_session(ref: SessionRef, requested: tuple[str, ...], stored: LedgerEntry | None, *,
                 force: bool = False, now: dt.datetime | None = None,
                 offline_cache_changed_utc: dt.datetime | None = None) -> SessionPlan:
    """Decide what to load for one session, given what the ledger has of it (``stored``).

    ``offline_cache_changed_utc`` (offline runs only): when FastF1's cache last changed.
    Offline, FastF1 can only give what its cache holds, so retrying parts that were
    missing when the cache already looked as it does now would be a wasted
    ``Session.load``; they are retried once the cache changes or the run is online.
    """
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    if ref.start_utc is not None and ref.start_utc > now:
        return SessionPlan(ref, (), skip_reason="not held yet")
    if force or stored is None:
        return SessionPlan(ref, requested)
    todo = tuple(t for t in requested if stored.status(t) != PartStatus.LOADED)
    if not todo:
        return SessionPlan(ref, (), skip_reason="already stored")
    retried_only = all(stored.status(t) in (PartStatus.MISSING, PartStatus.PARTIAL)
                       for t in todo)
    if (retried_only and offline_cache_changed_utc is not None
            and stored.updated_at_utc >= offline_cache_changed_utc):
        return SessionPlan(ref, (), skip_reason=f"stored; {', '.join(todo)} not in the "
                                                f"offline FastF1 cache")
    return SessionPlan(ref, todo)


def parts_to_record(plan: SessionPlan, fetched: FetchedSession, stored: LedgerEntry | None
                    ) -> dict[str, tuple[PartStatus, str | None]]:
    """The ledger's new (status, reason) for each planned table after this load.

    A table FastF1 could not give this time but that is stored already keeps its rows
    and its status (a forced reload never trades stored data for nothing): it is left
    out, and neither its rows nor its ledger row are touched.
    """
    parts = {}
    for table, status in fetched.statuses(plan.tables).items():
        kept = stored.status(table) if stored else None
        if status == PartStatus.MISSING and kept in (PartStatus.LOADED, PartStatus.PARTIAL):
            continue
        parts[table] = (status, fetched.gap_reason(table))
    return parts
