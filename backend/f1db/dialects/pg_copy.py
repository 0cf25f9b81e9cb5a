"""PostgreSQL's binary COPY format, built column-wise with numpy: the encoder only.

The binary COPY format (PostgreSQL docs, "COPY", "Binary Format"): a 19-byte header, then
per row an int16 field count and per field an int32 byte length (-1: NULL) followed by
the value as the type's send function writes it (big-endian): int2/int4/int8 two's
complement, float8 IEEE 754, bool one byte, timestamp int8 microseconds since
2000-01-01 00:00, date int4 days since 2000-01-01, text its UTF-8 bytes; an int16 -1
ends the data. Each column is encoded in the binary form of its model's SQL type from
the transformed frame's numpy arrays, so the server parses no text (docs/ARCHITECTURE.md,
"Writing"). Sending the stream is the PostgreSQL dialect's job (postgresql.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (REAL, Boolean, Column, Date, DateTime, Float, Integer, LargeBinary,
                        String, Table)

from ..models import integer_range
from .columns import OnRows, check_columns, naive_utc, whole_numbers

COPY_MESSAGE_BYTES = 4 * 2**20       # about the most one COPY message carries (bytes in flight)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)     # signature, flags 0, no extension
COPY_TRAILER = b"\xff\xff"
COPY_ABORT = b"\x00\x00"   # a row of 0 fields: the server ends the COPY with an error
_NULL_FIELD_BYTES = b"\xff\xff\xff\xff"        # a field of length -1: NULL
_NULL_FIELD = np.frombuffer(_NULL_FIELD_BYTES, dtype=np.uint8)
_PG_EPOCH_US = 946_684_800_000_000                   # 2000-01-01 in Unix microseconds
_PG_EPOCH_DAYS = 10_957                               # 2000-01-01 in Unix days
_TEXT_BYTES_GUESS = 32                               # for sizing messages only
_BYTEA_BYTES_GUESS = 2048                            # packed samples: 512 of about 4 bytes


@dataclass(frozen=True)
class PreparedCopy:
    """A table's rows already encoded as its PostgreSQL COPY stream (:func:`prepare_copy`).

    A session is prepared this way when its write will overlap FastF1's load of the next
    session: the write then runs in a thread where every Python step waits for the GIL
    that FastF1's parse holds, so encoding there crawls (and slows the parse). Prepared,
    the write is a few large socket sends, which release the GIL.
    """

    columns: tuple[str, ...]
    messages: tuple[bytes, ...]
    rows: tuple[int, ...]               # rows in each message (the header and trailer: 0)


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


@dataclass
class _Bytes:
    """A column whose every row has its own value (bytea): the rows' fields (length prefix
    and bytes, or a NULL's -1) end to end in ``data``, each ``sizes`` long."""

    data: np.ndarray
    sizes: np.ndarray

    def widths(self):
        """Each row's field bytes: an int when every row has the same."""
        return int(self.sizes[0]) if (self.sizes == self.sizes[0]).all() else self.sizes

    def write(self, buffer: np.ndarray, starts: np.ndarray | None,
              rows2d: np.ndarray | None, offset: int) -> None:
        """Like ``_Fixed.write``; every row's field is copied by one fancy assignment."""
        if rows2d is not None:
            rows2d[:, offset:offset + int(self.sizes[0])] = self.data.reshape(len(self.sizes), -1)
            return
        within = np.arange(len(self.data)) - np.repeat(np.cumsum(self.sizes) - self.sizes,
                                                       self.sizes)
        buffer[np.repeat(starts, self.sizes) + within] = self.data


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
        values, missing = whole_numbers(series, column)
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
    stamps = naive_utc(series).to_numpy(dtype="datetime64[ns]")
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


def _bytea_field(series: pd.Series, column: Column) -> _Bytes:
    """bytea travels as its bytes (packed samples: every row's value is its own)."""
    fields = [_NULL_FIELD_BYTES if pd.isna(value) else len(value).to_bytes(4, "big")
              + bytes(value) for value in series]
    return _Bytes(np.frombuffer(b"".join(fields), dtype=np.uint8),
                  np.fromiter((len(field) for field in fields), dtype=np.int64,
                              count=len(fields)))


@dataclass(frozen=True)
class CopyType:
    """How one SQL type travels in binary COPY: its PostgreSQL name, the bytes of a value
    (None: variable, text) and the column encoder."""

    name: str
    width: int | None
    encode: Callable[[pd.Series, Column], _Fixed | _Text | _Bytes]


COPY_TYPES = {
    "int2": CopyType("int2", 2, _integer_field(">i2")),
    "int4": CopyType("int4", 4, _integer_field(">i4")),
    "int8": CopyType("int8", 8, _integer_field(">i8")),
    "float8": CopyType("float8", 8, _float8_field),
    "bool": CopyType("bool", 1, _bool_field),
    "timestamp": CopyType("timestamp", 8, _timestamp_field),
    "date": CopyType("date", 4, _date_field),
    "text": CopyType("text", None, _text_field),
    "bytea": CopyType("bytea", None, _bytea_field),
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
    if isinstance(kind, LargeBinary):
        return COPY_TYPES["bytea"]
    table = getattr(column, "table", None)
    label = f"{table.name}.{column.name}" if table is not None else column.name
    raise ValueError(f"{label}: no binary COPY form for {kind!r}; add one to pg_copy.COPY_TYPES")


def copy_message_rows(columns: Sequence[Column]) -> int:
    """Rows per COPY message: about COPY_MESSAGE_BYTES of them (text guessed at 32 bytes,
    packed samples at 2 KiB)."""
    types = [copy_type(column) for column in columns]
    row_bytes = 2 + sum(4 + (kind.width or (_BYTEA_BYTES_GUESS if kind.name == "bytea"
                                            else _TEXT_BYTES_GUESS)) for kind in types)
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
        check_columns(table, columns, frame)
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



def prepared_messages(prepared: PreparedCopy, on_rows: OnRows) -> Iterator[bytes]:
    for message, rows in zip(prepared.messages, prepared.rows):
        yield message
        if on_rows is not None and rows:
            on_rows(rows)
