"""The read side: stored sessions read back as FastF1 sessions and frames, on SQLite and
PostgreSQL, compared with FastF1's own objects for the same sessions and cache.

Every recorded session is stored (``read_back_database``; two with synthetic telemetry over
the whole session, support/read_back.py) and read back with ``f1db.read``: each frame must
equal FastF1's (``assert_frame_equal``: values, dtypes, column order, index), FastF1's
methods must give the same answers on both, and reading must change nothing stored.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import f1db.read as read
from f1db.errors import ConfigError, NotStored, SchemaError, UsageError
from support.database import fastf1_offline_session, populate_offline, row_counts
from support.read_back import (FRAME_PARTS, TELEMETRY_PARTS, TELEMETRY_SESSIONS, VALUE_PARTS,
                               assert_event_equal, assert_part_equal, fastf1_part)
from support.recorded import RECORDED_SESSIONS

ITALY_FP2 = (2021, "Italian Grand Prix", "FP2")
BAKU_SPRINT = (2023, "Azerbaijan Grand Prix", "Sprint")
WITH_TELEMETRY = {(year, event, session) for year, event, session, *_ in TELEMETRY_SESSIONS}


@pytest.fixture(scope="module")
def fastf1_sessions(read_back_cache) -> dict:
    """FastF1's own sessions, loaded once from the same cache (the reference)."""
    return {recorded: fastf1_offline_session(read_back_cache, *recorded)
            for recorded in RECORDED_SESSIONS}


@pytest.fixture(scope="module")
def stored(read_back_database):
    with read.open_stored(read_back_database) as opened:
        yield opened


@pytest.mark.parametrize("recorded", RECORDED_SESSIONS, ids=lambda r: f"{r[0]}-{r[1]}-{r[2]}")
def test_every_part_equals_fastf1s(recorded, stored, fastf1_sessions):
    theirs = fastf1_sessions[recorded]
    ours = read.load_session(stored, *recorded)
    assert isinstance(ours, read.StoredSession) and ours.name == theirs.name
    assert_event_equal(ours.event, theirs.event)
    compared = 0
    for name in (*FRAME_PARTS, *TELEMETRY_PARTS, *VALUE_PARTS):
        expected = fastf1_part(theirs, name)
        if expected is None and name not in VALUE_PARTS:
            with pytest.raises(read.PartNotStored, match="populate_db.py"):
                getattr(ours, name)
            continue
        assert_part_equal(name, getattr(ours, name), expected)
        compared += 1
    assert compared >= 8
    assert (recorded in WITH_TELEMETRY) == ("car_data" not in ours.f1db_missing)


@pytest.mark.parametrize("recorded", sorted(WITH_TELEMETRY), ids=lambda r: r[2])
def test_fastf1s_methods_answer_the_same(recorded, stored, fastf1_sessions):
    """get_telemetry() of every driver's fastest lap, get_car_data/get_pos_data,
    pick_quicklaps, get_driver and the circuit, on the stored session and FastF1's."""
    theirs = fastf1_sessions[recorded]
    ours = read.load_session(stored, *recorded)
    assert_frame_equal(ours.laps.pick_quicklaps(), theirs.laps.pick_quicklaps())
    fastest = 0
    for driver in theirs.drivers:
        assert_frame_equal(pd.DataFrame(ours.get_driver(driver)).T,
                           pd.DataFrame(theirs.get_driver(driver)).T)
        lap_theirs = theirs.laps.pick_drivers(driver).pick_fastest()
        if lap_theirs is None:
            continue
        lap_ours = ours.laps.pick_drivers(driver).pick_fastest()
        assert_frame_equal(lap_ours.get_telemetry(), lap_theirs.get_telemetry())
        assert_frame_equal(lap_ours.get_car_data(), lap_theirs.get_car_data())
        assert_frame_equal(lap_ours.get_pos_data(pad=1), lap_theirs.get_pos_data(pad=1))
        fastest += 1
    assert fastest >= 15
    circuit_theirs = theirs.get_circuit_info() if recorded == ITALY_FP2 else None
    if circuit_theirs is not None:
        circuit_ours = ours.get_circuit_info()
        assert circuit_ours.rotation == circuit_theirs.rotation
        for markers in ("corners", "marshal_lights", "marshal_sectors"):
            assert_frame_equal(getattr(circuit_ours, markers), getattr(circuit_theirs, markers))


def test_reading_needs_no_fastf1_cache_and_changes_nothing(read_back_database, stored,
                                                           tmp_path):
    import fastf1

    before = row_counts(read_back_database)
    empty = tmp_path / "no-fastf1-cache"
    empty.mkdir()
    fastf1.Cache.configure(cache_dir=str(empty))
    fastf1.Cache.offline_mode(True)
    first = read.load_session(read_back_database, *ITALY_FP2)
    again = read.load_session(stored, 2021, "Monza", "Practice 2")
    assert_frame_equal(first.laps, again.laps)
    assert list(empty.iterdir()) == [] or all(p.stat().st_size < 100_000
                                               for p in empty.rglob("*") if p.is_file())
    assert row_counts(read_back_database) == before


