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
    round_number: int                   # testing events: -1, -2, ... (docs/DATA.md)
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
    live_timing: bool = True            # FastF1's F1ApiSupport: false before 2018

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


class SkipReason(str, Enum):
    """Why a session was not loaded (``--summary-json``'s ``skip_reason``)."""

    NO_TABLES = "no_tables"                     # none of the chosen tables is kept for it
    NOT_HELD_YET = "not_held_yet"               # its start is in the future
    WAITING_FOR_DATA = "waiting_for_data"       # --watch: ended less than --watch-delay ago
    ALREADY_STORED = "already_stored"           # every requested table is loaded
    GAVE_UP_WAITING = "gave_up_waiting"         # --watch: too old to retry its gaps
    NOT_IN_OFFLINE_CACHE = "not_in_offline_cache"   # its gaps: the offline cache lacks them
    HELD_BY_ANOTHER_WORKER = "held_by_another_worker"
    NOT_AVAILABLE = "not_available"             # nothing chosen exists before live timing

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Skip:
    """A skip reason with what the sentence about it needs: the tables still missing
    (``GAVE_UP_WAITING``, ``NOT_IN_OFFLINE_CACHE``), when the data is due
    (``WAITING_FOR_DATA``); ``meanwhile``: found only once the session's claim was held
    (another worker stored it after this run planned it)."""

    reason: SkipReason
    tables: tuple[str, ...] = ()
    until_utc: dt.datetime | None = None
    meanwhile: bool = False

    def __str__(self) -> str:
        tables = ", ".join(self.tables)
        if self.reason is SkipReason.NO_TABLES:
            text = "none of the chosen tables is kept for it (the standings come with the race)"
        elif self.reason is SkipReason.NOT_HELD_YET:
            text = "not held yet"
        elif self.reason is SkipReason.WAITING_FOR_DATA:
            text = f"waiting for its data until {self.until_utc:%Y-%m-%d %H:%M} UTC"
        elif self.reason is SkipReason.ALREADY_STORED:
            text = "already stored"
        elif self.reason is SkipReason.GAVE_UP_WAITING:
            text = f"stored; gave up waiting for {tables} (session too old)"
        elif self.reason is SkipReason.NOT_IN_OFFLINE_CACHE:
            text = f"stored; {tables} not in the offline FastF1 cache"
        elif self.reason is SkipReason.NOT_AVAILABLE:
            text = ("none of the chosen tables exists before F1's live timing (2018): "
                    "not available, never retried")
        else:
            text = "held by another worker"
        return f"{text} (stored meanwhile)" if self.meanwhile else text


Parts = dict[str, tuple[PartStatus, str | None]]     # table -> the ledger's (status, reason)


@dataclass(frozen=True)
class Loaded:
    """A session stored: rows (deleted, inserted) per table, the ledger's new status of
    each table, why it was loaded again (a refresh), seconds per phase, attempts made."""

    ref: SessionRef
    counts: dict[str, tuple[int, int]]
    parts: Parts
    note: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    attempts: int = 1


@dataclass(frozen=True)
class Skipped:
    ref: SessionRef
    skip: Skip


@dataclass(frozen=True)
class Failed:
    """A session given up on: the library error class that ended it (``TransientError``
    after its retries, ``FetchError``, ``WriteError``, ...) and its one-line reason."""

    ref: SessionRef
    error: type[Exception]
    reason: str
    attempts: int = 1


Outcome = Loaded | Skipped | Failed
