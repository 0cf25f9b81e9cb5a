"""The writers (load.py) on real SQLite and PostgreSQL: every SQL type and width round-trips,
chunks of any size, refusals, and failures mid-write that leave nothing behind.

The tables here are made for the test (every storage kind in every SQL width the models
use or may use), created from their own MetaData, so the tests do not depend on how the
product's tables look today. ``parse_copy`` decodes the binary COPY stream independently of
the writer (struct, one row at a time) to check the bytes themselves, both layouts included.
"""

from __future__ import annotations

import datetime as dt
import math
import struct

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Float, Integer, LargeBinary,
                        MetaData, SmallInteger, String, Table, Text, select, text)

import f1db.dialects.pg_copy as pg_copy
import f1db.dialects.sqlite as sqlite_dialect
from f1db.config import resolve_database
from f1db.db import open_database
from f1db.dialects.pg_copy import COPY_HEADER, copy_message_rows, copy_messages, copy_type
from f1db.errors import Interrupted, TransformError, WriteError
from f1db.load import count_session_rows, replace_session_rows
from f1db.records import SessionKey
from f1db.transform import table_frame

KEY = SessionKey(2021, 14, "Practice 2")
OTHER = SessionKey(2021, 14, "Qualifying")

METADATA = MetaData()


def _key_columns():
    return [Column("year", SmallInteger, primary_key=True,
                   info={"session_key": True, "kind": "integer"}),
            Column("round_number", SmallInteger, primary_key=True,
                   info={"session_key": True, "kind": "integer"}),
            Column("session_type", String(40), primary_key=True,
                   info={"session_key": True, "kind": "text"}),
            Column("sequence", Integer, primary_key=True,
                   info={"derived": True, "kind": "integer"})]


def _column(name, sql_type, kind, source):
    return Column(name, sql_type, info={"source": source, "kind": kind})


# Every storage kind in every SQL type it can have; text columns in the middle, so that
# the fields after them sit at a different offset in each row.
ALL_TYPES = Table(
    "writer_types", METADATA, *_key_columns(),
    _column("i2", SmallInteger, "integer", "I2"),
    _column("label", Text, "text", "Label"),
    _column("i4", Integer, "integer", "I4"),
    _column("i8", BigInteger, "integer", "I8"),
    _column("d4_ms", Integer, "duration_ms", "D4"),
    _column("d8_ms", BigInteger, "duration_ms", "D8"),
    _column("short", String(), "text", "Short"),
    _column("real", Float, "real", "Real"),
    _column("flag", Boolean, "flag", "Flag"),
    _column("at_utc", DateTime, "timestamp_utc", "At"),
    _column("day", __import__("sqlalchemy").Date, "date", "Day"),
    _column("items", Text, "json_list", "Items"))

# Shaped like telemetry: fixed-width columns, text last.
NARROW = Table(
    "writer_narrow", METADATA, *_key_columns(),
    _column("speed", SmallInteger, "integer", "Speed"),
    _column("time_ms", Integer, "duration_ms", "Time"),
    _column("driver", Text, "text", "Driver"))

I2, I4, I8 = (-2**15, 2**15 - 1), (-2**31, 2**31 - 1), (-2**63, 2**63 - 1)
TEXTS = ['a,b', 'say "hi"', "cr\rlf\r\nlf\n", "tab\there", "back\\slash", "\\N", "",
         "ünïcödé 日本 🏎", None, "plain", np.nan, "x" * 300]
STAMPS = [dt.datetime(2021, 9, 11, 12, 0, 0, 123456), dt.datetime(1999, 12, 31, 23, 59, 59, 999999),
          dt.datetime(2000, 1, 1), dt.datetime(1970, 1, 1, 0, 0, 0, 1),
          dt.datetime(1950, 6, 1, 8, 30), None, dt.datetime(2262, 4, 11),
          dt.datetime(1999, 12, 31, 23, 59, 59), dt.datetime(2000, 1, 1, 0, 0, 0, 1),
          dt.datetime(2024, 2, 29, 23, 59, 59, 500000), pd.NaT, dt.datetime(1900, 1, 1)]
