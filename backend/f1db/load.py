"""Database writes: replace one session's rows in a table, and the ``sessions`` ledger.

PostgreSQL gets ``COPY ... FROM STDIN`` with a CSV stream built by pandas in ~1 MiB
chunks (DESIGN.md section 4: about 40x faster than executemany over pg8000); SQLite gets
one executemany of ``INSERT ... ON CONFLICT DO NOTHING``. The caller runs everything for
one session inside one transaction and writes the ledger row last.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Iterator

import pandas as pd
from sqlalchemy import Connection, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .models import Session
from .transform import SessionKey

CSV_CHUNK_ROWS = 20_000          # ~1-2 MiB of telemetry-shaped CSV per COPY message
CSV_NULL = r"\N"                 # so that an empty string stays an empty string
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def replace_session_rows(connection: Connection, table: Table, key: SessionKey,
                         frame: pd.DataFrame) -> tuple[int, int]:
    """Delete the session's rows in ``table`` then insert ``frame``; returns (deleted, inserted).

    On a first load nothing is deleted; a retry of a partial table or ``--force`` replaces
    the old rows in the same transaction, so readers never see a half-replaced session.
    """
    deleted = connection.execute(delete(table).where(*session_filter(table, key))).rowcount
    if frame.empty:
        return deleted, 0
    if connection.dialect.name == "postgresql":
        inserted = _copy_postgresql(connection, table, frame)
    else:
        inserted = _insert_sqlite(connection, table, frame)
    return deleted, inserted


def count_session_rows(connection: Connection, table: Table, key: SessionKey) -> int:
    query = select(func.count()).select_from(table).where(*session_filter(table, key))
    return connection.execute(query).scalar_one()


def session_filter(table: Table, key: SessionKey) -> tuple:
    return (table.c.year == key.year, table.c.round_number == key.round_number,
            table.c.session_type == key.session_type)


def csv_chunks(frame: pd.DataFrame, chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes]:
    """CSV for COPY, vectorised by pandas; missing values print as ``\\N``."""
    for start in range(0, len(frame), chunk_rows):
        buffer = io.StringIO()
        frame.iloc[start:start + chunk_rows].to_csv(
            buffer, index=False, header=False, na_rep=CSV_NULL, quoting=csv.QUOTE_MINIMAL,
            date_format=_TIMESTAMP_FORMAT, lineterminator="\n")
        yield buffer.getvalue().encode("utf-8")


def _copy_postgresql(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    sql = (f'COPY "{table.name}" ({columns}) FROM STDIN '
           f"WITH (FORMAT csv, NULL '{CSV_NULL}')")
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, stream=csv_chunks(frame))
        return cursor.rowcount
    finally:
        cursor.close()


def sqlite_rows(frame: pd.DataFrame) -> list[tuple]:
    """Plain Python values for sqlite3: None for missing, ints, floats, str timestamps."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = series.dt.strftime(_TIMESTAMP_FORMAT)
        values = series.astype(object).where(series.notna(), None).tolist()
        if isinstance(series.dtype, (pd.Int64Dtype, pd.BooleanDtype)):
            values = [None if v is None else int(v) for v in values]
        columns.append(values)
    return list(zip(*columns))


def _insert_sqlite(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING'
    cursor = connection.connection.driver_connection.cursor()
    try:
        before = connection.connection.driver_connection.total_changes
        cursor.executemany(sql, sqlite_rows(frame))
        return connection.connection.driver_connection.total_changes - before
    finally:
        cursor.close()


def read_ledger(connection: Connection, year: int) -> dict[tuple[int, str], dict]:
    """Stored sessions of ``year`` keyed by (round_number, session_type)."""
    rows = connection.execute(select(Session.__table__).where(Session.year == year)).mappings()
    return {(row["round_number"], row["session_type"]): dict(row) for row in rows}


def write_ledger(connection: Connection, values: dict) -> None:
    """Insert or update the session's ``sessions`` row (last statement of the transaction)."""
    table = Session.__table__
    insert = (postgresql.insert(table) if connection.dialect.name == "postgresql"
              else sqlite.insert(table))
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    statement = insert.values(**values, loaded_at_utc=now, updated_at_utc=now)
    updates = {name: statement.excluded[name] for name in values
               if name not in ("year", "round_number", "session_type")}
    updates["updated_at_utc"] = now
    connection.execute(statement.on_conflict_do_update(
        index_elements=["year", "round_number", "session_type"], set_=updates))
