"""``--plan``: what a run would do with each selected session, and what it would cost.

Reads the schedules (already read to select) and the ledger; never calls ``Session.load``,
writes nothing and creates no schema (an empty database is reported as such).
"""

from __future__ import annotations

from typing import Callable

from ..db import Database
from ..ledger import read_event_counts, read_failures, read_ledger
from ..plan import SessionPlan
from ..plan_report import PlannedSchedule, PlannedSeason, PlanReport, estimate_text
from ..records import EventRef, LedgerEntry, SessionRef, SkipReason
from ..schema import require_current_schema, schema_state
from ..sources.fastf1_costs import estimated_requests
from ..sources.fastf1_source import FastF1Source

Selection = list[tuple[EventRef, list[SessionRef]]]


def plan_selection(report: PlanReport, selection: Selection, database: Database,
                   source: FastF1Source, years: tuple[int, ...],
                   plan_for: Callable[[SessionRef, LedgerEntry | None], SessionPlan]) -> None:
    """Fill ``report`` with each selected session's state and next step, the seasons'
    calendars against ``events``, and the estimate of what loading the rest costs."""
    ledger, failures, stored_events = _read_ledger_if_any(database, years)
    for year in years:
        season = source.seasons[year]           # one events row per event, one
        report.schedules.append(PlannedSchedule(  # event_sessions row per session
            year, len(season), sum(len(event.sessions) for event in season),
            stored_events.get(year, 0)))
    seasons = {year: PlannedSeason(year) for year in years}
    for _, refs in selection:
        for ref in refs:
            plan = plan_for(ref, ledger.get(ref.key))
            report.add(plan, ledger.get(ref.key), failures.get(ref.key))
            season = seasons[ref.key.year]
            season.sessions += 1
            season.stored += ref.key in ledger
            season.nothing_for_the_era += (plan.skip is not None
                                           and plan.skip.reason is SkipReason.NOT_AVAILABLE)
            if not plan.skipped:
                cost = estimated_requests(plan.tables, live_timing=ref.live_timing)
                season.add_load(*cost)
    budget = source.budget

    def wait(requests: int, jolpica: int) -> float:
        return budget.seconds_needed(requests, jolpica) if budget and requests else 0.0

    for season in seasons.values():
        season.seconds = wait(season.requests, season.jolpica)
    report.season_costs = [season for season in seasons.values() if season.sessions]
    requests = sum(season.requests for season in seasons.values())
    jolpica = sum(season.jolpica for season in seasons.values())
    report.estimate = estimate_text(sum(season.to_load for season in seasons.values()),
                                    requests, jolpica, offline=source.offline,
                                    seconds=wait(requests, jolpica))


def _read_ledger_if_any(database: Database, years: tuple[int, ...]):
    """The ledger, the failures and the events stored per season; all empty on an empty
    database."""
    if schema_state(database).empty:
        return {}, {}, {}
    require_current_schema(database, create_if_empty=False, access="read")
    with database.engine.connect() as connection:
        return (read_ledger(connection, years), read_failures(connection, years),
                read_event_counts(connection, years))