def test_options_leave_parts_unread_like_fastf1s_load(stored, fastf1_sessions):
    ours = read.load_session(stored, *ITALY_FP2, telemetry=False, weather=False,
                             messages=False)
    assert_frame_equal(ours.laps, fastf1_sessions[ITALY_FP2].laps)
    for name, option in (("car_data", "telemetry"), ("weather_data", "weather"),
                         ("race_control_messages", "messages"), ("t0_date", "telemetry")):
        with pytest.raises(read.PartNotStored, match=f"{option}=True"):
            getattr(ours, name)


def test_a_session_not_stored_names_the_command_that_stores_it(stored):
    with pytest.raises(NotStored) as raised:
        read.load_session(stored, 2021, "Italian Grand Prix", "FP1")
    assert raised.value.command == ("python populate_db.py --year 2021 --event "
                                    "'Italian Grand Prix' --session 'Practice 1'")
    assert raised.value.command in str(raised.value) and "\n" not in str(raised.value)


def test_names_are_matched_as_populate_db_matches_them(stored):
    by_round = read.load_session(stored, 2021, 14, "Practice 2", telemetry=False)
    by_place = read.load_session(stored, 2021, "Monza", "fp2", telemetry=False)
    assert_frame_equal(by_round.results, by_place.results)
    with pytest.raises(UsageError, match="No event of 2021 matches 'Chinese'.*Italian"):
        read.load_session(stored, 2021, "Chinese", "R")
    with pytest.raises(UsageError, match="Unknown session 'FP9'"):
        read.load_session(stored, 2021, "Monza", "FP9")
    with pytest.raises(NotStored, match="No 1999 calendar is stored"):
        read.load_session(stored, 1999, "Monza", "R")


def test_a_session_stored_without_some_parts_reads_what_it_has(database_url, read_back_cache):
    year, event, session = ITALY_FP2
    populate_offline(database_url, read_back_cache, year, event, session,
                     tables=("results", "laps", "weather"))
    ours = read.load_session(database_url, *ITALY_FP2)
    # What the run asked FastF1 for: no telemetry (so no LapStartDate).
    theirs = fastf1_offline_session(read_back_cache, *ITALY_FP2, telemetry=False)
    assert_frame_equal(ours.laps, theirs.laps)
    assert_frame_equal(ours.weather_data, theirs.weather_data)
    assert set(ours.f1db_missing) >= {"car_data", "pos_data", "race_control_messages"}
    with pytest.raises(read.PartNotStored) as raised:
        ours.car_data
    assert "was not stored" in str(raised.value) and "--session 'Practice 2'" in str(
        raised.value)
    with pytest.raises(NotStored, match="not stored"):
        read.load_session(database_url, *ITALY_FP2, strict=True)


def test_frames_across_sessions_equal_fastf1s_frames_with_the_session_in_front(
        stored, fastf1_sessions):
    results = read.read_frame(stored, "results")
    assert list(results.columns[:4]) == ["Year", "RoundNumber", "EventName", "SessionName"]
    pieces = []
    for (year, event, session), theirs in fastf1_sessions.items():
        part = results[(results["Year"] == year) & (results["SessionName"] == theirs.name)
                       & (results["EventName"] == theirs.event["EventName"])]
        expected = pd.DataFrame(theirs.results).reset_index(drop=True)
        assert_frame_equal(part.iloc[:, 4:].reset_index(drop=True), expected)
        pieces.append(part)
    assert sum(len(piece) for piece in pieces) == len(results)

    laps = read.read_frame(stored, "laps", years=2021, events=["Monza"], sessions=["FP2"],
                           drivers=["VER", "44"])
    theirs = fastf1_sessions[ITALY_FP2].laps
    expected = theirs[theirs["Driver"].isin(["VER", "HAM"])].reset_index(drop=True)
    assert_frame_equal(laps.iloc[:, 4:], pd.DataFrame(expected))


@pytest.mark.parametrize("table, part", [("telemetry", "car_data"), ("positions", "pos_data")])
def test_packed_samples_across_sessions_equal_fastf1s_per_driver_frames(
        stored, fastf1_sessions, table, part):
    """read_frame unpacks the chunks itself: each driver's rows, in order, as FastF1's."""
    recorded = sorted(WITH_TELEMETRY)[0]
    theirs = getattr(fastf1_sessions[recorded], part)
    year, event, session = recorded
    for driver in sorted(theirs)[:3]:
        ours = read.read_frame(stored, table, years=year, events=[event], sessions=[session],
                               drivers=[driver])
        assert set(ours["SessionName"]) == {fastf1_sessions[recorded].name}
        assert_frame_equal(ours.iloc[:, 4:], pd.DataFrame(theirs[driver]), obj=driver)


