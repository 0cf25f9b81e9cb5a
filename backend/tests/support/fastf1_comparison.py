"""Stored rows compared with FastF1's own frames, value for value, by the data contract.

Independent of f1db.transform and f1db.sources: the expected value of each column is worked
out here from FastF1's own objects and the models' declarations (source column and storage
kind), so a bug in a reader or the transform cannot hide behind the same code computing
both sides. Where FastF1 gives no DataFrame (``session_info``, the circuit, the standings,
the schedule), the frame is built here from what FastF1 documents and returns:

* ``session_info``: ``Session.session_info`` (the nested ``Meeting`` keys flattened, local
  ``StartDate``/``EndDate`` minus ``GmtOffset``) with ``t0_date``, ``session_start_time``
  and ``total_laps``;
* ``circuit_layouts`` / ``circuit_markers``: ``Session.get_circuit_info()``. FastF1 3.9
  raises instead of returning when it cannot finish: AttributeError when the MultiViewer
  API has no layout (offline: not in the cache), DataNotLoadedError without laps, or an
  error measuring the markers' distances on positions that do not cover the fastest lap;
  then the layout is ``fastf1.mvapi.get_circuit_info`` as FastF1 parses it, distances NaN,
  and without one there is no frame;
* ``driver_standings`` / ``constructor_standings``: ``fastf1.ergast.Ergast()``'s standings
  after the session's round, ``.content[0]``, for a Race only;
* ``events`` / ``event_sessions``: the rows of ``fastf1.get_event_schedule`` (testing
  events numbered -1, -2, ... in schedule order).

Tables kept once per event (no ``session_type`` column) are compared by (year,
round_number): the round is given, or read from the ledger's row of the session.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import fastf1
import fastf1.mvapi
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from f1db.models import Base, StoredSession, fact_sources

# session_info's FastF1 source columns -> where they are in ``Session.session_info``.
SESSION_INFO_PATHS = {
    "MeetingKey": ("Meeting", "Key"), "MeetingName": ("Meeting", "Name"),
    "MeetingOfficialName": ("Meeting", "OfficialName"),
    "MeetingLocation": ("Meeting", "Location"),
    "CountryKey": ("Meeting", "Country", "Key"), "CountryCode": ("Meeting", "Country", "Code"),
    "CountryName": ("Meeting", "Country", "Name"),
    "CircuitKey": ("Meeting", "Circuit", "Key"),
    "CircuitShortName": ("Meeting", "Circuit", "ShortName"),
    "Key": ("Key",), "Type": ("Type",), "Number": ("Number",), "Name": ("Name",),
    "Path": ("Path",), "ArchiveStatus": ("ArchiveStatus", "Status"),
    "GmtOffset": ("GmtOffset",),
}
# ... and those that are not in it: the UTC dates, and three Session attributes.
SESSION_ATTRIBUTES = {"T0Date": "t0_date", "SessionStartTime": "session_start_time",
                      "TotalLaps": "total_laps"}
MARKER_FRAMES = {"corner": "corners", "marshal_light": "marshal_lights",
                 "marshal_sector": "marshal_sectors"}
STANDINGS = {"driver_standings": "get_driver_standings",
             "constructor_standings": "get_constructor_standings"}
SCHEDULE_SESSIONS = 5      # Session1 .. Session5 in FastF1's EventSchedule


# --- FastF1's frames ------------------------------------------------------------------------

def fastf1_frame(session, table):
    """FastF1's DataFrame for a table, or None when FastF1 has no such data."""
    special = _SPECIAL_FRAMES.get(table)
    if special is not None:
        return special(session, table)
    try:
        value = getattr(session, fact_sources()[table].attribute)
    except fastf1.exceptions.DataNotLoadedError:
        return None
    if isinstance(value, dict):
        if not value:
            return None
        parts = []
        for driver, frame in value.items():
            frame = pd.DataFrame(frame).reset_index(drop=True)
            frame["driver_number"], frame["sample_index"] = driver, range(len(frame))
            parts.append(frame)
        return pd.concat(parts, ignore_index=True)
    frame = pd.DataFrame(value).reset_index(drop=True)
    return None if frame.empty and not fact_sources()[table].may_be_empty else frame


def _loaded(session, attribute):
    """A Session attribute, or None when FastF1 has not loaded it."""
    try:
        return getattr(session, attribute)
    except fastf1.exceptions.DataNotLoadedError:
        return None


def _dig(mapping, path):
    for name in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(name)
    return mapping


