"""Reading packed samples (``telemetry``, ``positions``) back as rows: a session's, or one
driver's within a span of session time.

The chunks are read straight from the chunk tables (a race's car data is about 2,400
chunk rows, not 1.2 million rows through the view) in one statement, so one snapshot,
and unpacked here with numpy (packing.unpack). A time span picks the chunks whose
``start_ms``..``end_ms`` meet it, through the primary key's session and driver: a lap
touches a few chunks whatever the session's length or the sessions stored.
"""

from __future__ import annotations

from typing import Iterator

import pandas as pd
from sqlalchemy import Connection, Table

from ..models import PACKED_TABLES, Base
from ..packing import PackedLayout, unpack
from ..records import SessionKey
from . import rows
from .access import StoredData


def session_samples(stored: StoredData, connection: Connection, table_name: str,
                    key: SessionKey, *where) -> Iterator[tuple[str, pd.DataFrame]]:
    """(driver, its rows as a stored frame with the row table's columns) in key order,
    for one session's samples of ``table_name`` (chunks matching ``where`` too)."""
    chunks = PACKED_TABLES[table_name]
    frame = _chunk_rows(stored, connection, chunks, [*rows.session_rows(chunks, key), *where])
    layout = _layout(table_name)
    for driver, part in frame.groupby("driver_number", sort=False):
        yield driver, unpack(part, layout)


def sessions_samples(stored: StoredData, connection: Connection, table_name: str,
                     keys: list[SessionKey], *where) -> pd.DataFrame:
    """The rows of several sessions' samples of ``table_name`` (chunks matching ``where``
    too) as one stored frame, in key order, read in one statement."""
    chunks = PACKED_TABLES[table_name]
    return unpack(_chunk_rows(stored, connection, chunks,
                              [*rows.sessions_rows(chunks, keys), *where]),
                  _layout(table_name))


def driver_span(stored: StoredData, connection: Connection, table_name: str,
                key: SessionKey, driver: str, start_ms: int, end_ms: int) -> pd.DataFrame:
    """One driver's rows whose ``session_time_ms`` is within [start_ms, end_ms]."""
    chunks = PACKED_TABLES[table_name]
    frame = unpack(_chunk_rows(stored, connection, chunks, [
        *rows.session_rows(chunks, key), chunks.c.driver_number == driver,
        chunks.c.end_ms >= start_ms, chunks.c.start_ms <= end_ms]), _layout(table_name))
    times = frame["session_time_ms"]
    inside = (times >= start_ms) & (times <= end_ms)
    return frame[inside.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def _chunk_rows(stored: StoredData, connection: Connection, chunks: Table,
                conditions: list) -> pd.DataFrame:
    """The chunk rows matching ``conditions`` as stored, in key order, in one statement."""
    return stored.dialect.read_frame(
        connection, list(chunks.columns), conditions,
        [chunks.c.year, chunks.c.round_number, chunks.c.session_type,
         chunks.c.driver_number, chunks.c.first_sample])


def _layout(table_name: str) -> PackedLayout:
    return PackedLayout(Base.metadata.tables[table_name], PACKED_TABLES[table_name])
