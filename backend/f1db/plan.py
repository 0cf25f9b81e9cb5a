"""What a run must do for each selected session, decided from the ``sessions`` ledger alone.

Pure: no FastF1, no database. A session whose requested tables are all ``loaded`` is
skipped before FastF1 is called; ``missing`` and ``partial`` tables are retried; tables
never asked for (``--tables``, ``--no-telemetry``) stay as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .fetch import SessionRef

LOADED, PARTIAL, MISSING = "loaded", "partial", "missing"


@dataclass(frozen=True)
class SessionPlan:
    ref: SessionRef
    tables: tuple[str, ...]          # tables to (re)load; empty when skipped
    skip_reason: str | None = None

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None


def plan_session(ref: SessionRef, requested: tuple[str, ...], ledger_row: dict | None, *,
                 force: bool = False, now: dt.datetime | None = None,
                 offline_cache_changed_utc: dt.datetime | None = None) -> SessionPlan:
    """Decide what to load for one session.

    ``offline_cache_changed_utc`` (offline runs only): when FastF1's cache last changed.
    Offline, FastF1 can only give what its cache holds, so retrying parts that were
    missing when the cache already looked as it does now would be a wasted
    ``Session.load``; they are retried once the cache changes or the run is online.
    """
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    if ref.start_utc is not None and ref.start_utc > now:
        return SessionPlan(ref, (), skip_reason="not held yet")
    if force or ledger_row is None:
        return SessionPlan(ref, requested)
    todo = tuple(t for t in requested if ledger_row.get(f"{t}_status") != LOADED)
    if not todo:
        return SessionPlan(ref, (), skip_reason="already stored")
    retried_only = all(ledger_row.get(f"{t}_status") in (MISSING, PARTIAL) for t in todo)
    attempted = ledger_row.get("updated_at_utc")
    if (retried_only and offline_cache_changed_utc is not None and attempted is not None
            and attempted >= offline_cache_changed_utc):
        return SessionPlan(ref, (), skip_reason=f"stored; {', '.join(todo)} not in the "
                                                f"offline FastF1 cache")
    return SessionPlan(ref, todo)


def table_statuses(tables: tuple[str, ...], *, missing: dict, partial: dict) -> dict[str, str]:
    """Ledger status per (re)loaded table."""
    return {t: MISSING if t in missing else PARTIAL if t in partial else LOADED for t in tables}
