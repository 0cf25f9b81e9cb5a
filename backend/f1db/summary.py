"""The run summary: one typed outcome per selected session, printed as a short table and
written as JSON (``--summary-json``; the shape is documented in docs/USAGE.md).

The run reports each session once, as a ``records.Loaded``, ``Skipped`` or ``Failed``
(:meth:`RunSummary.record`); every count is derived from those outcomes, so no counter
can drift from the list of sessions. Each record also logs the session's one line.
``--plan`` has a report of its own (plan_report.py).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Literal, Mapping

from .errors import Interrupted, RunAborted
from .models import TABLE_NAMES
from .records import Failed, Loaded, Outcome, PartStatus, SessionRef, Skipped

log = logging.getLogger("f1db")

OutcomeName = Literal["loaded", "skipped", "failed"]


@dataclass(frozen=True)
class SessionOutcome:
    """What the run did with one planned session."""

    session: str                        # "2021 Italian Grand Prix Practice 2"
    event: str                          # "Italian Grand Prix"
    year: int
    round_number: int
    session_type: str
    outcome: OutcomeName
    reason: str | None = None           # why it was skipped or failed (loaded: refreshed why)
    skip_reason: str | None = None      # skipped: records.SkipReason's value
    error: str | None = None            # failed: the error class, e.g. "TransientError"
    attempts: int | None = None         # loaded or failed: attempts made (retries + 1)
    rows_inserted: dict[str, int] | None = None      # loaded: rows per table written
    rows_replaced: dict[str, int] | None = None      # loaded: stored rows replaced
    seconds: dict[str, float] | None = None          # loaded: seconds per phase

    def to_json(self) -> dict:
        return {name: value for name, value in asdict(self).items()
                if value is not None and name != "rows_replaced"}


@dataclass(frozen=True)
class MissingPart:
    """A table stored as partial or missing: retried on the next run."""

    session: str
    table: str
    status: str
    reason: str


@dataclass(frozen=True)
class SeasonSchedule:
    """A season's schedule as the run read it, and whether ``events`` had to change."""

    year: int
    events: int                         # events in FastF1's schedule (testing: if asked)
    sessions: int                       # their sessions (event_sessions rows)
    refreshed: bool                     # this run rewrote the season's rows (they differed)


def seasons_text(years: tuple[int, ...]) -> str:
    """``2021``, ``2018-2024`` or ``2019, 2021``."""
    years = list(years)
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(map(str, years))


