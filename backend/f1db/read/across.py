"""Frames across sessions: one table of a selection of stored sessions as one DataFrame.

``read_frame(database, "laps", years=..., events=..., sessions=..., drivers=...)`` gives
FastF1's columns and dtypes (``laps``, ``results``, ``weather``, ...) or, for tables FastF1
has no frame of, their stored columns with durations as Timedelta (``stints``,
``pit_stops``) and the standings with the Ergast names FastF1 gives them; in front, the
session's ``Year``, ``RoundNumber``, ``EventName`` and ``SessionName``. Each session's rows
come in FastF1's order, sessions in calendar order.

``iter_frames`` yields the same in chunks of whole sessions (about ``chunk_rows`` rows
each), reading one chunk at a time, so memory stays bounded by a chunk whatever the
selection (a decade of laps is a few hundred chunks of one query each).
"""

from __future__ import annotations

import json
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Column, Connection, select

from ..errors import UsageError
from ..models import PACKED_TABLES, StoredSession
from ..records import SessionKey
from ..sources.events import events_from_schedule, match_event, session_name
from . import rows
from .access import StoredData, opened
from .calendar import stored_schedule
from .frames import FRAMES, fastf1_frame, stored_order
from .samples import sessions_samples

# Tables FastF1 has no frame of, read with their stored columns.
VIEWS = ("stints", "pit_stops")
STANDINGS = ("driver_standings", "constructor_standings")
READABLE = (*FRAMES, *VIEWS, *STANDINGS)
KEY_COLUMNS = ["Year", "RoundNumber", "EventName", "SessionName"]
DEFAULT_CHUNK_ROWS = 200_000
# The FastF1 frames' own order per session (sessions stored before revision 0007 have no
# row_order: docs/READING.md, "Row order").
_FALLBACK = {"results": ["position", "driver_number"],
             "laps": ["driver_number", "lap_number"]}
# The views' rows in each session: by driver, then stint or lap.
_VIEW_ORDER = {"stints": ["driver_number", "stint"], "pit_stops": ["driver_number", "lap"]}
# Per driver tables and views: the column a ``drivers`` filter compares with.
_DRIVER_COLUMNS = ("driver_number", "driver", "abbreviation", "driver_code")


