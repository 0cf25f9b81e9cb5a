"""Packed samples (docs/DATA.md, "Storage of the big tables"): car data and positions are
stored as chunks of up to 512 samples and read back exactly, by the library (numpy) and by
the ``telemetry``/``positions`` views (plain SQL) on both databases; a stored database is
converted in place by revision 0010 and back, resumably, with rows on both databases.

Edge values: each type's limits, NULL in every pattern (none, some, all, at chunk
boundaries), chunks of 1, 511, 512, 513 and 1025 samples, duplicate timestamps, a text
value changing mid-chunk, gaps in ``sample_index``, offsets 8 bytes wide.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.load import replace_session_rows
from f1db.models import PACKED_TABLES, Base
from f1db.packing import CHUNK_SAMPLES, PackedLayout, pack, unpack
from f1db.records import SessionKey
from f1db.schema import require_current_schema, schema_state, upgrade
from f1db.transform import driver_frame, table_frame
from support.database import connected

KEY = SessionKey(2023, 4, "Race")
BACKEND = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYOUTS = {name: PackedLayout(Base.metadata.tables[name], chunks)
           for name, chunks in PACKED_TABLES.items()}


def car_source(samples: int, seed: int = 1) -> pd.DataFrame:
    """A FastF1-like ``car_data`` frame: 4 Hz, whole-number channels as float64."""
    rng = np.random.default_rng(seed)
    session_time = pd.to_timedelta(np.cumsum(rng.integers(150, 350, samples)), unit="ms")
    start = pd.Timestamp("2023-04-30 11:03:00.123456")
    return pd.DataFrame({
        "Date": start + session_time + pd.to_timedelta(rng.integers(0, 999, samples), "us"),
        "SessionTime": session_time, "Time": session_time - session_time[0],
        "RPM": rng.integers(0, 13000, samples).astype(float),
        "Speed": rng.integers(0, 340, samples).astype(float),
        "nGear": rng.integers(0, 8, samples), "Throttle": rng.integers(0, 104, samples) * 1.0,
        "Brake": rng.random(samples) < 0.2, "DRS": rng.integers(0, 14, samples),
        "Source": "car"})


def pos_source(samples: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = car_source(samples, seed)[["Date", "SessionTime", "Time"]]
    return frame.assign(X=rng.integers(-20000, 20000, samples) * 1.0,
                        Y=rng.integers(-20000, 20000, samples) * 1.0,
                        Z=rng.integers(-500, 500, samples) * 1.0,
                        Status=np.where(np.arange(samples) % 700 < 650, "OnTrack", "OffTrack"),
                        Source="pos")


def edge_cases() -> dict[str, tuple[str, pd.DataFrame]]:
    """name -> (table, FastF1-like frame of one driver)."""
    cases = {}
    for samples in (1, CHUNK_SAMPLES - 1, CHUNK_SAMPLES, CHUNK_SAMPLES + 1,
                    2 * CHUNK_SAMPLES + 1):
        cases[f"car-{samples}-samples"] = ("telemetry", car_source(samples))
    limits = car_source(6)
    limits["RPM"] = [-32768.0, 32767.0, 0.0, np.nan, 32767.0, -32768.0]
    limits["Speed"] = [32767.0, -32768.0, np.nan, np.nan, 0.0, 1.0]
    limits["nGear"] = [0, 32767, -32768, 1, 2, 3]
    limits["Time"] = pd.to_timedelta([-2**31, 2**31 - 1, 0, None, 5, 6], unit="ms")
    cases["car-type-limits"] = ("telemetry", limits)
    nulls = car_source(3 * CHUNK_SAMPLES)
    nulls.loc[CHUNK_SAMPLES - 1:CHUNK_SAMPLES + 1, "RPM"] = np.nan       # at a boundary
    nulls["Throttle"] = np.nan                                            # all of a column
    nulls.loc[::7, "Date"] = pd.NaT                # session time then has no reference
    nulls.loc[::11, "SessionTime"] = pd.NaT        # nor has time
    nulls["Brake"] = nulls["Brake"].astype(object)
    nulls.loc[5, "Brake"] = None
    nulls.loc[CHUNK_SAMPLES + 3, "Source"] = None
    cases["car-nulls-everywhere"] = ("telemetry", nulls)
    duplicates = car_source(40)
    duplicates.loc[10:20, ["Date", "SessionTime", "Time"]] = duplicates.loc[
        10, ["Date", "SessionTime", "Time"]].to_numpy()
    duplicates.loc[30:, "Source"] = "interpolation"                       # text changes
    cases["car-duplicate-timestamps"] = ("telemetry", duplicates)
    wide = car_source(10)
    wide.loc[5:, "Date"] = wide.loc[5:, "Date"] + pd.Timedelta(days=400)  # 8-byte offsets
    wide.loc[5:, "SessionTime"] = wide.loc[5:, "SessionTime"] + pd.Timedelta(days=20)
    cases["car-offsets-8-bytes-wide"] = ("telemetry", wide)
    positions = pos_source(2 * CHUNK_SAMPLES + 100)
    positions.loc[3, "X"] = 2147483647.0
    positions.loc[4, "X"] = -2147483648.0
    positions.loc[700, "Z"] = np.nan
    cases["positions-status-changes-and-limits"] = ("positions", positions)
    return cases


CASES = edge_cases()


def rows_of(table: str, source: pd.DataFrame, driver: str = "44") -> pd.DataFrame:
    return table_frame(Base.metadata.tables[table], driver_frame(source, driver), KEY)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_value_comes_back_from_the_chunks(case):
    table, source = CASES[case]
    rows = rows_of(table, source)
    chunks = pack(rows, LAYOUTS[table])
    assert chunks["samples"].max() <= CHUNK_SAMPLES
    assert chunks["samples"].sum() == len(rows)
    back = unpack(chunks, LAYOUTS[table])
    pd.testing.assert_frame_equal(back, rows, check_dtype=False)


def test_a_gap_in_sample_index_and_several_drivers_start_new_chunks():
    rows = pd.concat([rows_of("telemetry", car_source(30), "1"),
                      rows_of("telemetry", car_source(30), "44")], ignore_index=True)
    rows = rows.drop(index=[7, 8]).reset_index(drop=True)
    chunks = pack(rows, LAYOUTS["telemetry"])
    assert list(zip(chunks["driver_number"], chunks["first_sample"], chunks["samples"])) == [
        ("1", 0, 7), ("1", 9, 21), ("44", 0, 30)]
    pd.testing.assert_frame_equal(unpack(chunks, LAYOUTS["telemetry"]), rows,
                                  check_dtype=False)


def test_a_race_of_samples_takes_under_14_bytes_a_sample_before_the_database():
    rows = rows_of("telemetry", car_source(30_000))
    chunks = pack(rows, LAYOUTS["telemetry"])
    packed = sum(len(blob) for name in LAYOUTS["telemetry"].numbers for blob in chunks[name])
    assert packed / len(rows) < 14


# --- on both databases: the library's reader and the views -------------------------------

@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        require_current_schema(db)
        yield db


def view_rows(connection, table: str, key: SessionKey) -> pd.DataFrame:
    """The session's rows through the view, as the library reads a row table."""
    from f1db.dialects.reading import read_frame

    of = Base.metadata.tables[table]
    return read_frame(connection, list(of.columns),
                      [of.c.year == key.year, of.c.round_number == key.round_number,
                       of.c.session_type == key.session_type],
                      [of.c.driver_number, of.c.sample_index])