@dataclass
class RunSummary:
    years: tuple[int, ...]
    database: str
    sessions_planned: int = 0
    fastf1_loads: int = 0
    requests: int = 0                   # real network requests (cache hits are free)
    shard: str | None = None            # "K/N" when this run is one shard of a plan
    sessions: list[SessionOutcome] = field(default_factory=list)
    missing: list[MissingPart] = field(default_factory=list)
    # table -> sessions of the selection that cannot have it (before live timing)
    not_available: dict[str, int] = field(default_factory=dict)
    aborted: str | None = None
    abort_exit_code: int = 1            # 3 when the request budget was spent (--no-wait)
    stopped: str | None = None          # the signal's name (SIGTERM, SIGINT)
    stop_exit_code: int = 0
    schedules: list[SeasonSchedule] = field(default_factory=list)
    duration_seconds: float = 0.0

    @property
    def seasons(self) -> str:
        return seasons_text(self.years)

    # -- recording ---------------------------------------------------------------------------

    def record(self, outcome: Outcome) -> None:
        """One session's outcome, in schedule order, with its log line."""
        if isinstance(outcome, Loaded):
            self._record_loaded(outcome)
        elif isinstance(outcome, Skipped):
            self._add(outcome.ref, "skipped", reason=str(outcome.skip),
                      skip_reason=outcome.skip.reason.value)
            log.info("Skipped %s: %s", outcome.ref.label, outcome.skip)
        elif isinstance(outcome, Failed):
            self._add(outcome.ref, "failed", reason=outcome.reason,
                      error=outcome.error.__name__, attempts=outcome.attempts)
            log.error("Failed %s: %s", outcome.ref.label, outcome.reason)
        else:
            raise TypeError(f"not a session outcome: {outcome!r}")

    def _record_loaded(self, loaded: Loaded) -> None:
        """``counts``: table -> (rows deleted, rows inserted); ``parts``: the ledger's new
        (status, reason) per table (plan.parts_to_record); ``seconds``: phase -> seconds
        (``fastf1``: the load, ``write``: the transaction, commit included)."""
        ref, counts = loaded.ref, loaded.counts
        seconds = {phase: round(value, 2) for phase, value in loaded.seconds.items()}
        self._add(ref, "loaded", reason=loaded.note, attempts=loaded.attempts,
                  rows_inserted={t: n for t, (_, n) in counts.items()},
                  rows_replaced={t: n for t, (n, _) in counts.items()},
                  seconds=seconds or None)
        gaps = []
        for table, (status, reason) in loaded.parts.items():
            if status != PartStatus.LOADED:
                self.missing.append(MissingPart(ref.label, table, str(status), reason or ""))
                gaps.append(table)
        written = ", ".join(f"{t} {n:,}" for t, (_, n) in counts.items())
        log.info("Loaded %s: %s%s%s", ref.label, written or "no rows",
                 f" (missing or partial: {', '.join(sorted(gaps))})" if gaps else "",
                 _phases(seconds, sum(n for _, n in counts.values())))

    def record_not_available(self, tables: tuple[str, ...]) -> None:
        """A selected session's chosen tables that its era cannot have (plan.SessionPlan)."""
        for table in tables:
            self.not_available[table] = self.not_available.get(table, 0) + 1

    def record_schedule(self, year: int, events: int, sessions: int, *,
                        refreshed: bool) -> None:
        self.schedules.append(SeasonSchedule(year, events, sessions, refreshed))
        log.info("Events of %s: %s events, %s sessions in FastF1's schedule (%s)", year,
                 events, sessions, "stored" if refreshed else "unchanged")

    def record_stop(self, stop: Interrupted) -> None:
        """A stop signal ended the run: the sessions in flight were rolled back."""
        self.stopped, self.stop_exit_code = stop.signal_name, stop.exit_code
        log.error("Stopped by %s: the sessions in flight were rolled back", stop.signal_name)

    def record_abort(self, error: RunAborted) -> None:
        """A failure that made every further session pointless (a spent budget, ...)."""
        self.aborted, self.abort_exit_code = str(error), error.exit_code
        log.error("Stopped: %s", error)

    def _add(self, ref: SessionRef, outcome: OutcomeName, **details) -> None:
        self.sessions.append(SessionOutcome(
            session=ref.label, event=ref.event_name, year=ref.key.year,
            round_number=ref.key.round_number, session_type=ref.key.session_type,
            outcome=outcome, **details))

    # -- derived figures ---------------------------------------------------------------------

    def _count(self, outcome: OutcomeName) -> int:
        return sum(1 for entry in self.sessions if entry.outcome == outcome)

    @property
    def sessions_loaded(self) -> int:
        return self._count("loaded")

    @property
    def sessions_skipped(self) -> int:
        return self._count("skipped")

    @property
    def sessions_failed(self) -> int:
        return self._count("failed")

    @property
    def failures(self) -> list[SessionOutcome]:
        return [entry for entry in self.sessions if entry.outcome == "failed"]

    def _rows(self, attribute: str) -> dict[str, int]:
        totals = dict.fromkeys(TABLE_NAMES, 0)
        for entry in self.sessions:
            for table, rows in (getattr(entry, attribute) or {}).items():
                totals[table] += rows
        return totals

    @property
    def rows_inserted(self) -> dict[str, int]:
        return self._rows("rows_inserted")

    @property
    def rows_replaced(self) -> dict[str, int]:
        return self._rows("rows_replaced")

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return self.stop_exit_code
        if self.aborted:
            return self.abort_exit_code
        return 1 if self.sessions_failed else 0

    # -- output ------------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "years": list(self.years), "database": self.database, "shard": self.shard,
            "sessions_planned": self.sessions_planned,
            "sessions_loaded": self.sessions_loaded,
            "sessions_skipped": self.sessions_skipped,
            "sessions_failed": self.sessions_failed,
            "fastf1_loads": self.fastf1_loads, "requests": self.requests,
            "rows_inserted": self.rows_inserted, "rows_replaced": self.rows_replaced,
            "sessions": [entry.to_json() for entry in self.sessions],
            "missing": [asdict(item) for item in self.missing],
            "not_available": dict(self.not_available),
            "schedules": [asdict(item) for item in self.schedules],
            "failures": [{"session": entry.session, "reason": entry.reason}
                         for entry in self.failures],
            "aborted": self.aborted, "stopped": self.stopped,
            "duration_seconds": round(self.duration_seconds, 3),
            "exit_code": self.exit_code,
        }


    def render(self) -> str:
        """A short table for the console (and the log)."""
        shard = f" (shard {self.shard})" if self.shard else ""
        lines = [f"Summary for {self.seasons}{shard} -> {self.database}",
                 f"  sessions: {self.sessions_planned} planned, {self.sessions_loaded} loaded, "
                 f"{self.sessions_skipped} skipped, {self.sessions_failed} failed "
                 f"({self.fastf1_loads} FastF1 loads, {self.requests} network requests, "
                 f"{self.duration_seconds:.1f} s)"]
        written = {t: n for t, n in self.rows_inserted.items() if n}
        if written:
            width = max(len(t) for t in written)
            lines.append("  rows inserted:")
            lines += [f"    {t:<{width}}  {n:>10,}" for t, n in written.items()]
        else:
            lines.append("  rows inserted: none")
        for item in self.schedules:
            if item.refreshed:
                lines.append(f"  events {item.year}: {item.events} events, {item.sessions} "
                             f"sessions stored from FastF1's schedule")
        gaps: dict[tuple[str, str], list[str]] = {}
        for item in self.missing:
            gaps.setdefault((item.session, item.status), []).append(item.table)
        for (session, status), tables in gaps.items():
            lines.append(f"  {status}: {session}: {', '.join(tables)} (retried on the next run)")
        if self.not_available:
            lines.append("  " + not_available_text(self.not_available))
        for entry in self.failures:
            lines.append(f"  FAILED: {entry.session}: {entry.reason}")
        if self.aborted:
            lines.append(f"  STOPPED: {self.aborted}")
        if self.stopped:
            lines.append(f"  STOPPED by {self.stopped}: the sessions in flight were rolled back; "
                         f"stored sessions are kept, run again to resume")
        return "\n".join(lines)


def not_available_text(sessions_per_table: Mapping[str, int]) -> str:
    """One line for the tables the selected sessions' era cannot have."""
    most = max(sessions_per_table.values())
    return (f"not available before F1's live timing (2018), never loaded or retried: "
            f"{', '.join(sessions_per_table)} (of up to {most} sessions)")


def _phases(seconds: Mapping[str, float], rows: int) -> str:
    """``; FastF1 load <s> s, write <s> s (<n> rows/s)`` for the session's log line."""
    if not seconds:
        return ""
    parts = []
    if "fastf1" in seconds:
        parts.append(f"FastF1 load {seconds['fastf1']:.1f} s")
    if "write" in seconds:
        rate = f" ({rows / seconds['write']:,.0f} rows/s)" if seconds["write"] > 0 and rows else ""
        parts.append(f"write {seconds['write']:.1f} s{rate}")
    return "; " + ", ".join(parts)
