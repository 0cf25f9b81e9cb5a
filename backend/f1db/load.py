"""Database writes of fact rows: replace one session's rows in one table.

PostgreSQL gets one ``COPY ... FROM STDIN WITH (FORMAT binary)`` per table and session,
its rows encoded column-wise with numpy straight from the transformed frames, each column
in the binary form of its SQL type (the model's column type: int2, int4, int8, float8,
bool, timestamp, text). On the same rows it wrote about 1.7x as fast as the CSV COPY it
replaces and 1.3x as fast as pyarrow's C CSV writer with the same COPY; the server reads
binary fields with no text parsing (docs/ARCHITECTURE.md, "Writing";
benchmarks/bench_writers.py). SQLite gets executemany of a plain ``INSERT`` in
``SQLITE_CHUNK_ROWS``-row slices, which bounds the Python tuples alive at once.

Neither resolves conflicts: the session's old rows are deleted first, so a duplicate key
can only come from FastF1's own frame, and it fails the session on both databases instead
of silently dropping a row. A value that does not fit its column's integer type is refused
on both databases, never wrapped. The caller runs everything for one session inside one
transaction and writes the ledger (ledger.py) last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import sqlite3
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (REAL, Boolean, Column, Connection, Date, DateTime, Float, Integer, String,
                        Table, delete, func, select)

from .errors import F1DBError, first_line
from .faults import sqlstate
from .models import Base
from .records import SessionKey
from .transform import integer_range

SQLITE_CHUNK_ROWS = 50_000           # bounds the Python tuples alive at once (~25 MB)
COPY_MESSAGE_BYTES = 4 * 2**20       # about the most one COPY message carries (bytes in flight)

OnRows = Callable[[int], object] | None


@dataclass(frozen=True)
class PreparedCopy:
    """A table's rows already encoded as its PostgreSQL COPY stream (:func:`prepare_copy`).

    The populator prepares a session this way when its write will overlap FastF1's load of
    the next session: the write then runs in a thread where every Python step waits for
    the GIL that FastF1's parse holds, so encoding there crawls (and slows the parse).
    Prepared, the write is a few large socket sends, which release the GIL.
    """

    columns: tuple[str, ...]
    messages: tuple[bytes, ...]
    rows: tuple[int, ...]               # rows in each message (the header and trailer: 0)


Frames = pd.DataFrame | Iterable[pd.DataFrame] | PreparedCopy


class WriteError(F1DBError):
    """The database refused a session's rows (a duplicate key, a value that does not fit).

    Permanent: the same rows would be refused again, so the session fails with the
    database's own message (never the driver's raw error fields).
    """


# SQLSTATE classes of refused rows: 22 data exception, 23 integrity constraint violation.
_REFUSED_SQLSTATE_CLASSES = ("22", "23")


def replace_session_rows(connection: Connection, table: Table, key: SessionKey,
                         frames: Frames, *, on_rows: OnRows = None) -> tuple[int, int]:
    """Delete the session's rows in ``table``, then write ``frames``; returns (deleted, inserted).

    ``frames``: one transformed frame or an iterable of them (chunks of the table, each
    with the table's columns in the same order, as ``transform.table_frame`` makes them),
    consumed once and lazily: one COPY on PostgreSQL, one executemany per slice on SQLite.
    ``on_rows(n)`` is called each time n more rows have been handed to the database.

    On a first load nothing is deleted; a retry of a partial table or a forced reload
    replaces the old rows in the same transaction, so readers never see a half-replaced
    session. An exception raised by ``frames`` or ``on_rows`` mid-COPY ends the COPY
    cleanly (the connection stays usable for the rollback) and is then raised unchanged.
    """
    deleted = connection.execute(delete(table).where(*session_filter(table, key))).rowcount
    return deleted, insert_rows(connection, table, frames, on_rows=on_rows)


def insert_rows(connection: Connection, table: Table, frames: Frames, *,
                on_rows: OnRows = None) -> int:
    """Write ``frames`` (as :func:`replace_session_rows` takes them) into ``table``;
    returns the rows inserted. Nothing is deleted first."""
    if isinstance(frames, PreparedCopy):
        if not sum(frames.rows):
            return 0
        with _refusals_as_write_errors(table):
            return _copy_postgresql(connection, table,
                                    [table.c[name] for name in frames.columns],
                                    _prepared_messages(frames, on_rows))
    chunks = (chunk for chunk in ([frames] if isinstance(frames, pd.DataFrame) else frames)
              if len(chunk))
    first = next(chunks, None)
    if first is None:
        return 0
    chunks = itertools.chain([first], chunks)
    columns = [table.c[name] for name in first.columns]
    with _refusals_as_write_errors(table):
        if connection.dialect.name == "postgresql":
            return _copy_postgresql(connection, table, columns,
                                    copy_messages(chunks, table, columns, on_rows))
        return _insert_sqlite(connection, table, columns, chunks, on_rows)


CIRCUIT_TABLES = ("circuit_layouts", "circuit_markers")


def measured_layout_stored(connection: Connection, key: SessionKey) -> bool:
    """Whether the event of ``key`` has a circuit layout whose marker distances were
    measured (``distances_from`` set)."""
    table = Base.metadata.tables["circuit_layouts"]
    return connection.execute(select(table.c.distances_from).where(
        *session_filter(table, key), table.c.distances_from.is_not(None))).first() is not None


def replace_season_schedule(connection: Connection, year: int,
                            frames: dict[str, pd.DataFrame], *, testing: bool) -> bool:
    """Make the season's ``events`` and ``event_sessions`` rows equal ``frames``
    (transform.schedule_tables); returns whether anything had to change.

    Testing events (rounds below 1) are compared and replaced only when ``testing``
    (the schedule was read with them); otherwise stored testing rows stay. Rows that
    already match are not rewritten, so a rerun writes nothing. The caller holds the
    season's lock (claims.wait_for_lock) in this transaction.
    """
    tables = [Base.metadata.tables[name] for name in ("event_sessions", "events")]

    def season_rows(table: Table) -> tuple:
        return (table.c.year == year,) + (() if testing else (table.c.round_number > 0,))

    changed = False
    for table in tables:
        stored = {tuple(_comparable(value) for value in row) for row in connection.execute(
            select(*table.columns).where(*season_rows(table)))}
        wanted = {tuple(_comparable(value) for value in row)
                  for row in sqlite_rows(frames[table.name], list(table.columns))}
        changed = changed or stored != wanted
    if not changed:
        return False
    for table in tables:                         # children first (foreign key)
        connection.execute(delete(table).where(*season_rows(table)))
    for table in reversed(tables):               # parents first
        insert_rows(connection, table, frames[table.name])
    return True


def _comparable(value):
    """A stored value as ``sqlite_rows`` writes it (timestamps and dates as text, flags
    as 0/1), so stored rows and new frames compare equal on both databases."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


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
    """The session's rows of ``table``; for a table kept once per event (no
    ``session_type`` column: the circuit, the standings), its event's rows."""
    return tuple(table.c[name] == getattr(key, name)
                 for name in ("year", "round_number", "session_type") if name in table.c)


def _check_columns(table: Table, columns: Sequence[Column], frame: pd.DataFrame) -> None:
    """Every chunk has the first chunk's columns, in its order (COPY names them once)."""
    if len(frame.columns) != len(columns) or any(
            name != column.name for name, column in zip(frame.columns, columns)):
        raise ValueError(f"{table.name}: a chunk's columns {list(frame.columns)} differ from "
                         f"the first chunk's {[c.name for c in columns]}")


# --- integers: refused, never wrapped, when they do not fit -----------------------------------

def _whole_numbers(series: pd.Series, column: Column) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, missing mask) of an integer column, refusing a value that is not a
    whole number or does not fit the column's SQL type (one numpy pass, no row loop)."""
    label = f"{column.table.name}.{column.name}"
    name, low, high = integer_range(column.type)
    if series.dtype == object:
        series = pd.to_numeric(series)
    missing = series.isna().to_numpy()
    if pd.api.types.is_float_dtype(series.dtype):
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~missing & ((floats != np.round(floats)) | (np.abs(floats) >= 2.0**63))
        if bad.any():
            raise WriteError(f"{label}: {float(floats[bad][0])!r} is not a whole number that fits "
                             f"{name}; refusing rather than rounding")
        values = np.where(missing, 0, floats).astype(np.int64)
    else:
        values = series.to_numpy(dtype="int64", na_value=0)
    if name != "bigint" and len(values):
        outside = ~missing & ((values < low) | (values > high))
        if outside.any():
            raise WriteError(f"{label}: {int(values[outside][0])} does not fit {name} "
                             f"({low}..{high}); refusing rather than wrapping")
    return values, missing


