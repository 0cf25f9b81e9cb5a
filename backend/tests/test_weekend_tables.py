"""The weekend tables (revision 0005) through whole runs, on SQLite and PostgreSQL, FastF1
offline: FastF1's schedule (``events``, ``event_sessions``), ``session_info``, the circuit
(``circuit_layouts``, ``circuit_markers``) and the championship standings
(``driver_standings``, ``constructor_standings``), each compared with FastF1's own objects
value for value (fastf1_comparison.py, independent of f1db's readers and transform).

Caches: ``recorded_cache`` (conftest: the recordings, Monza's recorded 2020 layout, the
synthetic 2021 Monza layout and synthetic 2022 Bahrain standings), or a private copy of it
whose answers a test changes through FastF1's own requests (``serve_into_cache``): the
Jolpica standings answering empty (Jolpica before it publishes a round), or a layout for
the 2023 Azerbaijan Grand Prix, which has two recorded sessions but no recorded layout
(SYNTHETIC: Monza's recorded 2020 layout served at Baku's URL, only so that two sessions of
one event have a layout; its values are Monza's).
"""

from __future__ import annotations

import shutil

import fastf1
import fastf1.mvapi
import pytest

from f1db.models import TABLE_NAMES
from f1db.populator import DatabasePopulator
from support.database import ALL_TABLES, SCHEDULE_TABLES, ledger_row, row_counts, run_populator
from support.fastf1_comparison import (assert_rows_match, assert_table_matches, fastf1_frame,
                                       schedule_frames, stored_rows, stored_schedule_rows)
from support.fastf1_replay import recordings_available, replaying, serving
from support.synthetic_circuits import circuit_url
from support.synthetic_jolpica import empty_standings_responses, standings_responses
from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled

pytestmark = pytest.mark.skipif(
    not recordings_available(),
    reason="../shared/fastf1-recorded is absent: recorded FastF1 sessions cannot be loaded")

# (year, event, session identifier, FastF1 session name, round)
ITALY_FP2 = (2021, "Italian Grand Prix", "FP2", "Practice 2", 14)
MONZA_2020_RACE = (2020, "Italian Grand Prix", "R", "Race", 8)
BAHRAIN_RACE = (2022, "Bahrain Grand Prix", "R", "Race", 1)
BAKU_SHOOTOUT = (2023, "Azerbaijan Grand Prix", "SS", "Sprint Shootout", 4)
BAKU_SPRINT = (2023, "Azerbaijan Grand Prix", "S", "Sprint", 4)
BAKU_CIRCUIT_KEY = 144
MONZA_CIRCUIT_KEY = 39

STANDINGS = ("driver_standings", "constructor_standings")
CIRCUIT = ("circuit_layouts", "circuit_markers")
# What FastF1 gives of the 2022 Bahrain race offline (no laps, car data or layout recorded).
BAHRAIN_AVAILABLE = ("results", "weather", "session_status", "track_status",
                     "race_control_messages", "session_info")
EVERY_COUNT = (*ALL_TABLES, *SCHEDULE_TABLES)


def populate(database_url, cache_dir, recorded, **options):
    year, event, identifier = recorded[:3]
    return run_populator(year, database_url=database_url, events=(event,),
                         sessions=(identifier,), offline=True, cache_dir=cache_dir, **options)


def fastf1_session(cache_dir, recorded, **load_options):
    """FastF1's session, loaded offline from ``cache_dir`` (as the run loads it)."""
    fastf1.Cache.configure(cache_dir=str(cache_dir))
    fastf1.Cache.offline_mode(True)
    session = fastf1.get_session(*recorded[:3])
    session.load(**load_options)
    return session


def fastf1_schedule(cache_dir, year, *, include_testing):
    fastf1.Cache.configure(cache_dir=str(cache_dir))
    fastf1.Cache.offline_mode(True)
    return fastf1.get_event_schedule(year, include_testing=include_testing)




@pytest.fixture
def cache_copy(recorded_cache, tmp_path):
    """A private copy of the recorded cache, for a test that changes its answers."""
    copy = tmp_path / "fastf1-cache"
    shutil.copytree(recorded_cache, copy)
    return copy


def serve_into_cache(cache_dir, responses, *requests):
    """Replace what FastF1's cache at ``cache_dir`` holds for the URLs of ``responses``:
    drop those answers, then let FastF1 make ``requests`` (callables) online against a
    replay of ``responses``, so they land in the cache as a download would leave them."""
    from fastf1.req import Cache

    with restoring_fastf1_cache(), unthrottled():
        fastf1.Cache.configure(cache_dir=str(cache_dir))
        Cache._requests_session_cached.cache.delete(urls=list(responses))
        with replaying(responses):
            for request in requests:
                request()