def session_info_frame(session, table="session_info"):
    """``Session.session_info`` as one row, with the UTC dates and the three attributes."""
    info = _loaded(session, "session_info")
    if not info:
        return None
    row = {source: _dig(info, path) for source, path in SESSION_INFO_PATHS.items()}
    offset = info.get("GmtOffset")
    for local, utc in (("StartDate", "StartDateUtc"), ("EndDate", "EndDateUtc")):
        value = info.get(local)
        row[utc] = None if value is None or offset is None else value - offset
    row.update({source: _loaded(session, attribute)
                for source, attribute in SESSION_ATTRIBUTES.items()})
    _check_covers(table, row)
    return pd.DataFrame([row])


def fastf1_circuit_info(session):
    """(circuit of ``session_info``, CircuitInfo) as FastF1 gives them, or None when FastF1
    has no layout for the session (see the module's docstring)."""
    circuit = _dig(_loaded(session, "session_info"), ("Meeting", "Circuit"))
    if not circuit or circuit.get("Key") is None:
        return None
    try:
        info = session.get_circuit_info()
    except Exception:     # no layout (AttributeError), no laps, distances not measurable
        info = None
    if info is None:
        key = circuit["Key"]
        if key == 149 and circuit.get("ShortName") == "Mugello":   # FastF1's correction
            key = 146
        try:
            info = fastf1.mvapi.get_circuit_info(year=session.event.year, circuit_key=key)
        except AttributeError:   # offline without the answer: FastF1 3.9 fails logging it
            info = None
    return None if info is None else (circuit, info)


def circuit_layout_frame(session, table="circuit_layouts"):
    found = fastf1_circuit_info(session)
    if found is None:
        return None
    circuit, info = found
    measured = any(getattr(info, name)["Distance"].notna().any()
                   for name in MARKER_FRAMES.values())
    row = {"CircuitKey": circuit.get("Key"), "CircuitShortName": circuit.get("ShortName"),
           "Rotation": info.rotation, "DistancesFrom": session.name if measured else None}
    _check_covers(table, row)
    return pd.DataFrame([row])


def circuit_markers_frame(session, table="circuit_markers"):
    """The three marker frames stacked, each row with its frame's type and its position."""
    found = fastf1_circuit_info(session)
    if found is None:
        return None
    parts = []
    for marker_type, name in MARKER_FRAMES.items():
        part = pd.DataFrame(getattr(found[1], name)).reset_index(drop=True)
        part["marker_type"], part["sequence"] = marker_type, range(len(part))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def standings_frame(session, table):
    """The championship after the session's round (a Race only), ``.content[0]``."""
    if session.name != "Race":
        return None
    from fastf1.ergast import Ergast

    try:
        response = getattr(Ergast(), STANDINGS[table])(season=session.event.year,
                                                       round=int(session.event.RoundNumber))
    except fastf1.exceptions.ErgastError:
        return None
    if not response.content or response.content[0].empty:
        return None
    return response.content[0]


_SPECIAL_FRAMES = {"session_info": session_info_frame,
                   "circuit_layouts": circuit_layout_frame,
                   "circuit_markers": circuit_markers_frame,
                   "driver_standings": standings_frame,
                   "constructor_standings": standings_frame}


def _check_covers(table_name, row):
    """Every source column of the model is worked out here (a new column fails loudly)."""
    sources = {column.info["source"] for column in Base.metadata.tables[table_name].columns
               if "source" in column.info}
    assert sources == set(row), (table_name, sources ^ set(row))


def schedule_frames(schedule, year):
    """``fastf1.get_event_schedule(year, ...)`` as the rows of ``events`` and
    ``event_sessions``: each event with its stored round (testing: -1, -2, ... in schedule
    order), each named session with its number, UTC start and local UTC offset."""
    events, sessions, tests = [], [], 0
    for _, event in schedule.iterrows():
        if event["EventFormat"] == "testing":
            tests += 1
            round_number = -tests
        else:
            round_number = int(event["RoundNumber"])
        events.append({**event.to_dict(), "year": year, "round_number": round_number})
        for number in range(1, SCHEDULE_SESSIONS + 1):
            name = event[f"Session{number}"]
            if not isinstance(name, str) or name in ("", "None"):
                continue
            local = event[f"Session{number}Date"]
            sessions.append({
                "year": year, "round_number": round_number, "session_type": name,
                "SessionNumber": number, "SessionDateUtc": event[f"Session{number}DateUtc"],
                "GmtOffset": None if pd.isna(local) else pd.Timestamp(local).utcoffset()})
    return {"events": pd.DataFrame(events), "event_sessions": pd.DataFrame(sessions)}


# --- what is stored -------------------------------------------------------------------------

def is_event_table(table) -> bool:
    """Kept once per event: keyed by (year, round_number), no ``session_type``."""
    return "session_type" not in table.c