# --- PostgreSQL: COPY ... FROM STDIN WITH (FORMAT binary) -------------------------------------
# The binary COPY format (PostgreSQL docs, "COPY", "Binary Format"): a 19-byte header, then
# per row an int16 field count and per field an int32 byte length (-1: NULL) followed by
# the value as the type's send function writes it (big-endian): int2/int4/int8 two's
# complement, float8 IEEE 754, bool one byte, timestamp int8 microseconds since
# 2000-01-01 00:00, text its UTF-8 bytes; an int16 -1 ends the data.

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)     # signature, flags 0, no extension
COPY_TRAILER = b"\xff\xff"
COPY_ABORT = b"\x00\x00"   # a row of 0 fields: the server ends the COPY with an error
# A field of another width than the column's type: 08P01 "insufficient data left in
# message" (shorter) or 22P03 "incorrect binary data format" (longer). Binary COPY has no
# casts, so a table whose types differ from the models' fails here, not as a transient fault.
_BINARY_MISMATCH_SQLSTATES = ("08P01", "22P03")
_NULL_FIELD = np.frombuffer(b"\xff\xff\xff\xff", dtype=np.uint8)
_PG_EPOCH_US = 946_684_800_000_000                   # 2000-01-01 in Unix microseconds
_PG_EPOCH_DAYS = 10_957                               # 2000-01-01 in Unix days
_TEXT_BYTES_GUESS = 32                               # for sizing messages only


