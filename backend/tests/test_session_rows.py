"""Loaders on real SQLite and PostgreSQL: values round-trip, replacing is exact, ledger upserts."""

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select, text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.dialects.pg_copy import copy_message_rows
from f1db.ledger import read_ledger, write_ledger
from f1db.load import count_session_rows, replace_session_rows
from f1db.models import PACKED_TABLES, Base
from f1db.packing import PackedLayout, pack
from f1db.records import PartStatus, SessionKey, SessionRef
from f1db.schema import require_current_schema
from f1db.transform import table_frame

KEY = SessionKey(2021, 14, "Practice 2")
OTHER = SessionKey(2021, 14, "Qualifying")


@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        require_current_schema(db)
        yield db


def messages_frame(key, rows=3):
    source = pd.DataFrame({
        "Time": pd.to_datetime(["2021-09-11 12:00:00.5"] * rows),
        "Category": ["Flag", "", None][:rows] + ["Other"] * max(0, rows - 3),
        "Message": ['GREEN LIGHT, "PIT EXIT" OPEN\nsecond line', "x,y", "ü ñ"][:rows]
                   + ["m"] * max(0, rows - 3),
        "Status": [None] * rows, "Flag": ["GREEN"] * rows, "Scope": ["Track"] * rows,
        "Sector": [float("nan"), 3.0, None][:rows] + [1.0] * max(0, rows - 3),
        "RacingNumber": ["44", None, "33"][:rows] + [None] * max(0, rows - 3),
        "Lap": [1, None, 2][:rows] + [3] * max(0, rows - 3),
    })
    return table_frame(Base.metadata.tables["race_control_messages"], source, key)


def stored(database, table_name, key):
    table = Base.metadata.tables[table_name]
    with database.engine.connect() as connection:
        query = select(table).where(table.c.session_type == key.session_type).order_by(
            table.c.sequence)
        return [dict(row) for row in connection.execute(query).mappings()]


def test_values_round_trip_empty_string_null_newline_unicode(database):
    table = Base.metadata.tables["race_control_messages"]
    with database.engine.begin() as connection:
        assert replace_session_rows(connection, table, KEY, messages_frame(KEY)) == (0, 3)
    rows = stored(database, "race_control_messages", KEY)
    assert [r["category"] for r in rows] == ["Flag", "", None]
    assert rows[0]["message"] == 'GREEN LIGHT, "PIT EXIT" OPEN\nsecond line'
    assert [r["message"] for r in rows[1:]] == ["x,y", "ü ñ"]
    assert [r["sector"] for r in rows] == [None, 3, None]
    assert [r["lap"] for r in rows] == [1, None, 2]
    assert rows[0]["time_utc"] == dt.datetime(2021, 9, 11, 12, 0, 0, 500000)
    assert rows[0]["status"] is None


def test_replacing_rows_touches_only_that_session(database):
    table = Base.metadata.tables["race_control_messages"]
    with database.engine.begin() as connection:
        replace_session_rows(connection, table, KEY, messages_frame(KEY))
        replace_session_rows(connection, table, OTHER, messages_frame(OTHER, rows=5))
    with database.engine.begin() as connection:
        assert replace_session_rows(connection, table, KEY, messages_frame(KEY, rows=2)) == (3, 2)
    with database.engine.connect() as connection:
        assert count_session_rows(connection, table, KEY) == 2
        assert count_session_rows(connection, table, OTHER) == 5


def test_a_failed_transaction_leaves_old_rows(database):
    table = Base.metadata.tables["race_control_messages"]
    with database.engine.begin() as connection:
        replace_session_rows(connection, table, KEY, messages_frame(KEY))
    with pytest.raises(RuntimeError):
        with database.engine.begin() as connection:
            replace_session_rows(connection, table, KEY, messages_frame(KEY, rows=1))
            raise RuntimeError("killed mid-session")
    with database.engine.connect() as connection:
        assert count_session_rows(connection, table, KEY) == 3


def test_many_rows_cross_copy_messages(database):
    """More packed chunk rows than one COPY message carries, every sample back."""
    stamp = pd.Timestamp("2021-09-11 12:00:00")
    rows = 200_000
    source = pd.DataFrame({"driver_number": ["44"] * rows, "sample_index": range(rows),
                           "Date": stamp + pd.to_timedelta(range(rows), unit="ms"),
                           "Speed": [float(i % 340) for i in range(rows)]})
    telemetry, chunks = Base.metadata.tables["telemetry"], PACKED_TABLES["telemetry"]
    frame = table_frame(telemetry, source, KEY)
    packed = pack(frame, PackedLayout(telemetry, chunks))
    assert len(packed) > copy_message_rows(list(chunks.columns))
    with database.engine.begin() as connection:
        assert replace_session_rows(connection, chunks, KEY, packed)[1] == rows
    with database.engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT sample_index, speed FROM telemetry ORDER BY sample_index")).all()
    assert [tuple(row) for row in stored] == list(zip(range(rows), frame["speed"].tolist()))


