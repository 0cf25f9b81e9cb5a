"""``load_session``: a stored session back as a real ``fastf1.core.Session``.

What ``Session.load()`` would have set is read from the database alone (no FastF1 cache,
no network, no request budget) and put into FastF1's own types: ``SessionResults``,
``Laps``, one ``Telemetry`` per driver in ``car_data`` and ``pos_data``, the plain frames
of weather, track and session status and race control messages, ``session_info`` and the
circuit. The options mirror ``Session.load``'s: ``laps`` brings the laps with the session
and track status, the lap count and the session's start; ``telemetry`` the car data,
positions and ``t0_date``.

A part the database does not hold is not set, so reading it raises ``PartNotStored``
(FastF1's ``DataNotLoadedError`` too) saying why and what to run; ``strict=True`` raises
at once instead. ``session.f1db_missing`` lists them, ``session.f1db_parts`` has the
ledger's status of every stored table.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from ..errors import NotStored
from ..models import SessionFailure, SessionPart, StoredSession, fact_sources
from ..records import PartStatus, SessionKey
from . import fastf1_compat, rows
from .access import StoredData, opened
from .calendar import NamedSession, find_session
from .frames import FRAMES, fastf1_frame, results_index, stored_order
from .samples import session_samples

log = logging.getLogger(__name__)

# Session property -> (the table that holds it, the load option that reads it).
PARTS = {
    "laps": ("laps", "laps"), "session_status": ("session_status", "laps"),
    "track_status": ("track_status", "laps"), "car_data": ("telemetry", "telemetry"),
    "pos_data": ("positions", "telemetry"), "weather_data": ("weather", "weather"),
    "race_control_messages": ("race_control_messages", "messages"),
}
# Frames FastF1 keeps as plain DataFrames (the others have FastF1 classes).
_PLAIN = {"session_status", "track_status", "weather_data", "race_control_messages"}
# session_info's columns, by where FastF1 keeps them in ``Session.session_info``.
_INFO_PATHS = {
    "meeting_key": ("Meeting", "Key"), "meeting_name": ("Meeting", "Name"),
    "meeting_official_name": ("Meeting", "OfficialName"),
    "meeting_location": ("Meeting", "Location"),
    "country_key": ("Meeting", "Country", "Key"), "country_code": ("Meeting", "Country", "Code"),
    "country_name": ("Meeting", "Country", "Name"),
    "circuit_key": ("Meeting", "Circuit", "Key"),
    "circuit_short_name": ("Meeting", "Circuit", "ShortName"),
    "archive_status": ("ArchiveStatus", "Status"), "session_key": ("Key",),
    "type": ("Type",), "number": ("Number",), "name": ("Name",), "path": ("Path",),
}
_MARKERS = {"corner": "corners", "marshal_light": "marshal_lights",
            "marshal_sector": "marshal_sectors"}
_MARKER_COLUMNS = {"X": "x", "Y": "y", "Number": "number", "Letter": "letter",
                   "Angle": "angle", "Distance": "distance"}


def load_session(database: str | StoredData | None, year: int, event: str | int,
                 session: str | int, *, laps: bool = True, telemetry: bool = True,
                 weather: bool = True, messages: bool = True, strict: bool = False):
    """The stored session as a ``fastf1.core.Session`` (see the module doc).

    ``database``: a URL (None: as populate_db.py picks it) or an open
    :class:`~f1db.read.StoredData`; ``event``: a round number or a name, ``session``: an
    abbreviation (``FP1``, ``Q``, ``R``...), a full name or a session number, as
    populate_db.py takes them. Raises NotStored (naming the command that would store it)
    when the session is not stored, or with ``strict`` when a part asked for is not.
    """
    options = {"laps": laps, "telemetry": telemetry, "weather": weather,
               "messages": messages}
    with opened(database) as stored, stored.reading(f"{year} {event} {session}") as connection:
        named = find_session(connection, year, event, session)
        parts = stored_parts(connection, named)
        built = fastf1_compat.new_session(named.event, named.key.session_type)
        built.f1db_parts = parts
        _fill(built, stored, connection, named, parts, options)
    if strict and built.f1db_missing:
        raise NotStored(next(iter(built.f1db_missing.values())), command=named.command())
    for why in built.f1db_missing.values():
        log.info("%s", why)
    return built


def stored_parts(connection: Connection, named: NamedSession) -> dict[str, str]:
    """The ledger's status of each table of the session; NotStored when it has no row."""
    key = named.key
    ledger = StoredSession.__table__
    found = connection.execute(select(ledger.c.id).where(*rows.session_rows(ledger, key))).first()
    if found is None:
        failures = SessionFailure.__table__
        failed = connection.execute(select(failures.c.reason).where(
            *rows.session_rows(failures, key))).scalar()
        why = f" (its last run failed: {failed})" if failed else ""
        raise NotStored(f"{key.year} {named.event_name} {key.session_type} is not stored"
                        f"{why}: run {named.command()}", command=named.command())
    parts = SessionPart.__table__
    return dict(connection.execute(select(parts.c.table_name, parts.c.status).where(
        *rows.session_rows(parts, key))).all())