@dataclass
class _Fixed:
    """A fixed-width column of one message: ``payload`` (rows x width) big-endian bytes."""

    payload: np.ndarray
    missing: np.ndarray | None          # None when no row is NULL

    def widths(self):
        """Each row's field bytes: an int when every row has the same."""
        width = 4 + self.payload.shape[1]
        if self.missing is None:
            return width
        return 4 if self.missing.all() else np.where(self.missing, 4, width)

    def write(self, buffer: np.ndarray, starts: np.ndarray | None,
              rows2d: np.ndarray | None, offset: int) -> None:
        """At ``starts`` in ``buffer``; or, when every row has the same layout, at
        ``offset`` in each row of ``rows2d`` (the buffer as rows x row bytes)."""
        if self.missing is not None and self.missing.all():
            if rows2d is not None:
                rows2d[:, offset:offset + 4] = _NULL_FIELD
            else:
                _scatter(buffer, starts, _NULL_FIELD)
            return
        rows, width = self.payload.shape
        field = np.empty((rows, 4 + width), dtype=np.uint8)
        field[:, :4] = np.frombuffer(width.to_bytes(4, "big"), dtype=np.uint8)
        field[:, 4:] = self.payload
        if rows2d is not None:
            rows2d[:, offset:offset + 4 + width] = field
        elif self.missing is None:
            _scatter(buffer, starts, field)
        else:
            _scatter(buffer, starts[~self.missing], field[~self.missing])
            _scatter(buffer, starts[self.missing], _NULL_FIELD)


@dataclass
class _Text:
    """A text column of one message: each distinct value's field once, and each row's code."""

    codes: np.ndarray                   # index into ``fields``; -1 for NULL
    fields: list[np.ndarray]            # length prefix + UTF-8 bytes per distinct value

    def widths(self):
        """Each row's field bytes: an int when every row has the same."""
        if (self.codes == self.codes[0]).all():
            return 4 if self.codes[0] < 0 else len(self.fields[self.codes[0]])
        sizes = np.array([len(field) for field in self.fields] + [4], dtype=np.int64)
        return sizes[self.codes]        # code -1 picks the last: a NULL's 4 bytes

    def write(self, buffer: np.ndarray, starts: np.ndarray | None,
              rows2d: np.ndarray | None, offset: int) -> None:
        """Like ``_Fixed.write``; each distinct value is written to all its rows at once."""
        if rows2d is not None:
            field = self.fields[self.codes[0]] if self.codes[0] >= 0 else _NULL_FIELD
            rows2d[:, offset:offset + len(field)] = field
            return
        order = np.argsort(self.codes, kind="stable")
        bounds = np.searchsorted(self.codes[order], np.arange(-1, len(self.fields) + 1))
        for code in range(-1, len(self.fields)):
            rows = order[bounds[code + 1]:bounds[code + 2]]
            if len(rows):
                _scatter(buffer, starts[rows], self.fields[code] if code >= 0 else _NULL_FIELD)


