"""SQLite (the standard library's sqlite3): executemany, BEGIN IMMEDIATE and lock files.

* Rows: ``executemany`` of a plain INSERT in ``SQLITE_CHUNK_ROWS``-row slices, which bounds
  the Python tuples alive at once; values as SQLAlchemy's SQLite types store them
  (timestamps and dates as ISO text, flags 0/1).
* Transactions: a write starts with ``BEGIN IMMEDIATE``, which takes the file's write
  lock up front, waiting out another writer for ``SQLITE_BUSY_SECONDS`` (instead of at
  the first write, where a read snapshot could make SQLite refuse without waiting). One
  writer at a time is all the locking rows several workers write need.
* Claims and the schema lock: lock files beside the database file (``filelock``), held by
  the process (the OS drops them if it dies): ``<file>.locks/<session>.lock`` per
  session, ``<file>.schema.lock`` for migrations. They are left in place when released:
  they are empty, and deleting a lock file other processes may hold open is a race.
* WAL journal: dashboards read while a load writes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from filelock import FileLock, Timeout
from sqlalchemy import Column, Engine, create_engine, event
from sqlalchemy.dialects import sqlite

from ..errors import ConfigError, SchemaError
from ..records import SessionKey
from .base import Claim, Dialect, on_every_connection, still_locked_message
from .columns import OnRows, check_columns, naive_utc, whole_numbers

log = logging.getLogger(__name__)

SQLITE_CHUNK_ROWS = 50_000           # bounds the Python tuples alive at once (~25 MB)
# How long a SQLite write waits while another run writes (a race with telemetry takes
# seconds to write); after that the session is retried with backoff.
SQLITE_BUSY_SECONDS = 120
# sqlite3's words for "another connection holds the write lock" (a transient fault).
BUSY_WORDS = ("database is locked", "database is busy")


def is_driver_error(error: BaseException) -> bool:
    return isinstance(error, sqlite3.Error)


def is_busy(error: BaseException) -> bool:
    """Another connection holds the file's write lock (beyond the busy timeout): passes."""
    return (isinstance(error, sqlite3.OperationalError)
            and any(words in str(error).lower() for words in BUSY_WORDS))


def _unwritable(path: Path) -> str | None:
    """Why this process could not write the database file ``path`` (its folder too: SQLite
    writes its journal and WAL files beside it), or None."""
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.parent, os.W_OK):
        return f"its folder {path.parent} is read-only"
    return None


def database_file(engine: Engine) -> Path:
    return Path(engine.url.database).expanduser().resolve()


def session_lock_file(engine: Engine, key: SessionKey) -> Path:
    """``<file>.locks/<year>_<round>_<session>.lock`` beside the database file."""
    database = database_file(engine)
    name = re.sub(r"[^A-Za-z0-9-]+", "_", f"{key.year}_{key.round_number}_{key.session_type}")
    return database.with_name(f"{database.name}.locks") / f"{name}.lock"


def acquire_file_lock(path: Path, *, wait: float) -> FileLock | None:
    """The lock file ``path``, held by this process; None when another process still
    holds it after ``wait`` seconds (0: do not wait). Release it with ``.release()``."""
    lock = FileLock(path)
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        return None
    return lock


class _SqliteClaim(Claim):
    """A held lock file: the ledger is read on a fresh connection (seeing what other
    workers committed), the rows written in their own BEGIN IMMEDIATE transaction."""

    def __init__(self, dialect: "SQLite", engine: Engine):
        self.dialect, self.engine = dialect, engine

    @contextlib.contextmanager
    def reading(self):
        with self.engine.connect() as connection:
            yield connection

    def writing(self):
        return self.dialect.writing_transaction(self.engine)