def _fill(session, stored: StoredData, connection: Connection, named: NamedSession,
          parts: dict[str, str], options: dict[str, bool]) -> None:
    key = named.key
    info = rows.first_row(connection, rows.table("session_info"), key)
    fastf1_compat.set_part(session, "session_info", _session_info(info))
    results = _results(stored, connection, named)
    fastf1_compat.set_part(session, "results", results)
    readable = {name: table for name, (table, option) in PARTS.items()
                if options[option] and _why_missing(session, named, parts, name, table)}
    with ThreadPoolExecutor(2) if stored.dialect.reads_in_parallel else _Inline() as pool:
        telemetry = {name: pool.submit(_per_driver, stored, table, key, session)
                     for name, table in readable.items() if name in ("car_data", "pos_data")}
        for name, table in readable.items():
            if name not in telemetry:
                fastf1_compat.set_part(session, name, _frame(stored, connection, name, table,
                                                             key, session))
        for name, future in telemetry.items():
            fastf1_compat.set_part(session, name, future.result())
    if options["laps"]:
        fastf1_compat.set_part(session, "total_laps", _value(info, "total_laps", int))
        fastf1_compat.set_part(session, "session_start_time",
                               _duration(_value(info, "session_start_time_ms")))
    if options["telemetry"]:
        t0 = _value(info, "t0_date_utc")
        fastf1_compat.set_part(session, "t0_date", None if t0 is None else pd.Timestamp(t0))
    circuit = _circuit(stored, connection, key)
    fastf1_compat.set_circuit(session, circuit)
    if circuit is None:
        session.f1db_missing["circuit_info"] = (
            f"{key.year} {named.event_name}: the circuit layout is not stored; "
            f"{named.command('--tables', 'circuit_layouts,circuit_markers')} stores it")


def _why_missing(session, named: NamedSession, parts: dict[str, str], name: str,
                 table: str) -> bool:
    """Whether ``table`` can be read; if not, record in ``f1db_missing`` why."""
    status = parts.get(table)
    if status in (PartStatus.LOADED, PartStatus.PARTIAL):
        return True
    key = named.key
    what = f"{key.year} {named.event_name} {key.session_type}: {name} ({table})"
    if not fact_sources()[table].exists(key.session_type, _live_timing(named), key.year):
        session.f1db_missing[name] = (f"{what} does not exist before F1's live timing "
                                      f"(2018): for the era FastF1 has the results of the "
                                      f"qualifying and the race and the standings alone")
    elif status == PartStatus.MISSING:
        session.f1db_missing[name] = (f"{what}: FastF1 had no data when it was stored; "
                                      f"{named.command()} retries it")
    else:
        flag = "--tables " + table if table not in ("telemetry", "positions") else ""
        session.f1db_missing[name] = (f"{what} was not stored (left out of that run): "
                                      f"{named.command(*flag.split())} stores it")
    return False


