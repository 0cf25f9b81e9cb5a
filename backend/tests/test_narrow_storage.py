"""The narrow column types of telemetry and positions (docs/DATA.md, "Storage of
the big tables"): every value at a type's limits is stored exactly, one past them is
refused naming table, column, value and range, through the transform and through real
loads of FastF1-parsed data into SQLite and PostgreSQL (stored packed, read through the
row views); the models' physical layout of the chunk tables is what the migrations build.

The recordings hold no car or position data, so FastF1's values here come from the
synthetic live-timing streams (tests/support/synthetic_telemetry.py) parsed by FastF1 itself,
some samples edited on the wire to sit at or past a limit.
"""

from __future__ import annotations

import base64
import json
import re
import zlib

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from f1db.config import normalise_url, resolve_database
from f1db.db import open_database
from f1db.errors import TransformError
from f1db.load import replace_session_rows
from f1db.models import PACKED_TABLES, TELEMETRY_TABLES, Base, integer_range, stored_tables
from f1db.packing import PackedLayout, pack
from f1db.records import SessionKey
from f1db.schema import require_current_schema, upgrade
from f1db.transform import convert, table_frame
from support.database import row_counts, run_populator
from support.fastf1_comparison import assert_table_matches, fastf1_frame

KEY = SessionKey(2021, 14, "Practice 2")
ITALY_FP2 = (2021, "Italian Grand Prix", "FP2", "Practice 2")


def integer_columns():
    """(table, column) for every integer column of telemetry and positions that FastF1 fills."""
    return [(table, column.name) for table in TELEMETRY_TABLES
            for column in Base.metadata.tables[table].columns
            if "source" in column.info and integer_range(column.type)]


def test_the_big_tables_store_whole_numbers_in_the_narrowest_type_that_holds_them():
    """The contract the rest of this module tests, spelled out once."""
    types = {(table, name): integer_range(Base.metadata.tables[table].c[name].type)[0]
             for table, name in integer_columns()}
    assert types == {
        **{("telemetry", name): "smallint" for name in ("rpm", "speed", "n_gear", "throttle",
                                                        "drs")},
        **{("positions", name): "integer" for name in ("x", "y", "z")},
        **{(table, name): "integer" for table in TELEMETRY_TABLES
           for name in ("session_time_ms", "time_ms")}}
    for table in TELEMETRY_TABLES:
        assert integer_range(Base.metadata.tables[table].c.sample_index.type)[0] == "integer"


# --- through the transform ----------------------------------------------------------------

def source_value(table: str, name: str, value: int):
    """FastF1's value that the column stores as ``value`` (durations: a Timedelta)."""
    column = Base.metadata.tables[table].c[name]
    if column.info["kind"] == "duration_ms":
        return pd.Timedelta(milliseconds=value)
    return float(value)                          # FastF1 keeps the channels as float64


def one_driver_frame(table: str, name: str, values: list) -> pd.DataFrame:
    column = Base.metadata.tables[table].c[name]
    return pd.DataFrame({"driver_number": "44", "sample_index": range(len(values)),
                         column.info["source"]: values})


@pytest.mark.parametrize("table, name", integer_columns())
def test_values_at_the_limits_of_the_type_are_kept(table, name):
    _, low, high = integer_range(Base.metadata.tables[table].c[name].type)
    values = [source_value(table, name, v) for v in (low, high, 0)] + [None]
    frame = table_frame(Base.metadata.tables[table], one_driver_frame(table, name, values), KEY)
    assert frame[name].tolist() == [low, high, 0, pd.NA]


@pytest.mark.parametrize("past", ["low", "high"])
@pytest.mark.parametrize("table, name", integer_columns())
def test_one_past_the_limits_is_refused_naming_column_value_and_range(table, name, past):
    type_name, low, high = integer_range(Base.metadata.tables[table].c[name].type)
    value = low - 1 if past == "low" else high + 1
    values = [source_value(table, name, v) for v in (0, value, 1)]
    with pytest.raises(TransformError) as refused:
        table_frame(Base.metadata.tables[table], one_driver_frame(table, name, values), KEY)
    assert str(refused.value) == (f"{table}.{name}: value {value} does not fit {type_name} "
                                  f"({low}..{high}); refusing rather than storing another "
                                  f"value")


