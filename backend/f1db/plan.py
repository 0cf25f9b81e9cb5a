"""What a run must do for each selected session, decided from the ledger alone.

Pure: no FastF1, no database. A session whose requested tables are all loaded is
skipped before FastF1 is called; missing and partial tables are retried; tables never
asked for stay as they are, and are loaded when a later run asks for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from packaging.version import InvalidVersion, Version

from .errors import UsageError
from .records import (FetchedSession, LedgerEntry, PartStatus, Parts, SessionRef, Skip,
                      SkipReason)

# How long a session runs, for watch mode's "ended plus a delay" (FastF1's schedule
# only has start times). A race can run 2 h plus suspensions; the delay covers the rest.
SESSION_HOURS = {"Race": 2.0}
DEFAULT_SESSION_HOURS = 1.0


@dataclass(frozen=True)
class Freshness:
    """``--refresh-older-than``: reload sessions stored before a moment or by an older FastF1,
    so that fixes in FastF1's parsing reach the database."""

    stored_before_utc: dt.datetime | None = None
    fastf1_before: Version | None = None

    def stale_reason(self, stored: LedgerEntry) -> str | None:
        if self.stored_before_utc and stored.updated_at_utc < self.stored_before_utc:
            return f"stored {stored.updated_at_utc:%Y-%m-%d}, refreshed"
        if self.fastf1_before:
            try:
                older = Version(stored.fastf1_version) < self.fastf1_before
            except InvalidVersion:
                older = True
            if older:
                return f"stored by FastF1 {stored.fastf1_version}, refreshed"
        return None


MAX_REFRESH_DAYS = 36500        # a century: every stored session


def freshness_from(value, now: dt.datetime | None = None) -> Freshness | None:
    """``30`` or ``1.5`` (days) or ``3.9.0`` (a FastF1 version); None for no refresh."""
    if value is None:
        return None
    if str(value).strip() == "":
        raise UsageError("The refresh age is empty: give days (e.g. 30) or a FastF1 version "
                         "(e.g. 3.9.0)", parameter="refresh_older_than")
    text = str(value).strip()
    now = now or _utc_now()
    try:
        days = float(text)
    except ValueError:
        days = None
    if days is not None and text.count(".") <= 1:
        if not 0 <= days <= MAX_REFRESH_DAYS:       # also nan and inf
            raise UsageError(f"An age must be 0 to {MAX_REFRESH_DAYS} days, not '{text}'",
                             parameter="refresh_older_than")
        return Freshness(stored_before_utc=now - dt.timedelta(days=days))
    try:
        return Freshness(fastf1_before=Version(text))
    except InvalidVersion:
        raise UsageError(f"Cannot read '{text}' as an age or a FastF1 version: give days "
                         f"(e.g. 30) or a version (e.g. 3.9.0)",
                         parameter="refresh_older_than") from None


@dataclass(frozen=True)
class Watching:
    """Watch mode's rules: a session is loaded once it has ended plus ``delay``; its missing
    parts are retried until it is ``give_up_after`` old."""

    delay: dt.timedelta
    give_up_after: dt.timedelta

    def ready_at(self, ref: SessionRef) -> dt.datetime | None:
        if ref.start_utc is None:
            return None
        hours = SESSION_HOURS.get(ref.key.session_type, DEFAULT_SESSION_HOURS)
        return ref.start_utc + dt.timedelta(hours=hours) + self.delay


@dataclass(frozen=True)
class SessionPlan:
    ref: SessionRef
    tables: tuple[str, ...]          # tables to (re)load; empty when skipped
    skip: Skip | None = None
    note: str | None = None          # why a stored session is loaded again (refresh)
    # chosen tables that cannot exist for the session's era (before live timing): never
    # loaded, never retried, not counted as missing
    not_available: tuple[str, ...] = ()

    @property
    def skipped(self) -> bool:
        return self.skip is not None

    @property
    def skip_reason(self) -> str | None:
        """The skip as the summary words it."""
        return None if self.skip is None else str(self.skip)


def plan_session(ref: SessionRef, requested: tuple[str, ...], stored: LedgerEntry | None, *,
                 not_available: tuple[str, ...] = (), **rules) -> SessionPlan:
    """Decide what to load for one session (:func:`plan_rules`); ``not_available``: the
    chosen tables the session's era cannot have (selection.tables_not_available), left
    out of ``requested``. A session left with nothing that exists is skipped for that."""
    if not requested and not_available:
        return SessionPlan(ref, (), Skip(SkipReason.NOT_AVAILABLE),
                           not_available=not_available)
    plan = plan_rules(ref, requested, stored, **rules)
    return replace(plan, not_available=not_available) if not_available else plan


def plan_rules(ref: SessionRef, requested: tuple[str, ...], stored: LedgerEntry | None, *,
               force: bool = False, now: dt.datetime | None = None,
               offline_cache_changed_utc: dt.datetime | None = None,
               refresh: Freshness | None = None,
               watching: Watching | None = None,
               ride_along: tuple[str, ...] = (),
               without_load: tuple[str, ...] = ()) -> SessionPlan:
    """Decide what to load for one session, given what the ledger has of it (``stored``).

    ``requested``: the tables this session has (the standings only a race). Tables in
    ``ride_along`` are loaded again whenever the session is loaded for another table that
    needs FastF1's ``Session.load`` (not one of ``without_load``): they cost nothing more
    then and a later load can know more (``t0_date`` once telemetry is loaded).

    ``offline_cache_changed_utc`` (offline runs only): when FastF1's cache last changed.
    Offline, FastF1 can only give what its cache holds, so retrying parts that were
    missing when the cache already looked as it does now would be a wasted
    ``Session.load``; they are retried once the cache changes or the run is online.
    """
    now = now or _utc_now()
    if not requested:
        return SessionPlan(ref, (), Skip(SkipReason.NO_TABLES))
    if ref.start_utc is not None and ref.start_utc > now:
        return SessionPlan(ref, (), Skip(SkipReason.NOT_HELD_YET))
    ready_at = watching.ready_at(ref) if watching else None
    if ready_at is not None and ready_at > now:
        return SessionPlan(ref, (), Skip(SkipReason.WAITING_FOR_DATA, until_utc=ready_at))
    if force or stored is None:
        return SessionPlan(ref, requested)
    stale = refresh.stale_reason(stored) if refresh else None
    if stale:
        return SessionPlan(ref, requested, note=stale)
    todo = tuple(t for t in requested if stored.status(t) != PartStatus.LOADED)
    if not todo:
        return SessionPlan(ref, (), Skip(SkipReason.ALREADY_STORED))
    if (watching and ref.start_utc is not None
            and ref.start_utc + watching.give_up_after < now):
        return SessionPlan(ref, (), Skip(SkipReason.GAVE_UP_WAITING, tables=todo))
    retried_only = all(stored.status(t) in (PartStatus.MISSING, PartStatus.PARTIAL)
                       for t in todo)
    if (retried_only and offline_cache_changed_utc is not None
            and stored.updated_at_utc >= offline_cache_changed_utc):
        return SessionPlan(ref, (), Skip(SkipReason.NOT_IN_OFFLINE_CACHE, tables=todo))
    if any(table not in without_load for table in todo):
        todo = tuple(t for t in requested if t in todo or t in ride_along)
    return SessionPlan(ref, todo)


def parts_to_record(plan: SessionPlan, fetched: FetchedSession, stored: LedgerEntry | None
                    ) -> Parts:
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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