def event_rounds(connection, year, session_name) -> list[int]:
    """The rounds of the ledger's sessions named ``session_name`` in ``year``."""
    ledger = StoredSession.__table__
    return list(connection.execute(select(ledger.c.round_number).where(
        ledger.c.year == year, ledger.c.session_type == session_name)).scalars())


def stored_rows(engine, table_name, year, session_name, round_number=None):
    """The session's rows of a fact table; for a table kept once per event, its event's
    rows (the round given, else the ledger's round of the session, else the whole year)."""
    table = Base.metadata.tables[table_name]
    conditions = [table.c.year == year]
    with engine.connect() as connection:
        if not is_event_table(table):
            conditions.append(table.c.session_type == session_name)
        if round_number is None and is_event_table(table):
            rounds = event_rounds(connection, year, session_name)
            if rounds:
                conditions.append(table.c.round_number.in_(rounds))
        elif round_number is not None:
            conditions.append(table.c.round_number == round_number)
        query = select(table).where(*conditions)
        return [dict(row) for row in connection.execute(query).mappings()]


def stored_schedule_rows(engine, table_name, year, *, testing=True):
    """A season's rows of ``events`` or ``event_sessions`` (testing rounds when asked)."""
    table = Base.metadata.tables[table_name]
    conditions = [table.c.year == year] + ([] if testing else [table.c.round_number > 0])
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            select(table).where(*conditions)).mappings()]


# --- values ---------------------------------------------------------------------------------

def _is_missing(value) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, (list, tuple, np.ndarray, dict, str)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def expected_value(value, kind):
    """FastF1's value as the data contract says it is stored (independent of f1db.transform)."""
    if _is_missing(value):
        return None
    if kind == "duration_ms":
        return int(math.floor(pd.Timedelta(value).value / 1e6 + 0.5))
    if kind == "timestamp_utc":
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.round("us").to_pydatetime()
    if kind == "date":
        stamp = pd.Timestamp(value)     # the calendar day as FastF1 gives it (local)
        assert stamp == stamp.normalize(), f"{value!r} is not a calendar day"
        return dt.date(stamp.year, stamp.month, stamp.day)
    if kind == "json_list":
        assert isinstance(value, (list, tuple, np.ndarray)), f"{value!r} is not a list"
        return json.dumps([item.item() if isinstance(item, np.generic) else item
                           for item in value], ensure_ascii=False)
    if kind == "integer":
        return int(value)
    if kind == "real":
        return float(value)
    if kind == "flag":
        return bool(value)
    return str(value)


def natural_key(table, row):
    """A stored row's natural key (its primary key after the session or event key)."""
    return tuple(row[column.name] for column in table.primary_key.columns
                 if not column.info.get("session_key"))


def expected_key(table, index, source):
    """The natural key FastF1's row ``index`` must be stored under, read from the model:
    FastF1 columns by their kind, derived keys from the expected frame's own columns
    (``driver_number``/``sample_index`` of the stacked telemetry, a marker's type and
    position, the schedule's keys), else ``sequence`` is the row's position."""
    key = []
    for column in table.primary_key.columns:
        if column.info.get("session_key"):
            continue
        if "source" in column.info:
            key.append(expected_value(source.get(column.info["source"]), column.info["kind"]))
        elif column.name in source.index:
            value = source[column.name]
            key.append(value.item() if isinstance(value, np.generic) else value)
        elif column.name == "sequence":
            key.append(index)
        else:
            key.append(source.get(column.name))
    return tuple(key)


def assert_rows_match(table_name, rows, frame):
    """``rows`` (stored) == FastF1's ``frame``, row for row by key, value for value."""
    table = Base.metadata.tables[table_name]
    assert len(rows) == len(frame), f"{table_name}: {len(rows)} rows, FastF1 has {len(frame)}"
    by_key = {natural_key(table, row): row for row in rows}
    assert len(by_key) == len(rows)
    for index, source in frame.reset_index(drop=True).iterrows():
        row = by_key[expected_key(table, index, source)]
        for column in table.columns:
            if "source" not in column.info:
                continue
            kind = column.info["kind"]
            want = expected_value(source.get(column.info["source"]), kind)
            got = row[column.name]
            where = (table_name, column.name, index, got, want)
            if kind == "json_list" and want is not None:
                assert isinstance(got, str) and json.loads(got) == json.loads(want), where
            elif isinstance(want, float) and got is not None:
                assert got == pytest.approx(want, rel=1e-12), where
            else:
                assert type(got) is type(want) or got is None, where
                assert got == want, where


def assert_table_matches(engine, table_name, frame, year, session_name, round_number=None):
    """Rows stored == FastF1's rows, value for value, column by column."""
    assert_rows_match(table_name, stored_rows(engine, table_name, year, session_name,
                                              round_number), frame)