def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets dashboards read while a load writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _query_only(dbapi_connection):
    """A reader's connection refuses every write ("attempt to write a readonly database")."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


class SQLite(Dialect):
    name = "sqlite"
    # The write runs in this process, and with telemetry packed it is mostly converting the
    # rows, Python work that must stay in the main thread either way (pg_copy.PreparedCopy
    # says why); the inserts of a session's few thousand chunk rows left to a writer
    # thread hide next to nothing, while the thread's GIL hand-offs and its second
    # session in memory cost more (measured with benchmarks/bench_populate.py).
    writes_behind = False

    def read_only(self, engine):
        return on_every_connection(engine, _query_only)

    def create_engine(self, url, *, parameter=None, write=True):
        path = Path(url.database).expanduser().resolve()
        folder = path.parent
        if not folder.is_dir():
            raise ConfigError(f"Cannot create the SQLite file {url.database}: folder {folder} "
                              f"does not exist", parameter=parameter)
        unwritable = _unwritable(path)
        if unwritable and write:
            raise ConfigError(f"The SQLite file {path} cannot be written ({unwritable}): give "
                              f"the file and its folder write permission (read-only, it can "
                              f"only be read: a plan, the smoke check)", parameter=parameter)
        if unwritable:
            # Read-only: no WAL switch, no -shm file; nothing this process could change it.
            return create_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true",
                                 connect_args={"timeout": SQLITE_BUSY_SECONDS})
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    # -- rows ------------------------------------------------------------------------------

    def write_rows(self, connection, table, columns, chunks, on_rows: OnRows):
        names = ", ".join(f'"{column.name}"' for column in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        raw = connection.connection.driver_connection
        cursor = raw.cursor()
        try:
            before = raw.total_changes
            for frame in chunks:
                check_columns(table, columns, frame)
                for start in range(0, len(frame), SQLITE_CHUNK_ROWS):
                    piece = frame.iloc[start:start + SQLITE_CHUNK_ROWS]
                    cursor.executemany(sql, sqlite_rows(piece, columns))
                    if on_rows is not None:
                        on_rows(len(piece))
            return raw.total_changes - before
        finally:
            cursor.close()

    def is_refusal(self, error):
        return isinstance(error, (sqlite3.IntegrityError, sqlite3.DataError))

    def upsert(self, table):
        return sqlite.insert(table)

    def table_columns(self, connection):
        found: dict[str, set[str]] = {}
        for table, column in connection.exec_driver_sql(
                "SELECT m.name, p.name FROM sqlite_master AS m "
                "JOIN pragma_table_info(m.name) AS p WHERE m.type IN ('table', 'view')"):
            found.setdefault(table, set()).add(column)
        return found

    # -- transactions and locks ------------------------------------------------------------

    def begin_writing(self, connection, lock=None):
        connection.exec_driver_sql("BEGIN IMMEDIATE")      # one writer: no named lock needed

    def wait_for_lock(self, connection, label):
        """Nothing to take: ``BEGIN IMMEDIATE`` already lets one writer in at a time."""

    @contextlib.contextmanager
    def claim_session(self, engine, key):
        path = session_lock_file(engine, key)
        path.parent.mkdir(exist_ok=True)
        lock = acquire_file_lock(path, wait=0)
        if lock is None:
            yield None
            return
        try:
            yield _SqliteClaim(self, engine)
        finally:
            lock.release()

    @contextlib.contextmanager
    def schema_lock(self, engine, describe, timeout):
        path = Path(f"{database_file(engine)}.schema.lock")
        try:
            lock = acquire_file_lock(path, wait=0)
            if lock is None:
                log.info("Another run is creating or upgrading the schema of %s: waiting "
                         "for it (at most %.0f s)", describe, timeout)
                lock = acquire_file_lock(path, wait=timeout)
        except OSError as error:
            raise SchemaError(f"Cannot take the schema lock {path} ({error.strerror or error}): "
                              f"the database's folder must be writable") from None
        if lock is None:
            raise SchemaError(still_locked_message(describe, timeout, f" (lock file {path})"))
        try:
            with engine.connect() as connection:
                yield connection
                connection.commit()
        finally:
            lock.release()

    def require_privileges(self, engine, tables, access):
        """SQLite has no roles: the file's permissions decide, when it is opened."""


# --- values as sqlite3 parameters --------------------------------------------------------------
# A transformed frame holds each storage kind in one dtype (transform.STORED_DTYPES); each
# function turns one such column into sqlite3 parameters (None where missing).

def _integer_sqlite(series: pd.Series, column: Column) -> list:
    values, missing = whole_numbers(series, column)
    return _put_at_missing(values.tolist(), missing)


def _real_sqlite(series: pd.Series, column: Column) -> list:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return _put_at_missing(values.tolist(), np.isnan(values))


def _flag_sqlite(series: pd.Series, column: Column) -> list:
    values = series.to_numpy(dtype="bool", na_value=False).astype(np.int64)
    return _put_at_missing(values.tolist(), series.isna().to_numpy())


def _timestamp_sqlite(series: pd.Series, column: Column) -> list:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` text, as SQLAlchemy's SQLite DateTime stores it."""
    values = naive_utc(series).to_numpy(dtype="datetime64[us]")
    texts = np.strings.replace(np.datetime_as_string(values, unit="us"), "T", " ", 1)
    return _put_at_missing(texts.tolist(), np.isnat(values))


def _date_sqlite(series: pd.Series, column: Column) -> list:
    """``YYYY-MM-DD`` text, as SQLAlchemy's SQLite Date stores it."""
    values = series.to_numpy(dtype="datetime64[D]")
    return _put_at_missing(np.datetime_as_string(values, unit="D").tolist(), np.isnat(values))


def _text_sqlite(series: pd.Series, column: Column) -> list:
    return _put_at_missing(series.tolist(), series.isna().to_numpy())


def _bytes_sqlite(series: pd.Series, column: Column) -> list:
    return [bytes(value) for value in series]


SQLITE_WRITERS = {"text": _text_sqlite, "integer": _integer_sqlite,
                  "duration_ms": _integer_sqlite, "real": _real_sqlite,
                  "flag": _flag_sqlite, "timestamp_utc": _timestamp_sqlite,
                  "date": _date_sqlite, "json_list": _text_sqlite, "bytes": _bytes_sqlite}


def _put_at_missing(values: list, missing: np.ndarray) -> list:
    if missing.any():
        for index in np.flatnonzero(missing).tolist():
            values[index] = None
    return values


def sqlite_rows(frame: pd.DataFrame, columns: Sequence[Column]) -> list[tuple]:
    """Plain Python values for sqlite3: None for missing, ints, floats, str timestamps."""
    values = [SQLITE_WRITERS[column.info["kind"]](frame.iloc[:, i], column)
              for i, column in enumerate(columns)]
    return list(zip(*values))
