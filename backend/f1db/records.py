"""The records every stage passes along: which session, what FastF1 gave, what is stored.

A leaf module (standard library and pandas only): plan, fetch, transform, load and summary
all import it, and it imports none of them, so the stages depend only on earlier stages
and on these shapes. See docs/ARCHITECTURE.md for the pipeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

import pandas as pd


@dataclass(frozen=True)
class SessionKey:
    """The session metadata every fact row carries (FastF1's ``Session.name`` as type)."""

    year: int
    round_number: int                   # testing events: -1, -2, ... (see README)
    session_type: str

    def __str__(self) -> str:
        return f"{self.year} round {self.round_number} {self.session_type}"


@dataclass(frozen=True)
class SessionRef:
    """A session of the schedule: everything needed to plan it, store it and load it."""

    key: SessionKey
    event_name: str
    country: str | None
    location: str | None
    event_format: str | None
    start_utc: dt.datetime | None
    test_number: int | None = None      # testing events are opened by test number
    session_number: int = 1             # 1..5 within the event

    @property
    def label(self) -> str:
        return f"{self.key.year} {self.event_name} {self.key.session_type}"


@dataclass(frozen=True)
class EventRef:
    """An event of the schedule with its sessions, in schedule order."""

    year: int
    round_number: int
    name: str
    schedule_index: int                 # the event's row label in FastF1's schedule
    sessions: tuple[SessionRef, ...]


class PartStatus(str, Enum):
    """What the ledger says of one table of one stored session.

    A table never asked for (``--tables``, ``--no-telemetry``) has no status at all.
    """

    LOADED = "loaded"       # FastF1's rows are stored; never loaded again (but --force)
    PARTIAL = "partial"     # stored, but FastF1 had not published everything: retried
    MISSING = "missing"     # FastF1 had nothing: retried on the next run

    def __str__(self) -> str:
        return self.value


@dataclass
class FetchedSession:
    """What one ``Session.load`` gave, as FastF1 gave it (no transform applied yet).

    ``frames`` maps a table name to FastF1's DataFrame, or, for per-driver sources
    (``car_data``, ``pos_data``), to FastF1's dict of per-driver DataFrames.
    """

    frames: dict[str, pd.DataFrame | dict[str, pd.DataFrame]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)     # table -> reason
    partial: dict[str, str] = field(default_factory=dict)     # table -> reason

    def statuses(self, tables: tuple[str, ...]) -> dict[str, PartStatus]:
        """The status each of ``tables`` gets from this load."""
        return {table: PartStatus.MISSING if table in self.missing
                else PartStatus.PARTIAL if table in self.partial else PartStatus.LOADED
                for table in tables}

    def take_frames(self) -> dict[str, pd.DataFrame | dict[str, pd.DataFrame]]:
        """Hand the frames over and keep none, so that each can be freed once transformed
        (a race's telemetry is hundreds of MB)."""
        frames, self.frames = self.frames, {}
        return frames

    def gap_reason(self, table: str) -> str | None:
        return self.missing.get(table) or self.partial.get(table)


@dataclass(frozen=True)
class LedgerEntry:
    """A stored session as the ledger (``sessions`` and ``session_parts``) records it."""

    key: SessionKey
    statuses: dict[str, PartStatus]     # only tables that were ever asked for
    fastf1_version: str
    loaded_at_utc: dt.datetime
    updated_at_utc: dt.datetime         # when a run last (re)loaded any of its tables

    def status(self, table: str) -> PartStatus | None:
        return self.statuses.get(table)


@dataclass(frozen=True)
class FailureRecord:
    """The last failure of a session that is not stored (``session_failures``)."""

    key: SessionKey
    reason: str
    failed_runs: int
    failed_at_utc: dt.datetime