def ask_for_standings(year, round_number):
    from fastf1.ergast import Ergast

    def ask():
        Ergast().get_driver_standings(season=year, round=round_number)
        Ergast().get_constructor_standings(season=year, round=round_number)
    return ask


def ask_for_layout(year, circuit_key):
    def ask():
        fastf1.mvapi.get_circuit_info(year=year, circuit_key=circuit_key)
    return ask


def baku_layout(recordings) -> dict:
    """SYNTHETIC: Monza's recorded 2020 layout answering Baku's 2023 layout request."""
    return {circuit_url(BAKU_CIRCUIT_KEY, 2023): recordings[circuit_url(MONZA_CIRCUIT_KEY, 2020)]}


# --- events and event_sessions ------------------------------------------------------------

def assert_schedule_stored(engine, cache_dir, year, *, testing):
    """The season's events and event_sessions rows == FastF1's schedule (read with or
    without testing), every event and session of it, value for value."""
    frames = schedule_frames(fastf1_schedule(cache_dir, year, include_testing=testing), year)
    for table in SCHEDULE_TABLES:
        assert_rows_match(table, stored_schedule_rows(engine, table, year, testing=testing),
                          frames[table])
    return frames


@pytest.mark.parametrize("recorded", [ITALY_FP2, BAKU_SHOOTOUT, MONZA_2020_RACE],
                         ids=["2021", "2023-sprint-weekends", "2020"])
def test_events_equal_fastf1s_schedule_and_a_rerun_writes_nothing(recorded, recorded_cache,
                                                                   database_url, engine):
    year = recorded[0]
    summary = populate(database_url, recorded_cache, recorded, tables=("results",))
    assert summary.sessions_loaded == 1 and summary.exit_code == 0
    frames = assert_schedule_stored(engine, recorded_cache, year, testing=False)
    # Every event of the season, not only the one loaded; no testing event without
    # include_testing.
    assert len(frames["events"]) > 10 and (frames["events"]["round_number"] > 0).all()
    assert [(s.year, s.events, s.sessions, s.refreshed) for s in summary.schedules] == [
        (year, len(frames["events"]), len(frames["event_sessions"]), True)]
    assert row_counts(engine, SCHEDULE_TABLES) == {
        "events": len(frames["events"]), "event_sessions": len(frames["event_sessions"])}

    before = row_counts(engine, EVERY_COUNT)
    rerun = populate(database_url, recorded_cache, recorded, tables=("results",))
    assert [(s.year, s.refreshed) for s in rerun.schedules] == [(year, False)]
    assert rerun.fastf1_loads == 0 and rerun.sessions_skipped == 1
    assert row_counts(engine, EVERY_COUNT) == before


def test_testing_events_only_with_include_testing_and_kept_by_a_run_without(
        recorded_cache, database_url, engine):
    without = populate(database_url, recorded_cache, ITALY_FP2, tables=("results",))
    assert without.schedules[0].refreshed
    stored = stored_schedule_rows(engine, "events", 2021)
    assert stored and all(row["round_number"] > 0 for row in stored)   # no testing round

    with_testing = populate(database_url, recorded_cache, ITALY_FP2, tables=("results",),
                            include_testing=True)
    assert [(s.refreshed, s.events) for s in with_testing.schedules] == [
        (True, len(fastf1_schedule(recorded_cache, 2021, include_testing=True)))]
    frames = assert_schedule_stored(engine, recorded_cache, 2021, testing=True)
    testing = frames["events"][frames["events"]["EventFormat"] == "testing"]
    assert list(testing["round_number"]) == [-n for n in range(1, len(testing) + 1)]
    assert len(testing) >= 1 and stored_schedule_rows(engine, "event_sessions", 2021) != []

    # A later run without include_testing neither deletes nor rewrites the testing rows.
    before = row_counts(engine, EVERY_COUNT)
    later = populate(database_url, recorded_cache, ITALY_FP2, tables=("results",))
    assert [s.refreshed for s in later.schedules] == [False]
    assert row_counts(engine, EVERY_COUNT) == before
    assert_schedule_stored(engine, recorded_cache, 2021, testing=True)


# --- session_info ---------------------------------------------------------------------------