def _scatter(buffer: np.ndarray, starts: np.ndarray, fields: np.ndarray) -> None:
    """Write ``fields`` (one row of bytes each, or one row for all) at ``starts``."""
    if len(starts):
        buffer[starts[:, None] + np.arange(fields.shape[-1])] = fields


def _big_endian(values: np.ndarray, dtype: str) -> np.ndarray:
    return values.astype(dtype).view(np.uint8).reshape(len(values), -1)


def _missing_or_none(missing: np.ndarray) -> np.ndarray | None:
    return missing if missing.any() else None


def _integer_field(dtype: str) -> Callable[[pd.Series, Column], _Fixed]:
    def encode(series: pd.Series, column: Column) -> _Fixed:
        values, missing = _whole_numbers(series, column)
        return _Fixed(_big_endian(values, dtype), _missing_or_none(missing))
    return encode


def _float8_field(series: pd.Series, column: Column) -> _Fixed:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return _Fixed(_big_endian(values, ">f8"), _missing_or_none(np.isnan(values)))


def _bool_field(series: pd.Series, column: Column) -> _Fixed:
    values = series.to_numpy(dtype="bool", na_value=False)
    return _Fixed(values.astype(np.uint8).reshape(-1, 1),
                  _missing_or_none(series.isna().to_numpy()))


def _timestamp_field(series: pd.Series, column: Column) -> _Fixed:
    stamps = _naive_utc(series).to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(stamps)
    micros = stamps.view(np.int64) // 1000 - _PG_EPOCH_US
    return _Fixed(_big_endian(np.where(missing, 0, micros), ">i8"), _missing_or_none(missing))


def _date_field(series: pd.Series, column: Column) -> _Fixed:
    days = series.to_numpy(dtype="datetime64[D]")
    missing = np.isnat(days)
    since = days.view(np.int64) - _PG_EPOCH_DAYS
    return _Fixed(_big_endian(np.where(missing, 0, since), ">i4"), _missing_or_none(missing))


def _text_field(series: pd.Series, column: Column) -> _Text:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    fields = []
    for value in uniques:
        data = (value if isinstance(value, str) else str(value)).encode("utf-8")
        fields.append(np.frombuffer(len(data).to_bytes(4, "big") + data, dtype=np.uint8))
    return _Text(codes.astype(np.int64), fields)