def test_a_derived_key_past_its_type_is_refused_too():
    source = pd.DataFrame({"driver_number": "44", "sample_index": [0, 2**31],
                           "RPM": [10000.0, 10001.0]})
    with pytest.raises(TransformError, match=r"^telemetry.sample_index: value 2147483648 "
                                             r"does not fit integer \(-2147483648..2147483647\)"):
        table_frame(Base.metadata.tables["telemetry"], source, KEY)


def test_a_column_fastf1_did_not_give_and_an_empty_frame_pass_the_check():
    table = Base.metadata.tables["positions"]
    frame = table_frame(table, one_driver_frame("positions", "x", [1.0, 2.0]), KEY)
    assert frame["y"].isna().all() and frame["x"].tolist() == [1, 2]
    assert table_frame(table, one_driver_frame("positions", "x", []), KEY).empty


@pytest.mark.parametrize("value", [2.0**63, -2.0**64, float("inf")])
def test_a_whole_number_beyond_64_bits_is_refused_by_any_integer_column(value):
    with pytest.raises(TransformError, match=rf"^laps.lap_number: value {re.escape(repr(value))} "
                                             rf"does not fit bigint \(-9223372036854775808\.\."):
        convert(pd.Series([1.0, value]), "integer", column="laps.lap_number")


# --- through the loaders ------------------------------------------------------------------

@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        require_current_schema(db)
        yield db


def test_the_limits_of_every_narrow_column_round_trip_on_both_databases(database):
    """Each integer column at its low limit in one row, its high limit in the next: packed
    as a load packs them, read back through the row view."""
    for table_name in TELEMETRY_TABLES:
        table = Base.metadata.tables[table_name]
        columns = [name for table_, name in integer_columns() if table_ == table_name]
        limits = {name: integer_range(table.c[name].type)[1:] for name in columns}
        source = pd.DataFrame({"driver_number": "44", "sample_index": [0, 1, 2**31 - 1],
                               **{table.c[name].info["source"]:
                                  [source_value(table_name, name, v) for v in (*limits[name], 7)]
                                  for name in columns}})
        chunks = PACKED_TABLES[table_name]
        with database.engine.begin() as connection:
            replace_session_rows(connection, chunks, KEY, pack(
                table_frame(table, source, KEY), PackedLayout(table, chunks)))
        with database.engine.connect() as connection:
            rows = connection.execute(text(
                f"SELECT sample_index, {', '.join(columns)} FROM {table_name} "
                f"ORDER BY sample_index")).all()
        assert [tuple(row) for row in rows] == [
            (0, *[limits[name][0] for name in columns]),
            (1, *[limits[name][1] for name in columns]),
            (2**31 - 1, *[7] * len(columns))]


# --- through a whole load of FastF1-parsed data -------------------------------------------

def edit_first_sample(body: bytes, edits: dict) -> bytes:
    """The stream with the first sample of its first line changed: ``edits`` sets car
    channels ("0" RPM, "2" Speed, "3" nGear, "4" Throttle, "45" DRS) or position fields
    ("X", "Y", "Z"). The line is decoded and encoded again as live timing sends it."""
    lines = body.decode("utf-8-sig").split("\r\n")
    stamp, payload = lines[0][:12], lines[0][12:].strip('"')
    document = json.loads(zlib.decompress(base64.b64decode(payload), -zlib.MAX_WBITS))
    if "Entries" in document:                            # CarData: Entries[].Cars[].Channels
        sample = next(iter(document["Entries"][0]["Cars"].values()))["Channels"]
    else:                                                # Position: Position[].Entries[]
        sample = next(iter(document["Position"][0]["Entries"].values()))
    sample.update(edits)
    deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = deflate.compress(json.dumps(document).encode()) + deflate.flush()
    lines[0] = stamp + '"' + base64.b64encode(packed).decode() + '"'
    return ("\ufeff" + "\r\n".join(lines)).encode("utf-8")