def test_session_info_equals_fastf1s_for_every_recorded_session(recorded_cache, database_url,
                                                                 engine):
    from support.recorded import RECORDED_SESSIONS

    for year, event, identifier in RECORDED_SESSIONS:
        recorded = (year, event, identifier)
        summary = populate(database_url, recorded_cache, recorded, tables=("session_info",))
        assert summary.sessions_loaded == 1, (recorded, summary.sessions)
        assert summary.rows_inserted["session_info"] == 1, recorded
        # As the run loads it: laps and messages, no telemetry (so no t0_date).
        session = fastf1_session(recorded_cache, recorded, telemetry=False, weather=False)
        frame = fastf1_frame(session, "session_info")
        assert frame is not None and frame.loc[0, "T0Date"] is None, recorded
        assert_table_matches(engine, "session_info", frame, year, session.name)


def test_session_info_is_rewritten_with_the_t0_date_once_telemetry_is_loaded(
        recorded_cache, database_url, engine):
    """``t0_date`` needs telemetry: session_info rides along with the later load of it."""
    year, _, _, name, _ = ITALY_FP2
    first = populate(database_url, recorded_cache, ITALY_FP2, tables=("results", "session_info"))
    assert first.rows_inserted["session_info"] == 1
    assert stored_rows(engine, "session_info", year, name)[0]["t0_date_utc"] is None

    later = populate(database_url, recorded_cache, ITALY_FP2,
                     tables=("results", "session_info", "telemetry"))
    assert later.fastf1_loads == 1 and later.rows_inserted["results"] == 0
    assert later.rows_replaced["session_info"] == later.rows_inserted["session_info"] == 1
    session = fastf1_session(recorded_cache, ITALY_FP2)
    frame = fastf1_frame(session, "session_info")
    assert frame.loc[0, "T0Date"] is not None
    assert_table_matches(engine, "session_info", frame, year, name)
    assert ledger_row(engine, year, name)["statuses"]["session_info"] == "loaded"


# --- the circuit ----------------------------------------------------------------------------

def test_the_2020_monza_layout_equals_fastf1s(recorded_cache, database_url, engine):
    """No laps in the recordings: FastF1's get_circuit_info raises (DataNotLoadedError);
    the layout is FastF1's parse of the recorded MultiViewer answer, distances NaN."""
    year, _, _, name, round_number = MONZA_2020_RACE
    summary = populate(database_url, recorded_cache, MONZA_2020_RACE)
    session = fastf1_session(recorded_cache, MONZA_2020_RACE)
    with pytest.raises(fastf1.exceptions.DataNotLoadedError):
        session.get_circuit_info()
    layout = fastf1.mvapi.get_circuit_info(year=year, circuit_key=MONZA_CIRCUIT_KEY)
    markers = len(layout.corners) + len(layout.marshal_lights) + len(layout.marshal_sectors)
    assert summary.rows_inserted["circuit_layouts"] == 1
    assert summary.rows_inserted["circuit_markers"] == markers > 0
    for table in CIRCUIT:
        assert_table_matches(engine, table, fastf1_frame(session, table), year, name,
                             round_number)
    [stored] = stored_rows(engine, "circuit_layouts", year, name, round_number)
    assert (stored["circuit_key"], stored["rotation"], stored["distances_from"]) == (
        MONZA_CIRCUIT_KEY, layout.rotation, None)
    corners = [row for row in stored_rows(engine, "circuit_markers", year, name, round_number)
               if row["marker_type"] == "corner"]
    assert sorted((row["sequence"], row["number"], row["x"], row["y"]) for row in corners) == [
        (index, int(corner.Number), corner.X, corner.Y)
        for index, corner in enumerate(layout.corners.itertuples())]
    assert {row["distance"] for row in corners} == {None}
    statuses = ledger_row(engine, year, name)["statuses"]
    assert (statuses["circuit_layouts"], statuses["circuit_markers"]) == ("loaded", "loaded")