def test_large_selections_stream_in_chunks_of_whole_sessions(stored):
    whole = read.read_frame(stored, "laps")
    chunks = list(read.iter_frames(stored, "laps", chunk_rows=1))
    assert len(chunks) == whole.groupby(["Year", "RoundNumber", "SessionName"]).ngroups
    assert all(chunk.groupby(["Year", "RoundNumber", "SessionName"]).ngroups == 1
               for chunk in chunks)
    assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_views_and_standings_read_across_sessions(stored):
    stints = read.read_frame(stored, "stints", years=2021)
    assert {"Year", "driver_number", "stint", "compound"} <= set(stints.columns)
    assert len(stints) and stints["laps"].dtype == "Int64"
    pit_stops = read.read_frame(stored, "pit_stops")
    assert pit_stops["pit_in_time_ms"].dtype == "timedelta64[ns]"
    standings = read.read_frame(stored, "driver_standings", years=2022)
    assert {"position", "points", "driverId", "constructorIds"} <= set(standings.columns)
    assert isinstance(standings["constructorIds"].iloc[0], list)
    with pytest.raises(UsageError, match="Unknown table 'lapz'"):
        read.read_frame(stored, "lapz")


def test_sliced_reads_equal_fastf1s_slices(stored, fastf1_sessions):
    theirs = fastf1_sessions[ITALY_FP2]
    assert_frame_equal(read.driver_laps(stored, *ITALY_FP2, "HAM"),
                       theirs.laps.pick_drivers("HAM").reset_index(drop=True))
    lap = theirs.laps.pick_drivers("33").pick_fastest()
    number = int(lap["LapNumber"])
    assert_frame_equal(read.lap_telemetry(stored, *ITALY_FP2, "VER", number),
                       lap.get_car_data())
    assert_frame_equal(read.lap_telemetry(stored, *ITALY_FP2, "33", number, stream="pos",
                                          pad=2, pad_side="both"),
                       lap.get_pos_data(pad=2, pad_side="both"))
    start, end = lap["LapStartTime"], lap["LapStartTime"] + pd.Timedelta(seconds=20)
    window = read.telemetry_window(stored, *ITALY_FP2, "33", start, end)
    car = theirs.car_data["33"]
    expected = car[(car["SessionTime"] >= start) & (car["SessionTime"] <= end)]
    assert_frame_equal(window, expected.reset_index(drop=True))
    with pytest.raises(NotStored, match="No driver XYZ"):
        read.driver_laps(stored, *ITALY_FP2, "XYZ")
    with pytest.raises(NotStored, match="no lap 999"):
        read.lap_telemetry(stored, *ITALY_FP2, "VER", 999)


# --- what a reader is told ------------------------------------------------------------------

def test_an_older_schema_or_no_schema_is_one_line(tmp_path, postgres_url):
    from alembic import command

    from f1db.config import resolve_database
    from f1db.db import open_database
    from f1db.schema import alembic_config

    with open_database(resolve_database(postgres_url)) as database:
        with pytest.raises(SchemaError, match="holds no stored sessions.*populate_db.py"):
            read.open_stored(postgres_url)
        command.upgrade(alembic_config(database), "0005")
    with pytest.raises(SchemaError) as raised:
        read.open_stored(postgres_url)
    assert "revision 0005" in str(raised.value) and "migrate_db.py" in str(raised.value)
    with pytest.raises(ConfigError, match="No SQLite database"):
        read.open_stored("sqlite:///" + str(tmp_path / "none.db"))


def test_a_wrong_password_or_no_server_is_one_line_without_the_password():
    with pytest.raises(ConfigError) as raised:
        read.open_stored("postgresql://postgres:s3cret-pw@127.0.0.1:1/f1")
    message = str(raised.value)
    assert "s3cret-pw" not in message and "\n" not in message and "Cannot connect" in message


def test_a_damaged_sqlite_file_is_one_line_not_a_traceback(read_back_database, tmp_path):
    """Pages damaged past the schema: the failure surfaces while rows are fetched, and is
    still the library's one-line error naming what was being read."""
    import shutil

    from f1db.errors import F1DBError

    if not read_back_database.startswith("sqlite"):
        pytest.skip("a damaged database file is SQLite's case")
    damaged = tmp_path / "damaged.db"
    shutil.copyfile(read_back_database.removeprefix("sqlite:///"), damaged)
    size = damaged.stat().st_size
    with open(damaged, "r+b") as file:
        for start in range(size // 2, size - 65536, size // 8):
            file.seek(start)
            file.write(b"\xff" * 65536)
    with pytest.raises(F1DBError) as raised:
        read.load_session("sqlite:///" + str(damaged), *ITALY_FP2)
    message = str(raised.value)
    assert "\n" not in message and "malformed" in message, message


def test_the_reader_cannot_write_through_its_connections(stored, read_back_database):
    """Every connection of a reader refuses writes: PostgreSQL's READ ONLY transactions,
    SQLite's query_only (a reader never writes, even with a role or file that could)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    before = row_counts(read_back_database)
    with stored.engine.connect() as connection:
        with pytest.raises(DBAPIError, match="read-only transaction|readonly database"):
            connection.execute(text("DELETE FROM results"))
    assert row_counts(read_back_database) == before
