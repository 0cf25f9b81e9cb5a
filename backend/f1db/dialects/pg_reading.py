"""PostgreSQL: a per-driver table (telemetry, positions) read as one row per driver.

pg8000 parses every value of every row in Python, which for a race's 1.2 M samples costs
more than FastF1's whole load. Instead the server packs each driver's samples into a few
``bytea`` values, numpy reads each with one ``frombuffer``:

* whole numbers and flags are packed side by side into 64-bit words by shifts and masks
  (``(time_ms << 32) | (rpm & 65535) << 16 | ...``: plain integer arithmetic, no
  allocation a value), one ``int8send`` a word and sample;
* floats and timestamps each in their own binary send format (``float8send``,
  ``timestamp_send``: big-endian, fixed width);
* text joined by the unit separator (U+001F).

The rows reach the aggregates through a subquery in key order, and the samples' own
``sample_index`` comes along to prove it. ``string_agg`` leaves NULLs out (a word with a
NULL field is NULL), so a group whose bytes do not add up to one value a sample (or a
text column with NULLs, or holding U+001F) is read again for that driver the plain way
(:func:`reading.read_frame`): exact whatever the rows hold, fast when they are as FastF1
gives them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (BigInteger, Boolean, Column, Connection, DateTime, Float, Integer,
                        SmallInteger, func, literal_column, select)
from sqlalchemy.exc import DBAPIError

from .reading import read_frame

SEPARATOR = "\x1f"
WORD_BITS = 64
# timestamp_send counts microseconds from 2000-01-01 (PostgreSQL's epoch).
_POSTGRES_EPOCH_US = np.int64(946_684_800_000_000)


def _bits(column: Column) -> int | None:
    """Bits a column takes in a packed word (None: not packable)."""
    kind = column.type
    if isinstance(kind, Boolean) or isinstance(kind, SmallInteger):
        return 16
    if isinstance(kind, Integer) and not isinstance(kind, BigInteger):
        return 32
    return None


@dataclass
class _Group:
    """One aggregate: a packed word of several columns, one other fixed-width column, or a
    text column (``text``)."""

    columns: list[Column]
    text: bool = False

    def aggregates(self, source) -> list:
        empty = literal_column("''::bytea")
        values = [source.c[column.name] for column in self.columns]
        if self.text:
            return [func.string_agg(values[0], func.chr(ord(SEPARATOR))),
                    func.count(values[0])]
        kind = self.columns[0].type
        if _bits(self.columns[0]) is None:
            send = (func.timestamp_send if isinstance(kind, DateTime) else
                    func.float8send if isinstance(kind, Float) else func.int8send)
            return [func.string_agg(send(values[0]), empty)]
        word, shift = None, WORD_BITS
        for column, value in zip(self.columns, values):
            bits = _bits(column)
            shift -= bits
            as_integer = value.cast(Integer) if isinstance(column.type, Boolean) else value
            field = as_integer.cast(BigInteger).op("&")(
                literal_column(str((1 << bits) - 1))).op("<<")(literal_column(str(shift)))
            word = field if word is None else word.op("|")(field)
        return [func.string_agg(func.int8send(word), empty)]

    def decoded(self, packed: list, count: int) -> dict | None:
        """The group's columns as stored dtypes; None when NULLs left values out."""
        if self.text:
            text, present = packed
            values = text.split(SEPARATOR) if text is not None else []
            if present != count or len(values) != count:
                return None
            shared: dict[str, str] = {}      # one str object per distinct value
            return {self.columns[0].name: np.array([shared.setdefault(value, value)
                                                    for value in values], dtype=object)}
        raw = packed[0]
        if raw is None or len(raw) != count * 8:
            return None
        if _bits(self.columns[0]) is None:
            return {self.columns[0].name: _single(self.columns[0], raw)}
        words, shift, out = np.frombuffer(raw, dtype=">u8").astype(np.uint64), WORD_BITS, {}
        for column in self.columns:
            bits = _bits(column)
            shift -= bits
            field = (words >> np.uint64(shift)) & np.uint64((1 << bits) - 1)
            if isinstance(column.type, Boolean):
                out[column.name] = pd.arrays.BooleanArray(field != 0,
                                                          np.zeros(count, dtype=bool))
            else:
                signed = field.astype(np.uint16 if bits == 16 else np.uint32).view(
                    np.int16 if bits == 16 else np.int32)
                out[column.name] = _whole(signed)
        return out