def test_every_edge_case_round_trips_through_the_database_and_the_views(database):
    from f1db.read.access import StoredData
    from f1db.read.samples import session_samples

    expected = {}
    for number, case in enumerate(sorted(CASES)):
        table, source = CASES[case]
        key = SessionKey(2023, 1 + number, "Race")
        rows = table_frame(Base.metadata.tables[table], driver_frame(source, "44"), key)
        expected[case] = table, key, rows
        with database.engine.begin() as connection:
            replace_session_rows(connection, PACKED_TABLES[table], key,
                                 [pack(rows, LAYOUTS[table])])
    stored = StoredData(database)
    for case, (table, key, rows) in expected.items():
        with database.engine.connect() as connection:
            through_view = view_rows(connection, table, key)
            (driver, read_back), = list(session_samples(stored, connection, table, key))
        assert driver == "44"
        pd.testing.assert_frame_equal(through_view, rows, check_dtype=False, obj=case)
        pd.testing.assert_frame_equal(read_back, rows, check_dtype=False, obj=case)


def test_the_views_have_the_row_tables_types(database):
    """PostgreSQL: each view column has the type its model declares (what dashboards and
    ``information_schema`` see); SQLite views have no declared types."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite views declare no column types")
    from sqlalchemy import inspect

    with database.engine.connect() as connection:
        inspector = inspect(connection)
        for table in PACKED_TABLES:
            columns = {c["name"]: c["type"] for c in inspector.get_columns(table)}
            model = Base.metadata.tables[table]
            assert list(columns) == [c.name for c in model.columns]
            for column in model.columns:
                reported = columns[column.name].compile(dialect=connection.dialect)
                declared = column.type.compile(dialect=connection.dialect)
                assert reported == declared, column.name


# --- the migration: rows converted in place, up and down, resumable ----------------------

def fill_at_revision_0009(url: str, sessions: int) -> dict[str, pd.DataFrame]:
    """A database at revision 0009 whose row tables hold ``sessions`` sessions of samples
    (what an older version stored); returns each table's rows in key order."""
    from alembic import command

    from f1db.load import insert_rows
    from f1db.schema import alembic_config

    stored = {}
    with open_database(resolve_database(url)) as db:
        config = alembic_config(db)
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
        for table, source in (("telemetry", car_source(1500)), ("positions", pos_source(1500))):
            frames = []
            for number in range(sessions):
                key = SessionKey(2022, 1 + number, "Race")
                for driver in ("1", "16"):
                    frames.append(table_frame(Base.metadata.tables[table],
                                              driver_frame(source, driver), key))
            with db.engine.begin() as connection:
                insert_rows(connection, Base.metadata.tables[table], frames)
            stored[table] = pd.concat(frames, ignore_index=True)
    return stored