REALS = [-0.0, 1e308, 5e-324, -1.5e-300, 123.456, float("nan"), None, -1.25, float("inf"),
         float("-inf"), 0.1, 2.0**53]
DAYS = [dt.date(2021, 9, 12), dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(1970, 1, 1),
        dt.date(1950, 6, 1), None, dt.date(2262, 4, 11), dt.date(1999, 12, 30),
        dt.date(2000, 1, 2), dt.date(2024, 2, 29), None, dt.date(1900, 1, 1)]
LISTS = [["red_bull"], [], None, ["mclaren", "williams"], ["ünï", "日本"], ['say "hi"', "a,b"],
         np.nan, ["\\N"], ["x"] * 40, ["back\\slash"], ["ferrari"], ["toro_rosso", "alpha"]]
ROWS = len(TEXTS)


def all_types_source() -> pd.DataFrame:
    """FastF1-like input: float-with-NaN counts, Timedeltas, bools with None, mixed text."""
    return pd.DataFrame({
        "I2": [I2[0], I2[1], -1, 0, None, 7, np.nan, 1, 2, 3, 4, 5],
        "I4": [I4[0], I4[1], -123456, None, 0, 1, 2, 3, 4, 5, 6, 7],
        "I8": pd.array([-2**53, 2**53, -1, None, 0, 1, 2, 3, 4, 5, 6, 2**40], dtype="Int64"),
        "D4": pd.to_timedelta([0, 1.5, -2.5, None, 86_400_000, 0.4, 0.5, -0.5, 1, 2, 3,
                               2**31 - 1], unit="ms"),
        "D8": pd.to_timedelta([2**40, -(2**40), None, 1, 2, 3, 4, 5, 6, 7, 8, 9], unit="ms"),
        "Label": TEXTS, "Short": list(reversed(TEXTS)),
        "Real": REALS,
        "Flag": [True, False, None, True, False, True, None, False, True, True, False, False],
        "At": STAMPS, "Day": pd.to_datetime(DAYS), "Items": LISTS})


def all_types_frame() -> pd.DataFrame:
    """Through the transform, then int8's own limits (the transform goes through float64,
    exact to 2**53 only: the writer must carry all 64 bits)."""
    frame = table_frame(ALL_TYPES, all_types_source(), KEY)
    frame["i8"] = pd.array([I8[0], I8[1], -1, None, 0, 1, 2, 3, 4, 5, 6, 2**40], dtype="Int64")
    return frame