CASES = {
    "at-the-limits": {"CarData": {"0": 32767, "2": -32768, "3": 32767, "4": -32768,
                                  "45": 32767},
                      "Position": {"X": 2147483647, "Y": -2147483648, "Z": -2147483648}},
    "rpm-past-smallint": {"CarData": {"0": 32768}},
    "z-past-integer": {"Position": {"Z": -2147483649}},
}


@pytest.fixture(scope="module")
def edited_caches(tmp_path_factory):
    """case -> a FastF1 cache holding 2021 Italian FP2 with 10 s of synthetic telemetry
    whose first car and position samples carry CASES[case], loaded by FastF1 itself."""
    from support.fastf1_replay import load_recordings, recordings_available, replaying
    from support.synthetic_telemetry import (add_session_telemetry, restoring_fastf1_cache,
                                             unthrottled)

    if not recordings_available():
        pytest.skip("../shared/fastf1-recorded is absent: recorded FastF1 sessions cannot "
                    "be loaded")
    import fastf1
    from fastf1.logger import LoggingManager

    log_level = LoggingManager._console_handler.level
    fastf1.set_log_level("WARNING")
    caches = {}
    try:
        with restoring_fastf1_cache(), unthrottled():
            responses = add_session_telemetry(load_recordings(), year=2021,
                                              event="Italian Grand Prix", session="FP2",
                                              seconds=10)
            for case, edits in CASES.items():
                edited = dict(responses)
                for url, (status, headers, body) in responses.items():
                    for stream, fields in edits.items():
                        if url.endswith(f"/{stream}.z.jsonStream"):
                            edited[url] = (status, headers, edit_first_sample(body, fields))
                caches[case] = tmp_path_factory.mktemp(case)
                fastf1.Cache.configure(cache_dir=str(caches[case]))
                with replaying(edited):
                    fastf1.get_event_schedule(2021, include_testing=True)
                    fastf1.get_session(2021, "Italian Grand Prix", "FP2").load()
    finally:
        LoggingManager.set_level(log_level)
    return caches


def populate_italy(database_url, cache_dir):
    year, event, identifier, _ = ITALY_FP2
    return run_populator(year, database_url=database_url, events=(event,),
                         sessions=(identifier,), offline=True, cache_dir=cache_dir)


def fastf1_italy(cache_dir):
    import fastf1

    fastf1.Cache.configure(cache_dir=str(cache_dir))
    fastf1.Cache.offline_mode(True)
    session = fastf1.get_session(*ITALY_FP2[:3])
    session.load()
    return session


def test_fastf1_values_at_the_limits_are_stored_exactly(edited_caches, database_url):
    cache = edited_caches["at-the-limits"]
    summary = populate_italy(database_url, cache)
    assert (summary.sessions_loaded, summary.sessions_failed) == (1, 0)
    session = fastf1_italy(cache)
    engine = create_engine(normalise_url(database_url))
    try:
        for table in TELEMETRY_TABLES:
            assert_table_matches(engine, table, fastf1_frame(session, table), 2021,
                                 "Practice 2")
        with engine.connect() as connection:
            extremes = connection.execute(text(
                "SELECT max(t.rpm), min(t.speed), max(t.n_gear), min(t.throttle), max(t.drs), "
                "(SELECT max(x) FROM positions), (SELECT min(y) FROM positions), "
                "(SELECT min(z) FROM positions) FROM telemetry t")).one()
    finally:
        engine.dispose()
    assert tuple(extremes) == (32767, -32768, 32767, -32768, 32767,
                               2147483647, -2147483648, -2147483648)


@pytest.mark.parametrize("case, message", [
    ("rpm-past-smallint", "telemetry.rpm: value 32768 does not fit smallint (-32768..32767)"),
    ("z-past-integer",
     "positions.z: value -2147483649 does not fit integer (-2147483648..2147483647)"),
])
def test_a_fastf1_value_past_its_column_fails_the_session_storing_nothing(
        edited_caches, database_url, case, message):
    summary = populate_italy(database_url, edited_caches[case])
    assert summary.sessions_failed == 1 and summary.sessions_loaded == 0
    assert message in summary.failures[0].reason
    counts = row_counts(database_url)
    assert counts.pop("session_failures") == 1
    assert set(counts.values()) == {0}