def _single(column: Column, raw: bytes):
    kind = column.type
    if isinstance(kind, DateTime):
        values = np.frombuffer(raw, dtype=">i8").astype(np.int64)
        return ((values + _POSTGRES_EPOCH_US) * 1000).view("datetime64[ns]")
    if isinstance(kind, Float):
        return np.frombuffer(raw, dtype=">f8").astype(np.float64)
    return _whole(np.frombuffer(raw, dtype=">i8"))


def _whole(values: np.ndarray):
    """Whole numbers with no NULL as the stored ``Int64`` dtype, without a Python loop."""
    return pd.arrays.IntegerArray(values.astype(np.int64), np.zeros(len(values), dtype=bool))


def _groups(columns: Sequence[Column]) -> list[_Group]:
    """The aggregates of ``columns``: the packable ones in as few words as fit (first fit,
    widest first), each other column its own."""
    words: list[list[Column]] = []
    groups = []
    for column in sorted(columns, key=lambda column: -(_bits(column) or 0)):
        bits = _bits(column)
        if bits is None:
            groups.append(_Group([column], text=not isinstance(
                column.type, (DateTime, Float, BigInteger))))
            continue
        for word in words:
            if sum(_bits(member) for member in word) + bits <= WORD_BITS:
                word.append(column)
                break
        else:
            words.append([column])
    return [_Group(word) for word in words] + groups


# Drivers per fetch: what pg8000 holds at once (a few drivers' packed rows) stays a few MB.
DRIVERS_PER_FETCH = 4
CURSOR = "f1db_per_driver"


def read_per_driver(connection: Connection, columns: Sequence[Column], where: Sequence,
                    driver: Column, sample: Column) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each driver's rows of ``columns`` matching ``where``, in ``sample`` order, as stored
    frames (dialects/reading.py), driver by driver in key order.

    One statement (one index scan, its groups streamed as the scan passes each driver)
    behind a server-side cursor, fetched a few drivers at a time, so this process holds
    only those drivers' packed rows, not the session's.
    """
    ordered = select(driver, sample, *columns).where(*where).order_by(
        driver, sample).subquery()
    groups = _groups([sample, *columns])
    aggregates = [func.count()]
    sizes = []
    for group in groups:
        parts = group.aggregates(ordered)
        aggregates += parts
        sizes.append(len(parts))
    statement = select(ordered.c[driver.name], *aggregates).group_by(
        ordered.c[driver.name]).order_by(ordered.c[driver.name])
    sql = str(statement.compile(dialect=connection.dialect,
                                compile_kwargs={"literal_binds": True}))
    connection.exec_driver_sql(f"DECLARE {CURSOR} NO SCROLL CURSOR FOR {sql}")
    try:
        while True:
            fetched = connection.exec_driver_sql(
                f"FETCH {DRIVERS_PER_FETCH} FROM {CURSOR}").all()
            if not fetched:
                break
            yield from _decoded_rows(connection, fetched, columns, where, driver, sample,
                                     groups, sizes)
    finally:     # an aborted transaction drops its cursors itself: keep the first error
        with contextlib.suppress(DBAPIError):
            connection.exec_driver_sql(f"CLOSE {CURSOR}")


def _decoded_rows(connection, fetched, columns, where, driver, sample, groups, sizes):
    for row in fetched:
        name, count, at, out = row[0], row[1], 2, {}
        for group, size in zip(groups, sizes):
            decoded = group.decoded(list(row[at:at + size]), count)
            at += size
            if decoded is None:          # NULLs or a separator inside: read it plainly
                plain = read_frame(connection, group.columns, [*where, driver == name],
                                   [sample])
                decoded = {column.name: plain[column.name].array for column in group.columns}
            out.update(decoded)
        indexes = np.asarray(out[sample.name], dtype=np.int64)
        if not np.all(indexes[1:] > indexes[:-1]):
            raise RuntimeError(f"{sample.table.name}: the server did not keep the sample "
                               f"order for driver {name}")
        yield name, pd.DataFrame(out, columns=[column.name for column in columns])