def all_rows(connection, table: str) -> pd.DataFrame:
    from f1db.dialects.reading import read_frame

    of = Base.metadata.tables[table]
    return read_frame(connection, list(of.columns), [],
                      [of.c.year, of.c.round_number, of.c.session_type, of.c.driver_number,
                       of.c.sample_index])


def test_the_migration_packs_stored_rows_and_downgrade_brings_them_back(database_url):
    from alembic import command

    from f1db.schema import alembic_config

    before = fill_at_revision_0009(database_url, sessions=2)
    with open_database(resolve_database(database_url)) as db:
        assert upgrade(db) == ("0009", "0010")
        assert schema_state(db).up_to_date
        with db.engine.connect() as connection:
            for table, rows in before.items():
                pd.testing.assert_frame_equal(all_rows(connection, table), rows,
                                              check_dtype=False, obj=table)
                chunks = connection.execute(text(
                    f"SELECT count(*), sum(samples) FROM {table}_chunks")).one()
                assert chunks[1] == len(rows) and chunks[0] < len(rows) / 100
        assert upgrade(db) == ("0010", "0010")                  # a rerun adds nothing
        config = alembic_config(db)
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
        with db.engine.connect() as connection:
            for table, rows in before.items():
                pd.testing.assert_frame_equal(all_rows(connection, table), rows,
                                              check_dtype=False, obj=table)
            kinds = {name for name, in connection.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_type = "
                "'BASE TABLE'" if db.dialect == "postgresql" else
                "SELECT name FROM sqlite_master WHERE type = 'table'"))}
            assert {"telemetry", "positions"} <= kinds
            assert not kinds & {"telemetry_chunks", "positions_chunks", "sample_numbers"}
        assert upgrade(db) == ("0009", "0010")
        with db.engine.connect() as connection:
            for table, rows in before.items():
                pd.testing.assert_frame_equal(all_rows(connection, table), rows,
                                              check_dtype=False, obj=table)


def test_a_migration_killed_while_packing_loses_and_doubles_nothing_and_resumes(database_url):
    before = fill_at_revision_0009(database_url, sessions=6)
    command = [sys.executable, os.path.join(BACKEND, "migrate_db.py"),
               "--database-url", database_url]
    process = subprocess.Popen(command, cwd=BACKEND, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("Packed telemetry") and "(2 of 6)" in line:
            process.kill()
            break
    process.wait(timeout=60)
    assert process.returncode == -9, "".join(seen)
    with open_database(resolve_database(database_url)) as db:
        state = schema_state(db)
        assert state.current == "0010" and state.unpacked and not state.up_to_date
        with pytest.raises(Exception, match="migrate_db.py to finish"):
            require_current_schema(db)
        with connected(db.engine) as connection:
            left = connection.execute(text("SELECT count(*) FROM telemetry_unpacked")).scalar()
            packed = connection.execute(text(
                "SELECT coalesce(sum(samples), 0) FROM telemetry_chunks")).scalar()
        assert 0 < packed < len(before["telemetry"])
        assert left + packed == len(before["telemetry"])
    finished = subprocess.run(command, cwd=BACKEND, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    with open_database(resolve_database(database_url)) as db:
        assert schema_state(db).up_to_date
        with db.engine.connect() as connection:
            for table, rows in before.items():
                pd.testing.assert_frame_equal(all_rows(connection, table), rows,
                                              check_dtype=False, obj=table)
    again = subprocess.run(command, cwd=BACKEND, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "up to date" in again.stdout, again.stdout + again.stderr