def test_ledger_upsert_keeps_one_row_per_session_and_part(database):
    ref = SessionRef(key=KEY, event_name="Italian Grand Prix", country="Italy",
                     location="Monza", event_format="sprint",
                     start_utc=dt.datetime(2021, 9, 11, 14))
    with database.engine.begin() as connection:
        write_ledger(connection, ref, "3.9.0", {
            "results": (PartStatus.MISSING, "FastF1 could not load it"),
            "laps": (PartStatus.LOADED, None)})
    with database.engine.begin() as connection:
        write_ledger(connection, ref, "3.9.1", {"results": (PartStatus.LOADED, None)})
    with database.engine.connect() as connection:
        ledger = read_ledger(connection, 2021)
        parts = connection.execute(select(Base.metadata.tables["session_parts"])).all()
    assert list(ledger) == [KEY] and len(parts) == 2
    entry = ledger[KEY]
    assert entry.statuses == {"results": PartStatus.LOADED, "laps": PartStatus.LOADED}
    assert entry.fastf1_version == "3.9.1"
    assert entry.updated_at_utc >= entry.loaded_at_utc


AWKWARD = ["a\rb", "\\N", "", None, 'q"x', "x,y", "line\nbreak"]


def awkward_frame():
    rows = len(AWKWARD)
    source = pd.DataFrame({
        "Time": pd.to_datetime(["2021-09-11 12:00:00.5", None, "2021-09-11 12:00:01.123456",
                                "2021-09-11 12:00:02.000001", "2021-09-11 12:00:03.999999",
                                "2021-09-11 12:00:04", "2021-09-11 12:00:05"], format="ISO8601"),
        "Category": AWKWARD, "Message": ["x"] * rows,
        "Sector": [1.0, None, 2.0, 3.0, None, 1.0, 2.0], "Lap": [1, None, 2, 3, 4, 5, 6]})
    return table_frame(Base.metadata.tables["race_control_messages"], source, KEY)


def test_awkward_text_and_microseconds_round_trip(database, monkeypatch):
    import f1db.load

    monkeypatch.setattr(f1db.dialects.sqlite, "SQLITE_CHUNK_ROWS", 2)   # several executemany slices
    table = Base.metadata.tables["race_control_messages"]
    with database.engine.begin() as connection:
        assert replace_session_rows(connection, table, KEY, awkward_frame())[1] == len(AWKWARD)
    rows = stored(database, "race_control_messages", KEY)
    assert [r["category"] for r in rows] == AWKWARD
    assert [r["time_utc"] for r in rows] == [
        dt.datetime(2021, 9, 11, 12, 0, 0, 500000), None,
        dt.datetime(2021, 9, 11, 12, 0, 1, 123456), dt.datetime(2021, 9, 11, 12, 0, 2, 1),
        dt.datetime(2021, 9, 11, 12, 0, 3, 999999), dt.datetime(2021, 9, 11, 12, 0, 4),
        dt.datetime(2021, 9, 11, 12, 0, 5)]
    assert [r["lap"] for r in rows] == [1, None, 2, 3, 4, 5, 6]
    assert [r["sector"] for r in rows] == [1, None, 2, 3, None, 1, 2]


def test_a_duplicate_key_in_fastf1s_frame_fails_on_both_databases(database):
    """Never a silently dropped row: the key would merge two of FastF1's rows."""
    from f1db.errors import WriteError

    table = Base.metadata.tables["laps"]
    source = pd.DataFrame({"DriverNumber": ["44", "44"], "LapNumber": [1.0, 1.0],
                           "LapTime": pd.to_timedelta([90.1, 90.2], unit="s")})
    frame = table_frame(table, source, KEY)
    with pytest.raises(WriteError) as refused:
        with database.engine.begin() as connection:
            replace_session_rows(connection, table, KEY, frame)
    message = str(refused.value)
    assert message.startswith("laps: the database refused the rows: ")
    assert "duplicate key" in message or "UNIQUE constraint failed" in message
    assert "{" not in message and "\n" not in message      # never the driver's raw fields
    with database.engine.connect() as connection:
        assert count_session_rows(connection, table, KEY) == 0
