"""Sliced reads that never read a whole session: one driver's laps, one lap's samples, a
time window.

Each reads through the primary key's leading columns (session, then driver), so its time
grows with the rows it returns and the driver's samples in that one session, never with
the number of sessions stored. A lap's samples are cut by FastF1's own
``Telemetry.slice_by_lap`` (same rows as ``Lap.get_car_data()``/``get_pos_data()``, the
same ``pad`` options, up to ``MARGIN`` of padding) from the samples of the lap's time span
and a margin around it, read in one query.
"""

from __future__ import annotations

import pandas as pd

from ..errors import NotStored
from ..records import SessionKey
from . import fastf1_compat, rows
from .access import StoredData, opened
from .calendar import NamedSession, find_session
from .frames import FRAMES, fastf1_frame
from .samples import driver_span
from .session import stored_parts, stored_rows

# Samples read either side of a lap, for FastF1's padding (about 40 samples at 4 Hz).
MARGIN = pd.Timedelta(seconds=10)
_STREAMS = {"car": "telemetry", "pos": "positions"}


def driver_laps(database: str | StoredData | None, year: int, event: str | int,
                session: str | int, driver: str):
    """One driver's ``Laps`` (number or abbreviation), in FastF1's order, RangeIndex:
    ``session.laps.pick_drivers(driver)`` without reading the other drivers."""
    with opened(database) as stored, stored.reading(f"{driver}'s laps") as connection:
        named, number = _find_driver(stored, connection, year, event, session, driver)
        return _laps_of(stored, connection, named, number)


def lap_telemetry(database: str | StoredData | None, year: int, event: str | int,
                  session: str | int, driver: str, lap_number: int, *, stream: str = "car",
                  **slice_options):
    """One lap's car data (``stream="car"``) or positions (``"pos"``) as FastF1's
    ``Lap.get_car_data(**slice_options)`` / ``get_pos_data`` gives them."""
    table_name = _stream_table(stream)
    with opened(database) as stored, stored.reading(f"{driver}'s lap {lap_number}") as c:
        named, number = _find_driver(stored, c, year, event, session, driver)
        laps = _laps_of(stored, c, named, number,
                        rows.table("laps").c.lap_number == int(lap_number))
        if laps.empty:
            raise NotStored(f"{named.key.year} {named.event_name} {named.key.session_type}: "
                            f"no lap {lap_number} of driver {driver} is stored")
        lap = laps.iloc[0]
        if pd.isna(lap["LapStartTime"]) or pd.isna(lap["Time"]):
            raise NotStored(f"Lap {lap_number} of driver {driver} has no start or end time: "
                            f"its samples cannot be cut")
        samples = _window(stored, c, table_name, named, number,
                          lap["LapStartTime"] - MARGIN, lap["Time"] + MARGIN, laps.session)
    return samples.slice_by_lap(lap, **slice_options).reset_index(drop=True)


def telemetry_window(database: str | StoredData | None, year: int, event: str | int,
                     session: str | int, driver: str, start: pd.Timedelta,
                     end: pd.Timedelta, *, stream: str = "car"):
    """A driver's samples whose ``SessionTime`` is within [start, end], as FastF1's
    ``Telemetry`` (``stream``: ``"car"`` or ``"pos"``)."""
    table_name = _stream_table(stream)
    with opened(database) as stored, stored.reading(f"{driver}'s samples") as connection:
        named, number = _find_driver(stored, connection, year, event, session, driver)
        return _window(stored, connection, table_name, named, number, pd.Timedelta(start),
                       pd.Timedelta(end),
                       fastf1_compat.new_session(named.event, named.key.session_type))


def _find_driver(stored: StoredData, connection, year: int, event: str | int,
                 session: str | int, driver: str) -> tuple[NamedSession, str]:
    """The stored session and the driver's number in it (NotStored when either is not)."""
    named = find_session(connection, year, event, session)
    stored_parts(connection, named)
    return named, _driver_number(stored, connection, named, driver)


def _laps_of(stored: StoredData, connection, named: NamedSession, number: str, *where):
    """The driver's stored laps (those matching ``where``) as FastF1's ``Laps``."""
    laps_table = rows.table("laps")
    frame = stored_rows(stored, connection, "laps", named.key,
                        laps_table.c.driver_number == number, *where)
    return fastf1_compat.laps(fastf1_frame(frame, FRAMES["laps"]),
                              fastf1_compat.new_session(named.event, named.key.session_type))


def _stream_table(stream: str) -> str:
    if stream not in _STREAMS:
        raise ValueError(f"stream must be 'car' or 'pos', not {stream!r}")
    return _STREAMS[stream]


def _window(stored: StoredData, connection, table_name: str, named: NamedSession,
            number: str, start: pd.Timedelta, end: pd.Timedelta, session):
    frame = driver_span(stored, connection, table_name, named.key, number, _ms(start),
                        _ms(end))
    return fastf1_compat.telemetry(fastf1_frame(frame, FRAMES[table_name]), session, number)


def _ms(value: pd.Timedelta) -> int:
    return int(value / pd.Timedelta(milliseconds=1))


def _driver_number(stored: StoredData, connection, named: NamedSession, driver: str) -> str:
    """A driver number, or the number of an abbreviation, from the session's results."""
    results = rows.table("results")
    stored_results = stored.dialect.read_frame(
        connection, [results.c.driver_number, results.c.abbreviation],
        rows.session_rows(results, named.key), [results.c.driver_number])
    for number, abbreviation in zip(stored_results["driver_number"],
                                    stored_results["abbreviation"]):
        if str(driver) in (number, abbreviation):
            return number
    key: SessionKey = named.key
    if stored_results.empty:
        raise NotStored(f"{key.year} {named.event_name} {key.session_type} has no stored "
                        f"results to find driver {driver} in: run {named.command()}",
                        command=named.command())
    raise NotStored(f"No driver {driver} in {key.year} {named.event_name} "
                    f"{key.session_type} (drivers: "
                    f"{', '.join(stored_results['abbreviation'].dropna())})")