def test_a_layout_without_distances_never_replaces_one_with_them(recorded_cache, database_url,
                                                                  engine):
    """The 2020 Monza race has no laps, so its layout comes without marker distances. Once
    the event holds a measured layout (made here by hand: no recorded session has the laps
    and positions to measure one), reloading the race keeps it instead of trading the
    distances for NULLs; the part still counts as loaded."""
    from sqlalchemy import text

    year, _, _, name, round_number = MONZA_2020_RACE
    populate(database_url, recorded_cache, MONZA_2020_RACE)
    with engine.begin() as connection:
        connection.execute(text("UPDATE circuit_layouts SET distances_from = 'Qualifying' "
                                "WHERE year = :y AND round_number = :r"),
                           {"y": year, "r": round_number})
        connection.execute(text("UPDATE circuit_markers SET distance = sequence * 10.0 "
                                "WHERE year = :y AND round_number = :r"),
                           {"y": year, "r": round_number})
    measured = {table: stored_rows(engine, table, year, name, round_number)
                for table in CIRCUIT}
    reload = populate(database_url, recorded_cache, MONZA_2020_RACE, force=True)
    assert reload.sessions_loaded == 1 and reload.fastf1_loads == 1
    assert all(reload.rows_inserted[table] == 0 for table in CIRCUIT)
    for table in CIRCUIT:
        assert stored_rows(engine, table, year, name, round_number) == measured[table], table
    statuses = ledger_row(engine, year, name)["statuses"]
    assert [statuses[table] for table in CIRCUIT] == ["loaded", "loaded"]


def test_a_layout_not_in_the_cache_is_missing_retried_and_stored_once_per_event(
        cache_copy, recordings, database_url, engine):
    """2023 Baku: no layout recorded. Missing, not retried while the cache is unchanged,
    retried once the cache has it (SYNTHETIC layout, see the module docstring); the
    event's second session rewrites the event's rows instead of adding its own."""
    year, _, _, shootout, round_number = BAKU_SHOOTOUT
    first = populate(database_url, cache_copy, BAKU_SHOOTOUT)
    missing = {(m.table, m.status, m.reason) for m in first.missing if m.table in CIRCUIT}
    assert {(table, status) for table, status, _ in missing} == {
        ("circuit_layouts", "missing"), ("circuit_markers", "missing")}
    assert all("circuit layout" in reason for _, _, reason in missing), missing
    assert row_counts(engine, CIRCUIT) == dict.fromkeys(CIRCUIT, 0)

    unchanged = populate(database_url, cache_copy, BAKU_SHOOTOUT)
    assert unchanged.fastf1_loads == 0 and "not in the offline" in unchanged.sessions[0].reason

    serve_into_cache(cache_copy, baku_layout(recordings), ask_for_layout(year, BAKU_CIRCUIT_KEY))
    retry = populate(database_url, cache_copy, BAKU_SHOOTOUT)
    assert retry.fastf1_loads == 1 and retry.sessions_loaded == 1
    assert retry.rows_inserted["results"] == 0 and retry.rows_inserted["laps"] == 0
    assert retry.rows_inserted["circuit_layouts"] == 1 and retry.rows_inserted["session_info"] == 1
    assert {m.table for m in retry.missing} == {"telemetry", "positions", "weather"}
    # Laps but no car data: FastF1 cannot measure the distances (get_circuit_info raises
    # a KeyError for the fastest lap's driver), so the layout has none.
    session = fastf1_session(cache_copy, BAKU_SHOOTOUT)
    for table in CIRCUIT:
        assert_table_matches(engine, table, fastf1_frame(session, table), year, shootout,
                             round_number)
    counts = row_counts(engine, CIRCUIT)
    assert counts["circuit_layouts"] == 1 and counts["circuit_markers"] > 0

    # The weekend's Sprint: the same event's rows, rewritten once, not duplicated.
    sprint = populate(database_url, cache_copy, BAKU_SPRINT)
    assert sprint.sessions_loaded == 1
    assert sprint.rows_replaced["circuit_markers"] == counts["circuit_markers"]
    assert row_counts(engine, CIRCUIT) == counts
    session = fastf1_session(cache_copy, BAKU_SPRINT)
    for table in CIRCUIT:
        assert_table_matches(engine, table, fastf1_frame(session, table), year, "Sprint",
                             round_number)
    for name in (shootout, "Sprint"):
        statuses = ledger_row(engine, year, name)["statuses"]
        assert [statuses[table] for table in CIRCUIT] == ["loaded", "loaded"], name


# --- the standings --------------------------------------------------------------------------