def _naive_utc(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series


@dataclass(frozen=True)
class CopyType:
    """How one SQL type travels in binary COPY: its PostgreSQL name, the bytes of a value
    (None: variable, text) and the column encoder."""

    name: str
    width: int | None
    encode: Callable[[pd.Series, Column], _Fixed | _Text]


COPY_TYPES = {
    "int2": CopyType("int2", 2, _integer_field(">i2")),
    "int4": CopyType("int4", 4, _integer_field(">i4")),
    "int8": CopyType("int8", 8, _integer_field(">i8")),
    "float8": CopyType("float8", 8, _float8_field),
    "bool": CopyType("bool", 1, _bool_field),
    "timestamp": CopyType("timestamp", 8, _timestamp_field),
    "date": CopyType("date", 4, _date_field),
    "text": CopyType("text", None, _text_field),
}


def copy_type(column: Column) -> CopyType:
    """The binary COPY form of ``column``, from its SQLAlchemy type (order matters:
    SmallInteger and BigInteger are Integers; Enum is a String and travels as its label)."""
    kind = column.type
    if isinstance(kind, Integer):
        return COPY_TYPES[{"smallint": "int2", "integer": "int4",
                           "bigint": "int8"}[integer_range(kind)[0]]]
    if isinstance(kind, Float) and not isinstance(kind, REAL) and (
            kind.precision is None or kind.precision > 24):
        return COPY_TYPES["float8"]      # FLOAT / DOUBLE PRECISION on PostgreSQL
    if isinstance(kind, Boolean):
        return COPY_TYPES["bool"]
    if isinstance(kind, Date):
        return COPY_TYPES["date"]        # days since 2000-01-01
    if isinstance(kind, DateTime):
        return COPY_TYPES["timestamp"]   # timestamptz has the same binary form (UTC)
    if isinstance(kind, String):
        return COPY_TYPES["text"]
    table = getattr(column, "table", None)
    label = f"{table.name}.{column.name}" if table is not None else column.name
    raise ValueError(f"{label}: no binary COPY form for {kind!r}; add one to load.COPY_TYPES")


def copy_message_rows(columns: Sequence[Column]) -> int:
    """Rows per COPY message: about COPY_MESSAGE_BYTES of them (text guessed at 32 bytes)."""
    row_bytes = 2 + sum(4 + (copy_type(c).width or _TEXT_BYTES_GUESS) for c in columns)
    return max(1, COPY_MESSAGE_BYTES // row_bytes)


def copy_rows(frame: pd.DataFrame, columns: Sequence[Column], prefix: bytes = b"") -> bytes:
    """``frame``'s rows in the binary COPY format (after ``prefix``), built column-wise.

    Each row's byte length is summed from its fields' (NULLs and text make them differ);
    a cumulative sum gives each row's and field's offset, and each column's bytes are
    scattered there at once. When every row has the same layout (the common case of a
    driver's chunk with no NULL) the buffer is a 2-D array and columns are plain slices.
    """
    rows = len(frame)
    if not rows:
        return prefix
    encoded = [copy_type(column).encode(frame.iloc[:, i], column)
               for i, column in enumerate(columns)]
    widths = [field.widths() for field in encoded]
    count = np.frombuffer(len(columns).to_bytes(2, "big"), dtype=np.uint8)
    if all(isinstance(width, int) for width in widths):
        row_bytes = 2 + sum(widths)
        buffer = np.empty(len(prefix) + rows * row_bytes, dtype=np.uint8)
        rows2d = buffer[len(prefix):].reshape(rows, row_bytes)
        rows2d[:, :2] = count
        offset = 2
        for field, width in zip(encoded, widths):
            field.write(buffer, None, rows2d, offset)
            offset += width
    else:
        per_row = [np.broadcast_to(np.asarray(width, dtype=np.int64), (rows,))
                   for width in widths]
        ends = np.cumsum(2 + np.sum(per_row, axis=0)) + len(prefix)
        buffer = np.empty(int(ends[-1]), dtype=np.uint8)
        starts = np.concatenate(([len(prefix)], ends[:-1]))
        _scatter(buffer, starts, count)
        starts = starts + 2
        for field, width in zip(encoded, per_row):
            field.write(buffer, starts, None, 0)
            starts = starts + width
    buffer[:len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    return buffer.tobytes()


def copy_messages(chunks: Iterable[pd.DataFrame], table: Table, columns: Sequence[Column],
                  on_rows: OnRows = None) -> Iterator[bytes]:
    """The COPY data stream: header, rows in messages of ``copy_message_rows`` rows, trailer.

    pg8000 sends each item as one CopyData message and asks for the next one once it is
    sent, so ``on_rows`` runs after each message has gone to the server.
    """
    size = copy_message_rows(columns)
    prefix = COPY_HEADER
    for frame in chunks:
        _check_columns(table, columns, frame)
        for start in range(0, len(frame), size):
            piece = frame.iloc[start:start + size]
            yield copy_rows(piece, columns, prefix)
            prefix = b""
            if on_rows is not None:
                on_rows(len(piece))
    yield prefix + COPY_TRAILER


def prepare_copy(table: Table, frames: Iterable[pd.DataFrame]) -> PreparedCopy:
    """Encode ``frames`` (chunks of ``table``) as its COPY stream now, for a later
    :func:`replace_session_rows` on PostgreSQL. Each chunk is dropped once encoded."""
    chunks = (chunk for chunk in frames if len(chunk))
    first = next(chunks, None)
    if first is None:
        return PreparedCopy((), (), ())
    columns = [table.c[name] for name in first.columns]
    counted: list[int] = []
    messages = tuple(copy_messages(itertools.chain([first], chunks), table, columns,
                                   on_rows=counted.append))
    # copy_messages reports each message's rows after yielding it; the last (trailer) has 0.
    return PreparedCopy(tuple(c.name for c in columns), messages,
                        tuple(counted) + (0,) * (len(messages) - len(counted)))


def _prepared_messages(prepared: PreparedCopy, on_rows: OnRows) -> Iterator[bytes]:
    for message, rows in zip(prepared.messages, prepared.rows):
        yield message
        if on_rows is not None and rows:
            on_rows(rows)


class _AbortOnError:
    """pg8000's COPY stream, ending the COPY cleanly when building the data fails.

    pg8000 has no way to send CopyFail: an exception out of its stream leaves the
    connection mid-COPY and unusable (the rollback then fails as a network error, which
    would be retried as transient). Instead, the exception is kept and a row the server
    must refuse is sent, so the server ends the COPY with an error and the transaction
    can roll back; :func:`_copy_postgresql` then raises the kept exception.
    """

    def __init__(self, messages: Iterator[bytes]):
        self.messages = messages
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.messages
        except GeneratorExit:
            raise
        except BaseException as error:   # also a stop signal (errors.Interrupted)
            self.error = error
            yield COPY_ABORT


def _copy_postgresql(connection: Connection, table: Table, columns: Sequence[Column],
                     messages: Iterator[bytes]) -> int:
    names = ", ".join(f'"{column.name}"' for column in columns)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN WITH (FORMAT binary)'
    stream = _AbortOnError(messages)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, stream=stream)
    except BaseException as error:
        if stream.error is not None:
            raise stream.error from None
        if sqlstate(error) in _BINARY_MISMATCH_SQLSTATES:
            raise WriteError(f"{table.name}: the database could not read the rows as its "
                             f"column types ({first_line(error)}): the table differs from "
                             f"the models (run migrate_db.py)") from None
        raise
    finally:
        cursor.close()
    if stream.error is not None:         # cannot happen: the server refuses COPY_ABORT
        raise stream.error
    return cursor.rowcount


# --- SQLite -----------------------------------------------------------------------------------
# A transformed frame holds each storage kind in one dtype (transform.STORED_DTYPES); each
# function turns one such column into sqlite3 parameters (None where missing).

def _integer_sqlite(series: pd.Series, column: Column) -> list:
    values, missing = _whole_numbers(series, column)
    return _put_at_missing(values.tolist(), missing)


def _real_sqlite(series: pd.Series, column: Column) -> list:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return _put_at_missing(values.tolist(), np.isnan(values))


def _flag_sqlite(series: pd.Series, column: Column) -> list:
    values = series.to_numpy(dtype="bool", na_value=False).astype(np.int64)
    return _put_at_missing(values.tolist(), series.isna().to_numpy())


def _timestamp_sqlite(series: pd.Series, column: Column) -> list:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` text, as SQLAlchemy's SQLite DateTime stores it."""
    values = _naive_utc(series).to_numpy(dtype="datetime64[us]")
    texts = np.strings.replace(np.datetime_as_string(values, unit="us"), "T", " ", 1)
    return _put_at_missing(texts.tolist(), np.isnat(values))


def _date_sqlite(series: pd.Series, column: Column) -> list:
    """``YYYY-MM-DD`` text, as SQLAlchemy's SQLite Date stores it."""
    values = series.to_numpy(dtype="datetime64[D]")
    return _put_at_missing(np.datetime_as_string(values, unit="D").tolist(), np.isnat(values))


def _text_sqlite(series: pd.Series, column: Column) -> list:
    return _put_at_missing(series.tolist(), series.isna().to_numpy())


SQLITE_WRITERS = {"text": _text_sqlite, "integer": _integer_sqlite,
                  "duration_ms": _integer_sqlite, "real": _real_sqlite,
                  "flag": _flag_sqlite, "timestamp_utc": _timestamp_sqlite,
                  "date": _date_sqlite, "json_list": _text_sqlite}


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


def _insert_sqlite(connection: Connection, table: Table, columns: Sequence[Column],
                   chunks: Iterator[pd.DataFrame], on_rows: OnRows) -> int:
    names = ", ".join(f'"{column.name}"' for column in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    raw = connection.connection.driver_connection
    cursor = raw.cursor()
    try:
        before = raw.total_changes
        for frame in chunks:
            _check_columns(table, columns, frame)
            for start in range(0, len(frame), SQLITE_CHUNK_ROWS):
                piece = frame.iloc[start:start + SQLITE_CHUNK_ROWS]
                cursor.executemany(sql, sqlite_rows(piece, columns))
                if on_rows is not None:
                    on_rows(len(piece))
        return raw.total_changes - before
    finally:
        cursor.close()
