"""The run summary: counted while the run goes, printed as a short table, written as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .models import TABLE_NAMES


@dataclass
class RunSummary:
    year: int
    database: str
    sessions_planned: int = 0
    sessions_loaded: int = 0
    sessions_skipped: int = 0
    sessions_failed: int = 0
    fastf1_loads: int = 0
    rows_inserted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLE_NAMES, 0))
    rows_replaced: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLE_NAMES, 0))
    sessions: list[dict] = field(default_factory=list)   # one entry per planned session
    missing: list[dict] = field(default_factory=list)    # {session, table, status, reason}
    failures: list[dict] = field(default_factory=list)   # {session, reason}
    aborted: str | None = None
    duration_seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.sessions_failed or self.aborted else 0

    def to_json(self) -> dict:
        data = asdict(self)
        data["duration_seconds"] = round(self.duration_seconds, 3)
        data["exit_code"] = self.exit_code
        return data

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
            gaps.setdefault((item["session"], item["status"]), []).append(item["table"])
        for (session, status), tables in gaps.items():
            lines.append(f"  {status}: {session}: {', '.join(tables)} (retried on the next run)")
        for item in self.failures:
            lines.append(f"  FAILED: {item['session']}: {item['reason']}")
        if self.aborted:
            lines.append(f"  STOPPED: {self.aborted}")
        return "\n".join(lines)