def expected_all_types() -> list[dict]:
    def integer(value):
        return None if value is None or (isinstance(value, float) and math.isnan(value)) \
            or value is pd.NA else int(value)

    def textual(value):
        return None if value is None or (isinstance(value, float) and math.isnan(value)) \
            else value

    def stamp(value):
        return None if value is None or value is pd.NaT else value

    source = all_types_source()
    d4 = [0, 2, -2, None, 86_400_000, 0, 1, 0, 1, 2, 3, 2**31 - 1]   # half up, like transform
    d8 = [2**40, -(2**40), None, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    return [{"sequence": row, "i2": integer(source["I2"][row]), "i4": integer(source["I4"][row]),
             "i8": integer(all_types_frame()["i8"][row]), "d4_ms": d4[row], "d8_ms": d8[row],
             "label": textual(TEXTS[row]), "short": textual(list(reversed(TEXTS))[row]),
             "real": None if REALS[row] is None or math.isnan(REALS[row]) else REALS[row],
             "flag": source["Flag"][row], "at_utc": stamp(STAMPS[row]), "day": DAYS[row],
             "items": None if not isinstance(LISTS[row], list)
             else __import__("json").dumps(LISTS[row], ensure_ascii=False)}
            for row in range(ROWS)]


@pytest.fixture
def engine(database_url):
    with open_database(resolve_database(database_url)) as database:
        METADATA.create_all(database.engine)
        yield database.engine


def stored(engine, table, key=KEY) -> list[dict]:
    with engine.connect() as connection:
        query = select(table).where(table.c.session_type == key.session_type).order_by(
            table.c.sequence)
        return [{name: value for name, value in row.items()
                 if name not in ("year", "round_number", "session_type")}
                for row in connection.execute(query).mappings()]


def same(a, b) -> bool:
    """Equal, with floats compared bit for bit where the sign of zero matters."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    return a == b and type(a) is type(b) or (a is None and b is None)


def test_every_kind_and_width_round_trips_exactly(engine):
    frame = all_types_frame()
    with engine.begin() as connection:
        assert replace_session_rows(connection, ALL_TYPES, KEY, frame) == (0, ROWS)
    rows, expected = stored(engine, ALL_TYPES), expected_all_types()
    postgresql = engine.dialect.name == "postgresql"
    for got, want in zip(rows, expected, strict=True):
        for name, value in want.items():
            if name == "real" and value == 0.0 and not postgresql:
                # SQLite stores a whole REAL as an integer on disk: -0.0 reads back as 0.0
                assert got[name] == 0.0, (got["sequence"], name)
                continue
            if name == "flag":
                assert got[name] == (None if value is pd.NA or value is None else bool(value))
                continue
            assert same(got[name], value), (got["sequence"], name, got[name], value)


def test_one_frame_or_chunks_of_any_size_store_the_same(engine, monkeypatch):
    """Chunks of 1 row, exactly the split size, split size + 1, an empty chunk between."""
    monkeypatch.setattr(pg_copy, "COPY_MESSAGE_BYTES", 4 * (2 + sum(
        4 + (copy_type(c).width or pg_copy._TEXT_BYTES_GUESS) for c in ALL_TYPES.columns)))
    monkeypatch.setattr(sqlite_dialect, "SQLITE_CHUNK_ROWS", 4)
    split = copy_message_rows(list(ALL_TYPES.columns))
    assert split == 4
    frame = all_types_frame()
    layouts = {"rows of one": [frame.iloc[[i]] for i in range(ROWS)],
               "split, split + 1, empty, rest": [frame.iloc[:split],
                                                 frame.iloc[split:2 * split + 1],
                                                 frame.iloc[0:0], frame.iloc[2 * split + 1:]],
               "one frame": frame}
    reference = None
    for name, chunks in layouts.items():
        handed = []
        with engine.begin() as connection:
            _, inserted = replace_session_rows(connection, ALL_TYPES, KEY, chunks,
                                               on_rows=handed.append)
        assert inserted == ROWS and sum(handed) == ROWS, name
        assert max(handed) <= split, name
        rows = stored(engine, ALL_TYPES)
        if reference is None:
            reference = rows
        assert [[repr(v) for v in row.values()] for row in rows] == \
            [[repr(v) for v in row.values()] for row in reference], name


def test_empty_iterable_deletes_and_writes_nothing(engine):
    frame = table_frame(NARROW, pd.DataFrame({"Speed": [1, 2], "Driver": ["44", "1"]}), KEY)
    with engine.begin() as connection:
        assert replace_session_rows(connection, NARROW, KEY, frame) == (0, 2)
    with engine.begin() as connection:
        assert replace_session_rows(connection, NARROW, KEY, iter([])) == (2, 0)
        assert replace_session_rows(connection, NARROW, KEY, [frame.iloc[0:0]]) == (0, 0)
        assert count_session_rows(connection, NARROW, KEY) == 0


def narrow_chunk(start: int, stop: int, driver: str = "44", key=KEY) -> pd.DataFrame:
    source = pd.DataFrame({"Speed": np.arange(start, stop) % 300,
                           "Time": pd.to_timedelta(np.arange(start, stop), unit="ms"),
                           "Driver": driver})
    frame = table_frame(NARROW, source, key)
    frame["sequence"] = np.arange(start, stop)
    return frame


def test_a_duplicate_key_in_a_later_chunk_leaves_nothing_and_the_next_run_completes(
        engine, monkeypatch):
    monkeypatch.setattr(pg_copy, "COPY_MESSAGE_BYTES", 1000)     # the first chunks are sent
    monkeypatch.setattr(sqlite_dialect, "SQLITE_CHUNK_ROWS", 5)
    with engine.begin() as connection:                         # an earlier load's rows
        replace_session_rows(connection, NARROW, KEY, narrow_chunk(0, 3, "1"))
        replace_session_rows(connection, NARROW, OTHER, narrow_chunk(0, 2, "1", OTHER))
    good = [narrow_chunk(0, 100), narrow_chunk(100, 200)]
    with pytest.raises(WriteError) as refused:
        with engine.begin() as connection:
            replace_session_rows(connection, NARROW, KEY, good + [narrow_chunk(150, 151)])
    assert str(refused.value).startswith("writer_narrow: the database refused the rows: ")
    assert "\n" not in str(refused.value)
    assert [row["driver"] for row in stored(engine, NARROW)] == ["1"] * 3   # as before
    with engine.begin() as connection:
        assert replace_session_rows(connection, NARROW, KEY, iter(good)) == (3, 200)
    assert [row["sequence"] for row in stored(engine, NARROW)] == list(range(200))
    assert len(stored(engine, NARROW, OTHER)) == 2


class Stop(Exception):
    pass


@pytest.mark.parametrize("error", [TransformError("laps.lap_number: value 1.5 is not a whole "
                                                  "number"),
                                   Interrupted(15, "SIGTERM")], ids=["transform", "stop"])
def test_an_error_from_the_chunks_mid_write_passes_unchanged_and_the_connection_survives(
        engine, monkeypatch, error):
    """The lead's streaming transform raises between chunks, or a stop is noticed: on
    PostgreSQL mid-COPY, after a message was sent. The same exception comes out, the
    transaction rolls back, and the connection is still good for the next session."""
    monkeypatch.setattr(pg_copy, "COPY_MESSAGE_BYTES", 1000)
    sent = []

    def chunks():
        yield narrow_chunk(0, 100)
        assert sent, "the first rows went to the database before the failure"
        raise error

    with engine.connect() as connection:
        with pytest.raises(type(error)) as raised:
            with connection.begin():
                replace_session_rows(connection, NARROW, KEY, chunks(), on_rows=sent.append)
        assert raised.value is error
        with connection.begin():         # the same connection: usable, nothing stored
            assert count_session_rows(connection, NARROW, KEY) == 0
            assert replace_session_rows(connection, NARROW, KEY, [narrow_chunk(0, 10)]) == (0, 10)
    assert len(stored(engine, NARROW)) == 10


def test_an_error_from_on_rows_passes_unchanged(engine, monkeypatch):
    monkeypatch.setattr(pg_copy, "COPY_MESSAGE_BYTES", 1000)

    def on_rows(count):
        raise Stop("progress bar closed")

    with pytest.raises(Stop):
        with engine.begin() as connection:
            replace_session_rows(connection, NARROW, KEY, [narrow_chunk(0, 50)], on_rows=on_rows)
    with engine.begin() as connection:
        assert count_session_rows(connection, NARROW, KEY) == 0


@pytest.mark.parametrize("column, value, message", [
    ("speed", 32768, "writer_narrow.speed: 32768 does not fit smallint (-32768..32767)"),
    ("speed", -32769, "writer_narrow.speed: -32769 does not fit smallint (-32768..32767)"),
    ("time_ms", 2**31, "writer_narrow.time_ms: 2147483648 does not fit integer "
                       "(-2147483648..2147483647)"),
    ("speed", 1.5, "writer_narrow.speed: 1.5 is not a whole number that fits smallint"),
])
def test_a_value_that_does_not_fit_is_refused_on_both_databases(engine, column, value, message):
    """The transform checks first; the writer refuses too (binary COPY would wrap it and
    SQLite would store it), naming column, value and range, whatever chunk it is in."""
    bad = narrow_chunk(10, 12)
    bad[column] = pd.array([value, 1], dtype="Float64" if value == 1.5 else "Int64")
    with pytest.raises(WriteError) as refused:
        with engine.begin() as connection:
            replace_session_rows(connection, NARROW, KEY, iter([narrow_chunk(0, 10), bad]))
    assert str(refused.value).startswith(message)
    with engine.begin() as connection:
        assert count_session_rows(connection, NARROW, KEY) == 0


def test_the_limits_themselves_are_stored(engine):
    frame = narrow_chunk(0, 4)
    frame["speed"] = pd.array([I2[0], I2[1], None, 0], dtype="Int64")
    frame["time_ms"] = pd.array([I4[0], I4[1], -1, None], dtype="Int64")
    with engine.begin() as connection:
        replace_session_rows(connection, NARROW, KEY, frame)
    assert [(r["speed"], r["time_ms"]) for r in stored(engine, NARROW)] == [
        (I2[0], I4[0]), (I2[1], I4[1]), (None, -1), (0, None)]


def test_a_table_whose_types_differ_from_the_models_is_one_clear_error(postgres_url):
    """Binary COPY has no casts: a column that is float8 in the database but smallint in
    the models fails with a WriteError (not a retried 'protocol' fault)."""
    with open_database(resolve_database(postgres_url)) as database:
        with database.engine.begin() as connection:
            connection.execute(text(
                "CREATE TABLE writer_narrow (year int2, round_number int2, session_type text, "
                "sequence int4, speed float8, time_ms int4, driver text, "
                "PRIMARY KEY (year, round_number, session_type, sequence))"))
        with pytest.raises(WriteError) as refused:
            with database.engine.begin() as connection:
                replace_session_rows(connection, NARROW, KEY, narrow_chunk(0, 3))
        assert "differs from the models (run migrate_db.py)" in str(refused.value)
        with database.engine.connect() as connection:
            assert count_session_rows(connection, NARROW, KEY) == 0


# --- the bytes themselves -----------------------------------------------------------------------

_FIXED = {"int2": ">h", "int4": ">i", "int8": ">q", "float8": ">d", "bool": ">?",
          "timestamp": ">q", "date": ">i"}


def parse_copy(data: bytes, columns) -> list[tuple]:
    """The binary COPY format read back one field at a time (PostgreSQL docs, COPY)."""
    assert data[:len(COPY_HEADER)] == COPY_HEADER
    position, rows = len(COPY_HEADER), []
    types = [copy_type(column).name for column in columns]
    while True:
        (count,) = struct.unpack_from(">h", data, position)
        position += 2
        if count == -1:
            assert position == len(data), "bytes after the trailer"
            return rows
        assert count == len(columns)
        row = []
        for name in types:
            (size,) = struct.unpack_from(">i", data, position)
            position += 4
            if size == -1:
                row.append(None)
                continue
            field = data[position:position + size]
            position += size
            if name == "text":
                row.append(field.decode("utf-8"))
            elif name == "bytea":
                row.append(bytes(field))
            else:
                assert size == struct.calcsize(_FIXED[name]), (name, size)
                (value,) = struct.unpack(_FIXED[name], field)
                if name == "timestamp":
                    value = dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=value)
                if name == "date":      # days since 2000-01-01 (as a frame's midnight)
                    value = dt.datetime(2000, 1, 1) + dt.timedelta(days=value)
                row.append(value)
        rows.append(tuple(row))


def frame_values(frame: pd.DataFrame) -> list[tuple]:
    out = []
    for row in frame.astype(object).itertuples(index=False):
        out.append(tuple(None if value is None or value is pd.NA or value is pd.NaT
                         or (isinstance(value, float) and math.isnan(value))
                         else value.to_pydatetime() if isinstance(value, pd.Timestamp)
                         else value for value in row))
    return out


@pytest.mark.parametrize("rows_per_message", [1, 3, 4, 5, 1000])
def test_the_stream_is_the_binary_format_however_it_is_split(monkeypatch, rows_per_message):
    columns = list(ALL_TYPES.columns)
    row_bytes = 2 + sum(4 + (copy_type(c).width or pg_copy._TEXT_BYTES_GUESS) for c in columns)
    monkeypatch.setattr(pg_copy, "COPY_MESSAGE_BYTES", rows_per_message * row_bytes)
    frame = all_types_frame()
    uniform = narrow_chunk(0, 7)                # every row the same layout: 2-D path
    for source, table in ((frame, ALL_TYPES), (uniform, NARROW)):
        chunks = [source.iloc[:2], source.iloc[2:2], source.iloc[2:]]
        messages = list(copy_messages(iter(chunks), table, list(table.columns)))
        size = copy_message_rows(list(table.columns))
        assert len(messages) == -(-2 // size) - (-(len(source) - 2) // size) + 1
        parsed = parse_copy(b"".join(messages), list(table.columns))
        want = frame_values(source)
        for got_row, want_row in zip(parsed, want, strict=True):
            for got, wanted in zip(got_row, want_row, strict=True):
                assert same(got, wanted) or got == wanted, (got_row, want_row)


def test_a_driver_chunk_uses_the_2d_layout_and_a_mixed_one_the_scattered_one():
    """Same bytes either way: a driver's chunk (every row the same layout) and a chunk
    mixing one- and two-digit drivers and NULLs (rows of different lengths)."""
    mixed = pd.concat([narrow_chunk(0, 3, "1"), narrow_chunk(3, 6, "44")], ignore_index=True)
    mixed.loc[4, "speed"] = pd.NA
    columns = list(NARROW.columns)
    whole = pg_copy.copy_rows(mixed, columns)
    assert whole == b"".join(pg_copy.copy_rows(mixed.iloc[[i]], columns) for i in range(6))
    assert parse_copy(COPY_HEADER + whole + pg_copy.COPY_TRAILER, columns) == frame_values(mixed)


BYTES = Table("writer_bytes", METADATA, *_key_columns(),
              Column("small", SmallInteger, info={"kind": "integer"}),
              Column("packed", LargeBinary, info={"kind": "bytes"}),
              Column("more", LargeBinary, info={"kind": "bytes"}))


def test_bytea_of_any_length_and_null_travels_as_it_is_in_either_layout():
    """Packed samples' offsets: every row's own bytes, each length, empty, NULL; rows of one
    length take the 2-D path, mixed ones the scattered one, with the same bytes."""
    values = [b"\x00\x01", b"", None, bytes(range(256)) * 3, b"\xff" * 4, b"x"]
    mixed = pd.DataFrame({"year": 2021, "round_number": 14, "session_type": "Race",
                          "sequence": np.arange(6), "small": pd.array([1, None, 3, 4, 5, 6],
                                                                      dtype="Int64"),
                          "packed": values, "more": list(reversed(values))})
    uniform = mixed.assign(packed=[bytes([i]) * 8 for i in range(6)],
                           more=[b"ab"] * 6, small=pd.array(range(6), dtype="Int64"))
    columns = list(BYTES.columns)
    for frame in (mixed, uniform):
        whole = pg_copy.copy_rows(frame, columns)
        assert whole == b"".join(pg_copy.copy_rows(frame.iloc[[i]], columns) for i in range(6))
        parsed = parse_copy(COPY_HEADER + whole + pg_copy.COPY_TRAILER, columns)
        assert [row[-2:] for row in parsed] == list(zip(frame["packed"], frame["more"]))


def test_messages_stay_within_the_bound_for_the_product_tables():
    from f1db.models import Base

    table = Base.metadata.tables["telemetry"]
    rows = 3 * copy_message_rows(list(table.columns)) + 7
    source = pd.DataFrame({"driver_number": "44", "sample_index": np.arange(rows),
                           "Date": pd.Timestamp("2021-09-12 13:00") + pd.to_timedelta(
                               np.arange(rows) * 250, unit="ms"),
                           "RPM": 11000.0, "Speed": 300.0, "nGear": 8, "Throttle": 100.0,
                           "Brake": False, "DRS": 12, "Source": "car",
                           "Time": pd.to_timedelta(np.arange(rows) * 250, unit="ms"),
                           "SessionTime": pd.to_timedelta(np.arange(rows) * 250, unit="ms")})
    frame = table_frame(table, source, SessionKey(2021, 14, "Race"))
    sizes = [len(m) for m in copy_messages(iter([frame]), table, list(table.columns))]
    assert len(sizes) == 5 and max(sizes) <= pg_copy.COPY_MESSAGE_BYTES


def test_every_column_of_every_fact_table_has_a_writer_on_both_databases():
    """PostgreSQL writes by SQL type, SQLite by storage kind: a column neither knows could
    not be written."""
    from f1db.models import FACT_MODELS, KINDS

    assert set(sqlite_dialect.SQLITE_WRITERS) == set(KINDS)
    for model in FACT_MODELS:
        for column in model.__table__.columns:
            assert column.info.get("kind") in sqlite_dialect.SQLITE_WRITERS, (model.__tablename__, column)
            copy_type(column)
    with pytest.raises(ValueError, match="no binary COPY form"):
        copy_type(Column("span", __import__("sqlalchemy").Interval))