def read_frame(database: str | StoredData | None, table: str, *,
               years: int | Iterable[int] | None = None,
               events: Iterable[str | int] | None = None,
               sessions: Iterable[str] | None = None,
               drivers: Iterable[str] | None = None) -> pd.DataFrame:
    """``table`` of every stored session in the selection, as one DataFrame (module doc).

    ``years``: a season or several (None: all stored); ``events``: round numbers or names
    as populate_db.py takes them; ``sessions``: abbreviations or names (``R``, ``Q``,
    ``'Practice 1'``); ``drivers``: driver numbers or three-letter abbreviations.
    """
    chunks = list(iter_frames(database, table, years=years, events=events,
                              sessions=sessions, drivers=drivers))
    if not chunks:
        return _empty(table)
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def iter_frames(database: str | StoredData | None, table: str, *,
                years: int | Iterable[int] | None = None,
                events: Iterable[str | int] | None = None,
                sessions: Iterable[str] | None = None,
                drivers: Iterable[str] | None = None,
                chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """:func:`read_frame` in chunks of whole sessions of about ``chunk_rows`` rows."""
    if table not in READABLE:
        raise UsageError(f"Unknown table {table!r}: read one of {', '.join(READABLE)}",
                         parameter="table")
    with opened(database) as stored:
        with stored.reading(f"the stored sessions of {table}") as connection:
            selected = _selected_sessions(connection, years, events, sessions)
        of = rows.table(table) if table in FRAMES or table in STANDINGS else None
        for chunk in _chunks(selected, table, chunk_rows):
            with stored.reading(table) as connection:
                frame = _read_chunk(stored, connection, table, of, chunk, drivers)
            if len(frame):
                yield frame


def _selected_sessions(connection: Connection, years, events, sessions
                       ) -> list[tuple[SessionKey, str, int]]:
    """(key, event name, stored rows estimate) of the stored sessions in the selection."""
    ledger = StoredSession.__table__
    query = select(ledger.c.year, ledger.c.round_number, ledger.c.session_type,
                   ledger.c.event_name).order_by(ledger.c.session_start_utc, ledger.c.year,
                                                 ledger.c.round_number, ledger.c.session_type)
    if years is not None:
        years = [years] if isinstance(years, int) else list(years)
        query = query.where(ledger.c.year.in_(years))
    found = connection.execute(query).all()
    if events is not None:
        rounds = _rounds(connection, sorted({row.year for row in found}), list(events))
        found = [row for row in found if (row.year, row.round_number) in rounds]
    if sessions is not None:
        found = [row for row in found
                 if row.session_type in {session_name(str(name), row.year) for name in sessions}]
    return [(SessionKey(row.year, row.round_number, row.session_type), row.event_name)
            for row in found]


def _rounds(connection: Connection, years: list[int], events: list) -> set[tuple[int, int]]:
    """(year, round) of each named event in each season that has it."""
    chosen = set()
    for year in years:
        schedule = stored_schedule(connection, year)
        refs = events_from_schedule(schedule, year)
        for selector in events:
            try:
                chosen.add((year, match_event(refs, str(selector), year, schedule).round_number))
            except UsageError:
                if len(years) == 1:
                    raise
    return chosen


def _chunks(selected: list, table: str, chunk_rows: int) -> Iterator[list]:
    """Sessions in groups whose rows are about ``chunk_rows`` (a typical session's rows per
    table, known roughly: laps ~1,000, results ~20, weather ~150)."""
    per_session = {"laps": 1_200, "telemetry": 150_000, "positions": 150_000}.get(table, 100)
    size = max(1, chunk_rows // per_session)
    for start in range(0, len(selected), size):
        yield selected[start:start + size]


def _read_chunk(stored: StoredData, connection: Connection, table: str, of, chunk: list,
                drivers) -> pd.DataFrame:
    keys = [key for key, _ in chunk]
    names = {(key.year, key.round_number, key.session_type): name for key, name in chunk}
    if table in PACKED_TABLES:         # unpacked here: much less work than the view's SQL
        packed = PACKED_TABLES[table]
        where = [] if drivers is None else [packed.c.driver_number.in_(list(drivers))]
        return _shaped(sessions_samples(stored, connection, table, keys, *where), table, names)
    if of is None:
        of = _view(connection, table)
    columns = rows.payload(of) if table in FRAMES or table in STANDINGS else [
        column for column in of.columns if column.name not in ("year", "round_number",
                                                               "session_type")]
    key_columns = [of.c[name] for name in ("year", "round_number", "session_type")
                   if name in of.c]
    conditions = rows.sessions_rows(of, keys)
    if drivers is not None:
        conditions.append(_driver_condition(of, list(drivers)))
    order = key_columns + (rows.natural_key(of) if of.primary_key.columns else
                           [of.c[name] for name in _VIEW_ORDER[table]])
    frame = stored.dialect.read_frame(connection, key_columns + columns, conditions, order)
    return _shaped(frame, table, names)


def _view(connection: Connection, name: str):
    """A view as a Table (its columns reflected once per read)."""
    from sqlalchemy import MetaData, Table

    return Table(name, MetaData(), autoload_with=connection)


def _driver_condition(of, drivers: list[str]):
    for name in _DRIVER_COLUMNS:
        if name in of.c:
            column: Column = of.c[name]
            others = [of.c[other] for other in _DRIVER_COLUMNS[1:] if other in of.c]
            condition = column.in_(drivers)
            for other in others:
                condition = condition | other.in_(drivers)
            return condition
    raise UsageError(f"{of.name} has no driver column to filter by: leave drivers out",
                     parameter="drivers")


def _shaped(frame: pd.DataFrame, table: str, names: dict) -> pd.DataFrame:
    """Each session's rows in FastF1's order and shape, the session's columns in front."""
    session_columns = [name for name in ("year", "round_number", "session_type")
                       if name in frame.columns]
    groups = dict(list(frame.groupby(session_columns, sort=False)))
    order = list(dict.fromkeys(key[:len(session_columns)] for key in names))   # calendar
    parts = []
    for values in order:
        part = groups.get(values)
        if part is None:
            continue
        if table in _FALLBACK:
            part = stored_order(part.reset_index(drop=True), _FALLBACK[table])
        if table in FRAMES:
            shaped = fastf1_frame(part.reset_index(drop=True), FRAMES[table])
        elif table in STANDINGS:
            shaped = _ergast_frame(part.reset_index(drop=True), table)
        else:
            shaped = _view_frame(part.reset_index(drop=True))
        year, round_number = int(values[0]), int(values[1])
        session = values[2] if len(values) > 2 else None
        event_name = next((name for (y, r, _), name in names.items()
                           if (y, r) == (year, round_number)), None)
        keys = pd.DataFrame({"Year": np.full(len(shaped), year, dtype=np.int64),
                             "RoundNumber": np.full(len(shaped), round_number, dtype=np.int64),
                             "EventName": np.full(len(shaped), event_name, dtype=object),
                             "SessionName": np.full(len(shaped), session, dtype=object)})
        parts.append(pd.concat([keys, shaped.reset_index(drop=True)], axis=1))
    return pd.concat(parts, ignore_index=True) if parts else _empty(table)


def _ergast_frame(part: pd.DataFrame, table: str) -> pd.DataFrame:
    """Standings with the Ergast names FastF1 gives them; lists back as lists."""
    out = {}
    for column in rows.table(table).columns:
        if "source" not in column.info:
            continue
        values = part[column.name]
        if column.info["kind"] == "json_list":
            values = values.map(lambda text: None if text is None else json.loads(text))
        elif column.info["kind"] == "integer":
            values = values.astype("float64") if values.isna().any() else values.astype("int64")
        out[column.info["source"]] = values.to_numpy() if hasattr(values, "to_numpy") else values
    return pd.DataFrame(out)


def _view_frame(part: pd.DataFrame) -> pd.DataFrame:
    """A view's columns as stored, durations (``_ms``) as Timedelta under the same name."""
    out = part.drop(columns=[name for name in ("year", "round_number", "session_type")
                             if name in part.columns]).copy()
    for name in out.columns:
        values = pd.Series(out[name].to_numpy(dtype=object))
        values = values.where(values.notna(), None)
        if name.endswith("_ms"):
            out[name] = pd.to_timedelta(pd.to_numeric(values), unit="ms")
        elif values.map(lambda value: value is None or isinstance(value, (bool, np.bool_))).all():
            out[name] = values.astype("boolean")
        elif values.map(lambda value: value is None or isinstance(value, (int, np.integer))).all():
            out[name] = values.astype("Int64")
    return out


def _empty(table: str) -> pd.DataFrame:
    if table in FRAMES:
        return pd.DataFrame(columns=KEY_COLUMNS + [name for name, _ in FRAMES[table].columns])
    return pd.DataFrame(columns=KEY_COLUMNS)

