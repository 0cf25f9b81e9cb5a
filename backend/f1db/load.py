"""Database writes: replace one session's rows in a table, and the ``sessions`` ledger.

PostgreSQL gets ``COPY ... FROM STDIN`` with a CSV stream built column-wise in ~2 MiB
chunks (DESIGN.md section 4: about 40x faster than executemany over pg8000); SQLite gets
one executemany of ``INSERT ... ON CONFLICT DO NOTHING``. The caller runs everything for
one session inside one transaction and writes the ledger row last.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .models import Session
from .transform import SessionKey

CSV_CHUNK_ROWS = 20_000          # ~1-2 MiB of telemetry-shaped CSV per COPY message
CSV_NULL = r"\N"                 # so that an empty string stays an empty string


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
    """CSV for COPY, built column by column with numpy; missing values print as ``\\N``.

    Same text as pandas ``to_csv`` gave (ints, float repr, True/False, timestamps with
    microseconds), about 3x faster; text fields are quoted when they hold a delimiter,
    a quote, CR or LF, or are a literal ``\\N``.
    """
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start:start + chunk_rows]
        columns = [_csv_fields(part[name]) for name in part.columns]
        yield ("\n".join(map(",".join, zip(*columns))) + "\n").encode("utf-8")


def _csv_fields(series: pd.Series) -> list[str]:
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        fields = _timestamp_texts(series).tolist()
    elif isinstance(dtype, (pd.Int64Dtype, pd.BooleanDtype)):
        fields = list(map(str, series.to_numpy(dtype=dtype.numpy_dtype, na_value=0).tolist()))
    elif pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        fields = list(map(str, series.to_numpy().tolist()))
    elif pd.api.types.is_float_dtype(dtype):
        fields = list(map(repr, series.to_numpy().tolist()))
    else:  # text: few distinct values per column, so quote each distinct value once
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        quoted = [_csv_quote(v if isinstance(v, str) else str(v)) for v in uniques]
        return np.array(quoted + [CSV_NULL], dtype=object)[codes].tolist()  # -1 -> NULL
    _put_at_missing(fields, series, CSV_NULL)
    return fields


def _csv_quote(text: str) -> str:
    if text == CSV_NULL or any(c in text for c in ('"', ",", "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _timestamp_texts(series: pd.Series) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` for every row (NaT rows: garbage, overwrite them)."""
    values = series.to_numpy(dtype="datetime64[us]")
    return np.strings.replace(np.datetime_as_string(values, unit="us"), "T", " ", 1)


def _put_at_missing(values: list, series: pd.Series, filler) -> None:
    missing = series.isna().to_numpy()
    if missing.any():
        for index in np.flatnonzero(missing).tolist():
            values[index] = filler


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
        dtype = series.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            values = _timestamp_texts(series).tolist()
        elif isinstance(dtype, (pd.Int64Dtype, pd.BooleanDtype)):
            values = series.to_numpy(dtype="int64", na_value=0).tolist()
        elif dtype == object:
            values = series.tolist()
        else:
            values = series.to_numpy().tolist()
        _put_at_missing(values, series, None)
        columns.append(values)
    return list(zip(*columns))


SQLITE_CHUNK_ROWS = 50_000       # bounds the Python tuples alive at once (~25 MB)


def _insert_sqlite(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING'
    raw = connection.connection.driver_connection
    cursor = raw.cursor()
    try:
        before = raw.total_changes
        for start in range(0, len(frame), SQLITE_CHUNK_ROWS):
            cursor.executemany(sql, sqlite_rows(frame.iloc[start:start + SQLITE_CHUNK_ROWS]))
        return raw.total_changes - before
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