def test_bahrain_standings_equal_fastf1s_ergast_frames_without_a_session_load(
        recorded_cache, database_url, engine):
    year, _, _, name, round_number = BAHRAIN_RACE
    summary = populate(database_url, recorded_cache, BAHRAIN_RACE, tables=STANDINGS)
    assert summary.sessions_loaded == 1 and summary.fastf1_loads == 0 and not summary.missing
    assert {t: n for t, n in summary.rows_inserted.items() if n} == {
        "driver_standings": 20, "constructor_standings": 10}
    session = fastf1.get_session(year, "Bahrain Grand Prix", "R")    # the Ergast frames only
    for table in STANDINGS:
        frame = fastf1_frame(session, table)
        assert frame is not None and len(frame) == summary.rows_inserted[table]
        assert_table_matches(engine, table, frame, year, name, round_number)
    assert ledger_row(engine, year, name)["statuses"] == dict.fromkeys(STANDINGS, "loaded")


def test_standings_jolpica_has_not_published_are_missing_then_loaded_without_a_session_load(
        cache_copy, recordings, database_url, engine):
    year, _, _, name, round_number = BAHRAIN_RACE
    ask = ask_for_standings(year, round_number)
    serve_into_cache(cache_copy, empty_standings_responses(year, round_number), ask)
    tables = BAHRAIN_AVAILABLE + STANDINGS
    first = populate(database_url, cache_copy, BAHRAIN_RACE, tables=tables)
    assert first.sessions_loaded == 1 and first.fastf1_loads == 1
    assert {(m.table, m.status) for m in first.missing} == {
        (table, "missing") for table in STANDINGS}
    assert all(f"has not published the {kind} standings after round 1" in m.reason
               for m, kind in zip(first.missing, ("driver", "constructor"))), first.missing
    assert row_counts(engine, STANDINGS) == dict.fromkeys(STANDINGS, 0)
    assert ledger_row(engine, year, name)["statuses"] == {
        **dict.fromkeys(BAHRAIN_AVAILABLE, "loaded"), **dict.fromkeys(STANDINGS, "missing")}

    unchanged = populate(database_url, cache_copy, BAHRAIN_RACE, tables=tables)
    assert unchanged.fastf1_loads == 0 and unchanged.sessions_skipped == 1

    # Jolpica publishes: the cache changes, and the next run loads the standings alone.
    serve_into_cache(cache_copy, standings_responses(recordings, year, round_number), ask)
    before = row_counts(engine)
    later = populate(database_url, cache_copy, BAHRAIN_RACE, tables=tables)
    assert later.sessions_loaded == 1 and later.fastf1_loads == 0 and not later.missing
    assert {t: n for t, n in later.rows_inserted.items() if n} == {
        "driver_standings": 20, "constructor_standings": 10}
    assert sum(later.rows_replaced.values()) == 0
    assert row_counts(engine) == {**before, "driver_standings": 20, "constructor_standings": 10}
    session = fastf1.get_session(year, "Bahrain Grand Prix", "R")
    for table in STANDINGS:
        assert_table_matches(engine, table, fastf1_frame(session, table), year, name,
                             round_number)
    assert ledger_row(engine, year, name)["statuses"] == dict.fromkeys(tables, "loaded")


def test_standings_are_never_asked_for_with_a_session_that_is_not_a_race(
        recorded_cache, database_url, engine):
    year, _, _, name, round_number = BAKU_SHOOTOUT
    summary = populate(database_url, recorded_cache, BAKU_SHOOTOUT)
    assert summary.sessions_loaded == 1
    statuses = ledger_row(engine, year, name)["statuses"]
    assert set(statuses) == set(TABLE_NAMES) - set(STANDINGS)
    assert all(summary.rows_inserted[table] == 0 for table in STANDINGS)
    assert row_counts(engine, STANDINGS) == dict.fromkeys(STANDINGS, 0)
    assert not any(m.table in STANDINGS for m in summary.missing)


def test_a_run_asking_only_for_standings_skips_a_session_that_is_not_a_race(
        recorded_cache, database_url, engine):
    """None of the chosen tables is kept for a practice: skipped before FastF1, not failed."""
    summary = populate(database_url, recorded_cache, ITALY_FP2, tables=STANDINGS)
    assert summary.exit_code == 0 and summary.sessions_failed == 0
    assert summary.sessions_skipped == 1 and summary.fastf1_loads == 0
    assert "standings come with the race" in summary.sessions[0].reason
    assert row_counts(engine) == dict.fromkeys(ALL_TABLES, 0)


# --- --tables and --plan --------------------------------------------------------------------

