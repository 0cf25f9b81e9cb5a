"""Database writes of fact rows: replace one session's rows in one table.

PostgreSQL gets ``COPY ... FROM STDIN`` with a CSV stream built column-wise in
``CSV_CHUNK_ROWS``-row chunks (about 40x faster than executemany over pg8000, see
docs/ARCHITECTURE.md, "Writing"); SQLite gets executemany of
a plain ``INSERT`` in ``SQLITE_CHUNK_ROWS``-row slices, which bounds the Python tuples
alive at once. Neither resolves conflicts: the session's old rows are deleted first, so a
duplicate key can only come from FastF1's own frame, and it fails the session on both
databases instead of silently dropping a row. Both write each column by its storage kind (the models'
``info["kind"]``) through one table, ``WRITERS``. The caller runs everything for one
session inside one transaction and writes the ledger (ledger.py) last.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, func, select

from .errors import F1DBError, first_line
from .faults import sqlstate
from .records import SessionKey

CSV_CHUNK_ROWS = 20_000          # ~1-2 MiB of telemetry-shaped CSV per COPY message
SQLITE_CHUNK_ROWS = 50_000       # bounds the Python tuples alive at once (~25 MB)
CSV_NULL = r"\N"                 # so that an empty string stays an empty string


class WriteError(F1DBError):
    """The database refused a session's rows (a duplicate key, a value that does not fit).

    Permanent: the same rows would be refused again, so the session fails with the
    database's own message (never the driver's raw error fields).
    """


# SQLSTATE classes of refused rows: 22 data exception, 23 integrity constraint violation.
_REFUSED_SQLSTATE_CLASSES = ("22", "23")


def replace_session_rows(connection: Connection, table: Table, key: SessionKey,
                         frame: pd.DataFrame) -> tuple[int, int]:
    """Delete the session's rows in ``table`` then insert ``frame``; returns (deleted, inserted).

    On a first load nothing is deleted; a retry of a partial table or a forced reload
    replaces the old rows in the same transaction, so readers never see a half-replaced
    session.
    """
    deleted = connection.execute(delete(table).where(*session_filter(table, key))).rowcount
    if frame.empty:
        return deleted, 0
    with _refusals_as_write_errors(table):
        if connection.dialect.name == "postgresql":
            inserted = _copy_postgresql(connection, table, frame)
        else:
            inserted = _insert_sqlite(connection, table, frame)
    return deleted, inserted


@contextlib.contextmanager
def _refusals_as_write_errors(table: Table):
    """Rows the database refuses become a WriteError; anything else (a lost connection)
    passes unchanged. Both loaders talk to the raw driver, so its exceptions arrive here
    unwrapped by SQLAlchemy."""
    try:
        yield
    except Exception as error:
        if not _is_refusal(error):
            raise
        raise WriteError(f"{table.name}: the database refused the rows: "
                         f"{first_line(error)}") from None


def _is_refusal(error: Exception) -> bool:
    """sqlite3's integrity and data errors; pg8000's errors of SQLSTATE class 22 or 23."""
    if isinstance(error, (sqlite3.IntegrityError, sqlite3.DataError)):
        return True
    return sqlstate(error)[:2] in _REFUSED_SQLSTATE_CLASSES


def count_session_rows(connection: Connection, table: Table, key: SessionKey) -> int:
    query = select(func.count()).select_from(table).where(*session_filter(table, key))
    return connection.execute(query).scalar_one()


def session_filter(table: Table, key: SessionKey) -> tuple:
    return (table.c.year == key.year, table.c.round_number == key.round_number,
            table.c.session_type == key.session_type)


def column_kinds(table: Table, columns: Sequence[str]) -> list[str]:
    """The storage kind of each named column of ``table`` (models: ``info["kind"]``)."""
    return [table.c[name].info["kind"] for name in columns]


# --- one writer per storage kind --------------------------------------------------------------
# A transformed frame holds each kind in one dtype (transform.STORED_DTYPES): text as
# object, integer and duration_ms as Int64 (int64 for keys), real as float64, flag as
# boolean, timestamp_utc as datetime64[ns]. Each writer turns one such column into a list:
# ``csv`` into CSV fields (CSV_NULL where missing), ``sqlite`` into sqlite3 parameters
# (None where missing).

def _integer_csv(series: pd.Series) -> list[str]:
    fields = list(map(str, series.to_numpy(dtype="int64", na_value=0).tolist()))
    return _put_at_missing(fields, series, CSV_NULL)


def _integer_sqlite(series: pd.Series) -> list:
    return _put_at_missing(series.to_numpy(dtype="int64", na_value=0).tolist(), series, None)


def _real_csv(series: pd.Series) -> list[str]:
    return _put_at_missing(list(map(repr, series.to_numpy().tolist())), series, CSV_NULL)


def _real_sqlite(series: pd.Series) -> list:
    return _put_at_missing(series.to_numpy().tolist(), series, None)


def _flag_csv(series: pd.Series) -> list[str]:
    fields = list(map(str, series.to_numpy(dtype="bool", na_value=False).tolist()))
    return _put_at_missing(fields, series, CSV_NULL)


def _timestamp_field(series: pd.Series, missing) -> list:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` text, for COPY and for SQLite alike."""
    values = series.to_numpy(dtype="datetime64[us]")
    texts = np.strings.replace(np.datetime_as_string(values, unit="us"), "T", " ", 1)
    return _put_at_missing(texts.tolist(), series, missing)


