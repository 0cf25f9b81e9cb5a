"""``--plan``'s report: per season and event, what is stored and what a run would do.

Built from the ledger and the schedules alone (nothing loaded, nothing written), printed
as a table and written as JSON (``--plan --summary-json``; docs/USAGE.md has the shape).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .models import VIEW_NAMES, fact_sources
from .plan import SessionPlan
from .records import FailureRecord, LedgerEntry, PartStatus, SessionRef, SkipReason
from .summary import not_available_text, seasons_text


@dataclass(frozen=True)
class PlannedSession:
    """What the ledger says of one selected session (``state``: stored, partial, missing,
    failed or new) and what a run would do with it (``next_step``)."""

    ref: SessionRef
    state: str
    next_step: str

    def to_json(self) -> dict:
        ref = self.ref
        return {"session": ref.label, "event": ref.event_name, "year": ref.key.year,
                "round_number": ref.key.round_number, "session_type": ref.key.session_type,
                "outcome": "planned", "state": self.state, "reason": self.next_step}


@dataclass(frozen=True)
class PlannedSchedule:
    """A season's events in FastF1's schedule against those stored in ``events``."""

    year: int
    events: int
    sessions: int
    stored: int


@dataclass
class PlannedSeason:
    """One season of the selection: what is stored, what its era has, what is left and
    what loading the rest would cost (the requests, and the wait under the rate limits
    were the season run alone)."""

    year: int
    sessions: int = 0
    stored: int = 0                     # with a row in the ledger
    nothing_for_the_era: int = 0        # nothing chosen exists (before live timing)
    to_load: int = 0
    requests: int = 0
    jolpica: int = 0
    seconds: float = 0.0

    def add_load(self, requests: int, jolpica: int) -> None:
        self.to_load += 1
        self.requests += requests
        self.jolpica += jolpica

    def render(self, offline: bool) -> str:
        era = (f", {self.nothing_for_the_era} with nothing before live timing"
               if self.nothing_for_the_era else "")
        return (f"season {self.year}: {self.stored} of {self.sessions} sessions stored{era}; "
                + estimate_text(self.to_load, self.requests, self.jolpica, offline=offline,
                                seconds=self.seconds, short=True))


@dataclass
class PlanReport:
    years: tuple[int, ...]
    database: str
    shard: str | None = None
    sessions: list[PlannedSession] = field(default_factory=list)
    # table -> selected sessions that cannot have it (before live timing)
    not_available: dict[str, int] = field(default_factory=dict)
    schedules: list[PlannedSchedule] = field(default_factory=list)
    estimate: str | None = None         # the requests and time the sessions to load need
    season_costs: list[PlannedSeason] = field(default_factory=list)
    offline: bool = False
    fastf1_loads: int = 0               # always 0: a plan loads no session
    requests: int = 0                   # network requests made (schedules not cached yet)
    duration_seconds: float = 0.0
    exit_code: int = 0                  # a plan that could be made always exits 0

    @property
    def seasons(self) -> str:
        return seasons_text(self.years)

    def add(self, plan: SessionPlan, stored: LedgerEntry | None,
            failure: FailureRecord | None) -> None:
        self.sessions.append(PlannedSession(plan.ref, *describe_plan(plan, stored, failure)))
        for table in plan.not_available:
            self.not_available[table] = self.not_available.get(table, 0) + 1

    def to_json(self) -> dict:
        return {"years": list(self.years), "database": self.database, "shard": self.shard,
                "sessions_planned": len(self.sessions),
                "sessions": [entry.to_json() for entry in self.sessions],
                "not_available": dict(self.not_available),
                "schedules": [asdict(item) for item in self.schedules],
                "estimate": self.estimate,
                "seasons": [{key: round(value, 1) if isinstance(value, float) else value
                             for key, value in asdict(item).items()}
                            for item in self.season_costs],
                "fastf1_loads": self.fastf1_loads, "requests": self.requests,
                "duration_seconds": round(self.duration_seconds, 3),
                "exit_code": self.exit_code}


    def render(self) -> str:
        shard = f" (shard {self.shard})" if self.shard else ""
        lines = [f"Plan for {self.seasons}{shard} -> {self.database}"]
        event = None
        for entry in self.sessions:
            heading = f"{entry.ref.key.year} {entry.ref.event_name}"
            if heading != event:
                event = heading
                lines.append(f"  {heading}")
            lines.append(f"    {entry.ref.key.session_type:<18} {entry.state:<8} "
                         f"{entry.next_step}")
        states: dict[str, int] = {}
        for entry in self.sessions:
            states[entry.state] = states.get(entry.state, 0) + 1
        lines.append("  sessions: " + ", ".join(f"{n} {state}" for state, n in states.items())
                     if states else "  sessions: none selected")
        if self.not_available:
            lines.append("  " + not_available_text(self.not_available))
        lines.append(f"  views {', '.join(VIEW_NAMES)}: computed from the stored tables, nothing "
                     f"to load")
        for item in self.schedules:
            lines.append(f"  events {item.year}: {item.events} in FastF1's schedule "
                         f"({item.sessions} sessions), {item.stored} stored in events; "
                         f"every run stores the schedule as it is")
        if len(self.season_costs) > 1 or any(item.nothing_for_the_era
                                             for item in self.season_costs):
            lines += [f"  {item.render(self.offline)}" for item in self.season_costs]
        if self.estimate:
            lines.append(f"  {self.estimate}")
        return "\n".join(lines)


def describe_plan(plan: SessionPlan, stored: LedgerEntry | None,
                  failure: FailureRecord | None) -> tuple[str, str]:
    """(state, next step) of a session for ``--plan``."""
    if plan.skip is not None and plan.skip.reason is SkipReason.NOT_AVAILABLE:
        return "n/a", str(plan.skip)
    if stored is None:
        if failure is not None:
            state = "failed"
            when = failure.failed_at_utc.strftime("%Y-%m-%d %H:%M")
            detail = f"failed {failure.failed_runs}x, last {when} UTC: {failure.reason}"
        else:
            state, detail = "new", ""
    else:
        ref, sources = plan.ref, fact_sources()
        gaps = {table: status for table, status in stored.statuses.items()
                if status != PartStatus.LOADED and (table not in sources or sources[
                    table].exists(ref.key.session_type, ref.live_timing, ref.key.year))}
        state = ("partial" if PartStatus.PARTIAL in gaps.values()
                 else "missing" if gaps else "stored")
        detail = ", ".join(f"{table} {status}" for table, status in sorted(gaps.items()))
    if plan.skipped:
        step = str(plan.skip)
    else:
        step = f"load {', '.join(plan.tables)}" + (f" ({plan.note})" if plan.note else "")
    return state, step + (f"; {detail}" if detail else "")


def estimate_text(sessions: int, requests: int, jolpica: int, *, offline: bool,
                  seconds: float, short: bool = False) -> str:
    """What loading the rest costs: ``seconds`` is the wait under the rate limits;
    ``short``: without the notes the run's total line carries."""
    if not sessions:
        return "nothing to load"
    if offline:
        return (f"{sessions} sessions to load from the FastF1 cache"
                + ("" if short else " (offline: no network requests)"))
    waiting = (f"about {_duration(seconds)} under the rate limits" if seconds >= 60
               else "within this hour's request budget")
    if short:
        return (f"{sessions} to load, at most {requests} requests ({jolpica} to Jolpica), "
                f"{waiting}")
    return (f"{sessions} sessions to load: at most {requests} network requests "
            f"({jolpica} to Jolpica; cached responses cost none), {waiting} "
            f"(FastF1's parsing and the writes come on top)")


def _duration(seconds: float) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