def test_tables_can_leave_the_standings_out_and_a_later_run_adds_only_them(
        recorded_cache, database_url, engine):
    year, _, _, name, round_number = BAHRAIN_RACE
    first = populate(database_url, recorded_cache, BAHRAIN_RACE, tables=BAHRAIN_AVAILABLE)
    assert first.fastf1_loads == 1 and not first.missing
    assert ledger_row(engine, year, name)["statuses"] == dict.fromkeys(BAHRAIN_AVAILABLE,
                                                                       "loaded")
    assert row_counts(engine, STANDINGS) == dict.fromkeys(STANDINGS, 0)

    later = populate(database_url, recorded_cache, BAHRAIN_RACE,
                     tables=BAHRAIN_AVAILABLE + STANDINGS)
    assert later.fastf1_loads == 0 and later.sessions_loaded == 1
    assert {t: n for t, n in later.rows_inserted.items() if n} == {
        "driver_standings": 20, "constructor_standings": 10}
    session = fastf1.get_session(year, "Bahrain Grand Prix", "R")
    for table in STANDINGS:
        assert_table_matches(engine, table, fastf1_frame(session, table), year, name,
                             round_number)


def plan(database_url, cache_dir, recorded, **options):
    year, event, identifier = recorded[:3]
    populator = DatabasePopulator(year, database_url=database_url, events=(event,),
                                  sessions=(identifier,), offline=True, cache_dir=cache_dir,
                                  **options)
    try:
        return populator.plan_run()
    finally:
        populator.close()


def test_plan_lists_the_new_tables_and_the_events(recorded_cache, database_url, engine):
    events = len(fastf1_schedule(recorded_cache, 2022, include_testing=False))
    sessions = len(schedule_frames(fastf1_schedule(recorded_cache, 2022, include_testing=False),
                                   2022)["event_sessions"])
    new = plan(database_url, recorded_cache, BAHRAIN_RACE)
    [race] = new.sessions
    assert race.state == "new" and race.next_step == "load " + ", ".join(TABLE_NAMES)
    assert (f"events 2022: {events} in FastF1's schedule ({sessions} sessions), 0 stored "
            f"in events") in new.render()
    assert ("views stints, pit_stops, race_features: computed from the stored tables, "
            "nothing to load" in new.render())

    practice = plan(database_url, recorded_cache, ITALY_FP2)
    assert practice.sessions[0].next_step == "load " + ", ".join(
        table for table in TABLE_NAMES if table not in STANDINGS)

    populate(database_url, recorded_cache, BAHRAIN_RACE, tables=BAHRAIN_AVAILABLE)
    before = row_counts(engine, EVERY_COUNT)
    later = plan(database_url, recorded_cache, BAHRAIN_RACE,
                 tables=BAHRAIN_AVAILABLE + STANDINGS)
    assert later.sessions[0].next_step == "load driver_standings, constructor_standings"
    assert f"events 2022: {events} in FastF1's schedule ({sessions} sessions), {events} " \
           f"stored in events" in later.render()
    assert row_counts(engine, EVERY_COUNT) == before            # --plan writes nothing


def test_standings_requests_go_through_the_shared_request_budget(recordings, sqlite_url,
                                                                 tmp_path):
    """Online (the replay standing in for the network, an empty FastF1 cache): the two
    Jolpica requests of the standings pass the request meter, are charged to the
    machine-wide budget as Jolpica requests, and need no Session.load."""
    from f1db.sources.budget import RequestBudget
    from f1db.sources.fastf1_source import BUDGET_FILE
    from support.synthetic_jolpica import constructor_standings_url, driver_standings_url

    year, event, identifier, name, round_number = BAHRAIN_RACE
    responses = {**recordings, **standings_responses(recordings, year, round_number)}
    cache = tmp_path / "fastf1-cache"
    cache.mkdir()
    with restoring_fastf1_cache(), unthrottled(), serving(responses) as replay:
        summary = run_populator(year, database_url=sqlite_url, events=(event,),
                                sessions=(identifier,), tables=STANDINGS, cache_dir=cache,
                                retries=0)
    standings = [url for url in replay.requested if "Standings" in url]
    assert sorted(standings) == sorted([driver_standings_url(year, round_number),
                                        constructor_standings_url(year, round_number)])
    assert summary.fastf1_loads == 0 and summary.sessions_loaded == 1
    assert summary.requests == len(replay.requested)        # every one passed the meter
    usage = RequestBudget(cache / BUDGET_FILE).usage()
    jolpica = [url for url in replay.requested if "api.jolpi.ca" in url]
    assert usage["any"].used == len(replay.requested)
    assert usage["jolpica"].used == len(jolpica) >= 2
    assert summary.rows_inserted["driver_standings"] > 0