def test_fastf1s_car_channels_and_positions_are_whole_numbers_that_fit(recorded_cache):
    """What the narrow types rely on, on every recorded session that has car or position
    data. The recordings have none of their own: this is the synthetic telemetry of 2021
    Italian FP2 (conftest.RECORDED_TELEMETRY) after FastF1's parser and Session.load."""
    import fastf1

    from support.recorded import RECORDED_SESSIONS

    fastf1.Cache.configure(cache_dir=str(recorded_cache))
    fastf1.Cache.offline_mode(True)
    checked = []
    for year, event, name in RECORDED_SESSIONS:
        session = fastf1.get_session(year, event, name)
        session.load()
        for table in TELEMETRY_TABLES:
            frame = fastf1_frame(session, table)
            if frame is None:
                continue
            for column in Base.metadata.tables[table].columns:
                if "source" not in column.info or column.info["kind"] != "integer":
                    continue
                values = frame[column.info["source"]].to_numpy(dtype="float64")
                assert np.array_equal(values, np.round(values), equal_nan=True), (
                    year, event, name, column.name)
                _, low, high = integer_range(column.type)
                assert np.nanmin(values) >= low and np.nanmax(values) <= high, column.name
            checked.append((year, event, name, table))
    assert {(year, table) for year, _, _, table in checked} == {
        (2021, "telemetry"), (2021, "positions")}


# --- the physical layout ------------------------------------------------------------------

def physical_layout(database) -> dict:
    """Per chunk table of the big tables: column names and types in order, key columns and
    name, the key index's fillfactor (PostgreSQL) / whether it is a WITHOUT ROWID table
    (SQLite), as the database reports them."""
    layout = {}
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        for chunks in PACKED_TABLES.values():
            table = chunks.name
            key = inspector.get_pk_constraint(table)
            if database.dialect == "postgresql":
                storage = connection.execute(text(
                    "SELECT reloptions FROM pg_class WHERE relname = :name"),
                    {"name": f"pk_{table}"}).scalar_one()
            else:
                storage = "WITHOUT ROWID" in connection.execute(text(
                    "SELECT sql FROM sqlite_master WHERE name = :name"),
                    {"name": table}).scalar_one()
            layout[table] = {
                "columns": [(c["name"], str(c["type"]).split("(")[0])
                            for c in inspector.get_columns(table)],
                "key": (key["name"], key["constrained_columns"]), "storage": storage}
    return layout


def test_migrations_and_models_build_the_same_layout(database_url, tmp_path):
    """Alembic's revisions against ``Base.metadata.create_all`` on a second database of the
    same kind; and the order is the models' own (compare_metadata ignores order)."""
    from support.scratch_postgres import scratch_postgres_database

    with open_database(resolve_database(database_url)) as migrated:
        upgrade(migrated)
        by_revisions = physical_layout(migrated)
    if database_url.startswith("sqlite"):
        other_url = "sqlite:///" + str(tmp_path / "create_all.db")
        with open_database(resolve_database(other_url)) as created:
            Base.metadata.create_all(created.engine, tables=stored_tables())
            by_models = physical_layout(created)
    else:
        with scratch_postgres_database() as other_url, \
                open_database(resolve_database(other_url)) as created:
            Base.metadata.create_all(created.engine, tables=stored_tables())
            by_models = physical_layout(created)
    assert by_revisions == by_models
    for chunks in PACKED_TABLES.values():
        layout = by_revisions[chunks.name]
        assert [name for name, _ in layout["columns"]] == [c.name for c in chunks.columns]
        assert layout["key"] == (f"pk_{chunks.name}", [
            "year", "round_number", "session_type", "driver_number", "first_sample"])
        assert layout["storage"] in (["fillfactor=100"], False)