class _Inline:
    """A pool of no threads, for databases where parallel reads gain nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, function, *args):
        value = function(*args)
        return _Done(value)


class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _results(stored: StoredData, connection: Connection, named: NamedSession):
    return fastf1_compat.session_results(results_index(
        fastf1_frame(stored_rows(stored, connection, "results", named.key),
                     FRAMES["results"]),
        live_timing=_live_timing(named)))


def _live_timing(named: NamedSession) -> bool:
    """Whether F1's live timing has the session (FastF1's ``F1ApiSupport``)."""
    return bool(named.event.get("F1ApiSupport", True))


# The order of sessions stored before revision 0007 (no ``row_order``): docs/READING.md.
FALLBACK_ORDER = {"results": ["position", "driver_number"],
                  "laps": ["driver_number", "lap_number"]}


def stored_rows(stored: StoredData, connection: Connection, table_name: str,
                key: SessionKey, *extra) -> pd.DataFrame:
    """One session's stored rows of a table (``extra`` conditions too) in FastF1's order."""
    of = rows.table(table_name)
    frame = stored.dialect.read_frame(connection, rows.payload(of),
                                      [*rows.session_rows(of, key), *extra],
                                      rows.natural_key(of))
    fallback = FALLBACK_ORDER.get(table_name)
    return frame if fallback is None else stored_order(frame, fallback)


def _frame(stored: StoredData, connection: Connection, name: str, table_name: str,
           key: SessionKey, session):
    frame = fastf1_frame(stored_rows(stored, connection, table_name, key),
                         FRAMES[table_name])
    return fastf1_compat.laps(frame, session) if table_name == "laps" else frame


def _per_driver(stored: StoredData, table_name: str, key: SessionKey, session) -> dict:
    """``car_data`` / ``pos_data``: one FastF1 ``Telemetry`` per driver, drivers in the
    order FastF1 keeps them (by number)."""
    telemetry = {}
    with stored.reading(f"{table_name} of {key}") as connection:
        for driver, frame in session_samples(stored, connection, table_name, key):
            telemetry[driver] = fastf1_compat.telemetry(
                fastf1_frame(frame, FRAMES[table_name]), session, driver)
            del frame          # one driver's unpacked frame at a time
    return {driver: telemetry[driver] for driver in sorted(telemetry, key=_driver_order)}


def _driver_order(number: str):
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def _session_info(row: dict | None) -> dict:
    """``Session.session_info`` from its stored row: the nested keys as FastF1 nests them
    (a NULL one left out), local start and end from UTC plus the offset."""
    if row is None:
        return {}
    info: dict = {}
    for column, path in _INFO_PATHS.items():
        if row.get(column) is not None:
            place = info
            for step in path[:-1]:
                place = place.setdefault(step, {})
            place[path[-1]] = row[column]
    offset = row.get("gmt_offset_ms")
    offset = None if offset is None else dt.timedelta(milliseconds=int(offset))
    for stored_name, name in (("start_date_utc", "StartDate"), ("end_date_utc", "EndDate")):
        if row.get(stored_name) is not None and offset is not None:
            info[name] = row[stored_name] + offset
    if offset is not None:
        info["GmtOffset"] = offset
    return info


def _value(row: dict | None, column: str, kind=None):
    value = None if row is None else row.get(column)
    return value if value is None or kind is None else kind(value)


def _duration(milliseconds) -> pd.Timedelta | None:
    return None if milliseconds is None else pd.Timedelta(milliseconds=int(milliseconds))


def _circuit(stored: StoredData, connection: Connection, key: SessionKey):
    """The event's stored CircuitInfo (None when no layout is stored)."""
    layouts, markers = rows.table("circuit_layouts"), rows.table("circuit_markers")
    layout = connection.execute(select(layouts.c.rotation).where(
        *rows.session_rows(layouts, key))).first()
    if layout is None:
        return None
    frame = stored.dialect.read_frame(connection, rows.payload(markers),
                                      rows.session_rows(markers, key), rows.natural_key(markers))
    frames = {}
    for marker_type, attribute in _MARKERS.items():
        part = frame[frame["marker_type"] == marker_type]
        frames[attribute] = pd.DataFrame({
            name: (part[column].to_numpy(dtype=object) if name == "Letter"
                   else part[column].to_numpy(dtype=np.float64, na_value=np.nan)
                   if name != "Number" else part[column].to_numpy(dtype=np.int64, na_value=0))
            for name, column in _MARKER_COLUMNS.items()})
    return fastf1_compat.circuit_info(frames, float(layout.rotation))
