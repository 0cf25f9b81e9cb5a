"""The run summary: one typed outcome per planned session, printed as a short table and
written as JSON (``--summary-json``; the shape is documented in README).

The populator reports each session once, through ``record_skipped``, ``record_loaded``
or ``record_failed``; every count is derived from those outcomes, so no counter can
drift from the list of sessions. Each record also logs the session's one line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Mapping

from .models import TABLE_NAMES
from .records import PartStatus, SessionRef

log = logging.getLogger("f1db")

Outcome = Literal["loaded", "skipped", "failed"]


@dataclass(frozen=True)
class SessionOutcome:
    """What the run did with one planned session."""

    session: str                        # "2021 Italian Grand Prix Practice 2"
    year: int
    round_number: int
    session_type: str
    outcome: Outcome
    reason: str | None = None           # why it was skipped or failed
    rows_inserted: dict[str, int] | None = None      # loaded: rows per table written
    rows_replaced: dict[str, int] | None = None      # loaded: stored rows replaced

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


@dataclass
class RunSummary:
    year: int
    database: str
    sessions_planned: int = 0
    fastf1_loads: int = 0
    sessions: list[SessionOutcome] = field(default_factory=list)
    missing: list[MissingPart] = field(default_factory=list)
    aborted: str | None = None
    duration_seconds: float = 0.0

    # -- recording ---------------------------------------------------------------------------

    def record_skipped(self, ref: SessionRef, reason: str) -> None:
        self._add(ref, "skipped", reason=reason)
        log.info("Skipped %s: %s", ref.label, reason)

    def record_loaded(self, ref: SessionRef, counts: Mapping[str, tuple[int, int]],
                      parts: Mapping[str, tuple[PartStatus, str | None]]) -> None:
        """``counts``: table -> (rows deleted, rows inserted); ``parts``: the ledger's new
        (status, reason) per table (plan.parts_to_record)."""
        self._add(ref, "loaded", rows_inserted={t: n for t, (_, n) in counts.items()},
                  rows_replaced={t: n for t, (n, _) in counts.items()})
        gaps = []
        for table, (status, reason) in parts.items():
            if status != PartStatus.LOADED:
                self.missing.append(MissingPart(ref.label, table, str(status), reason or ""))
                gaps.append(table)
        written = ", ".join(f"{t} {n:,}" for t, (_, n) in counts.items())
        log.info("Loaded %s: %s%s", ref.label, written or "no rows",
                 f" (missing or partial: {', '.join(sorted(gaps))})" if gaps else "")

    def record_failed(self, ref: SessionRef, reason: str) -> None:
        self._add(ref, "failed", reason=reason)
        log.error("Failed %s: %s", ref.label, reason)

    def _add(self, ref: SessionRef, outcome: Outcome, **details) -> None:
        self.sessions.append(SessionOutcome(
            session=ref.label, year=ref.key.year, round_number=ref.key.round_number,
            session_type=ref.key.session_type, outcome=outcome, **details))

    # -- derived figures ---------------------------------------------------------------------

    def _count(self, outcome: Outcome) -> int:
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
        return 1 if self.sessions_failed or self.aborted else 0

    # -- output ------------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "year": self.year, "database": self.database,
            "sessions_planned": self.sessions_planned,
            "sessions_loaded": self.sessions_loaded,
            "sessions_skipped": self.sessions_skipped,
            "sessions_failed": self.sessions_failed,
            "fastf1_loads": self.fastf1_loads,
            "rows_inserted": self.rows_inserted, "rows_replaced": self.rows_replaced,
            "sessions": [entry.to_json() for entry in self.sessions],
            "missing": [asdict(item) for item in self.missing],
            "failures": [{"session": entry.session, "reason": entry.reason}
                         for entry in self.failures],
            "aborted": self.aborted,
            "duration_seconds": round(self.duration_seconds, 3),
            "exit_code": self.exit_code,
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    def render(self) -> str:
        """A short table for the console (and the log)."""
        lines = [f"Summary for {self.year} -> {self.database}",
                 f"  sessions: {self.sessions_planned} planned, {self.sessions_loaded} loaded, "
                 f"{self.sessions_skipped} skipped, {self.sessions_failed} failed "
                 f"({self.fastf1_loads} FastF1 loads, {self.duration_seconds:.1f} s)"]
        written = {t: n for t, n in self.rows_inserted.items() if n}
        if written:
            width = max(len(t) for t in written)
            lines.append("  rows inserted:")
            lines += [f"    {t:<{width}}  {n:>10,}" for t, n in written.items()]
        else:
            lines.append("  rows inserted: none")
        gaps: dict[tuple[str, str], list[str]] = {}
        for item in self.missing:
            gaps.setdefault((item.session, item.status), []).append(item.table)
        for (session, status), tables in gaps.items():
            lines.append(f"  {status}: {session}: {', '.join(tables)} (retried on the next run)")
        for entry in self.failures:
            lines.append(f"  FAILED: {entry.session}: {entry.reason}")
        if self.aborted:
            lines.append(f"  STOPPED: {self.aborted}")
        return "\n".join(lines)