def _text_csv(series: pd.Series) -> list[str]:
    # Few distinct values per column: quote each distinct value once.
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    quoted = [_csv_quote(v if isinstance(v, str) else str(v)) for v in uniques]
    return np.array(quoted + [CSV_NULL], dtype=object)[codes].tolist()  # -1 -> NULL


def _text_sqlite(series: pd.Series) -> list:
    return _put_at_missing(series.tolist(), series, None)


@dataclass(frozen=True)
class KindWriter:
    csv: Callable[[pd.Series], list[str]]
    sqlite: Callable[[pd.Series], list]


WRITERS = {
    "text": KindWriter(csv=_text_csv, sqlite=_text_sqlite),
    "integer": KindWriter(csv=_integer_csv, sqlite=_integer_sqlite),
    "duration_ms": KindWriter(csv=_integer_csv, sqlite=_integer_sqlite),
    "real": KindWriter(csv=_real_csv, sqlite=_real_sqlite),
    "flag": KindWriter(csv=_flag_csv, sqlite=_integer_sqlite),
    "timestamp_utc": KindWriter(csv=lambda s: _timestamp_field(s, CSV_NULL),
                                sqlite=lambda s: _timestamp_field(s, None)),
}


def _put_at_missing(values: list, series: pd.Series, filler) -> list:
    missing = series.isna().to_numpy()
    if missing.any():
        for index in np.flatnonzero(missing).tolist():
            values[index] = filler
    return values


def _csv_quote(text: str) -> str:
    if text == CSV_NULL or any(c in text for c in ('"', ",", "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


# --- PostgreSQL -------------------------------------------------------------------------------

def csv_chunks(frame: pd.DataFrame, kinds: Sequence[str],
               chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes]:
    """CSV for COPY, built column by column; ``kinds`` gives each column's storage kind.

    Same text as pandas ``to_csv`` gave (ints, float repr, True/False, timestamps with
    microseconds), about 3x faster; text fields are quoted when they hold a delimiter,
    a quote, CR or LF, or are a literal ``\\N`` (which would otherwise read as NULL).
    """
    writers = [WRITERS[kind].csv for kind in kinds]
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start:start + chunk_rows]
        columns = [write(part.iloc[:, i]) for i, write in enumerate(writers)]
        yield ("\n".join(map(",".join, zip(*columns))) + "\n").encode("utf-8")


def _copy_postgresql(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    sql = (f'COPY "{table.name}" ({columns}) FROM STDIN '
           f"WITH (FORMAT csv, NULL '{CSV_NULL}')")
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, stream=csv_chunks(frame, column_kinds(table, frame.columns)))
        return cursor.rowcount
    finally:
        cursor.close()


# --- SQLite -----------------------------------------------------------------------------------

def sqlite_rows(frame: pd.DataFrame, kinds: Sequence[str]) -> list[tuple]:
    """Plain Python values for sqlite3: None for missing, ints, floats, str timestamps."""
    columns = [WRITERS[kind].sqlite(frame.iloc[:, i]) for i, kind in enumerate(kinds)]
    return list(zip(*columns))


def _insert_sqlite(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'
    kinds = column_kinds(table, frame.columns)
    raw = connection.connection.driver_connection
    cursor = raw.cursor()
    try:
        before = raw.total_changes
        for start in range(0, len(frame), SQLITE_CHUNK_ROWS):
            cursor.executemany(sql, sqlite_rows(frame.iloc[start:start + SQLITE_CHUNK_ROWS],
                                                kinds))
        return raw.total_changes - before
    finally:
        cursor.close()
