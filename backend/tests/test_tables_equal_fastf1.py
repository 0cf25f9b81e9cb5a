"""End to end through FastF1's real parsing of recorded sessions, into SQLite and PostgreSQL.

Every stored table is compared with FastF1's own DataFrame of the same session (row count
and every value); a rerun must make no FastF1 load and add no row. The tables kept once per
event (the circuit, the standings) are compared by the session's event; the standings come
with a Race only, so other sessions never ask for them.
"""

from __future__ import annotations

import os
import time

import fastf1
import pytest

from f1db.models import TABLE_NAMES
from f1db.populator import DatabasePopulator
from support.database import (fastf1_offline_session as fastf1_session, ledger_row,
                              populate_offline as populate, row_counts, run_populator,
                              stored_sessions)
from support.fastf1_comparison import assert_table_matches, fastf1_frame, stored_rows

# (year, event, session identifier, FastF1 session name)
ITALY_FP2 = (2021, "Italian Grand Prix", "FP2", "Practice 2")
BAKU_SHOOTOUT = (2023, "Azerbaijan Grand Prix", "SS", "Sprint Shootout")
BAHRAIN_RACE = (2022, "Bahrain Grand Prix", "R", "Race")
MONZA_2020_RACE = (2020, "Italian Grand Prix", "R", "Race")     # recorded layout, no laps








# What FastF1 cannot give offline for each (recorded in ../shared/fastf1-recorded/README.md
# and conftest): no car data or positions but the synthetic ones of 2021 Italian FP2, no
# circuit layout but Monza's (2020 recorded, 2021 synthetic), standings for 2022 Bahrain only.
NO_TELEMETRY = {"telemetry", "positions"}
NO_LAYOUT = {"circuit_layouts", "circuit_markers"}
NO_STANDINGS = {"driver_standings", "constructor_standings"}
EVERY_TABLE_CASES = {
    "italy-fp2-telemetry": (ITALY_FP2, set()),
    "baku-sprint-shootout": (BAKU_SHOOTOUT, NO_TELEMETRY | NO_LAYOUT | {"weather"}),
    "bahrain-race-partial-standings": (BAHRAIN_RACE, NO_TELEMETRY | NO_LAYOUT | {"laps"}),
    "monza-2020-race-layout": (MONZA_2020_RACE, NO_TELEMETRY | NO_STANDINGS | {"laps"}),
}


@pytest.mark.parametrize("recorded, fastf1_lacks", EVERY_TABLE_CASES.values(),
                         ids=EVERY_TABLE_CASES.keys())
def test_every_table_matches_fastf1_and_a_rerun_changes_nothing(recorded, fastf1_lacks,
                                                                  recorded_cache,
                                                                  database_url, engine):
    year, event, identifier, name = recorded
    summary = populate(database_url, recorded_cache, year, event, identifier)
    assert (summary.sessions_loaded, summary.sessions_failed, summary.fastf1_loads) == (1, 0, 1)
    assert summary.exit_code == 0

    session = fastf1_session(recorded_cache, year, event, identifier)
    round_number = int(session.event.RoundNumber)
    ledger = ledger_row(engine, year, name)
    assert ledger["round_number"] == round_number
    missing = {item.table for item in summary.missing if item.status == "missing"}
    assert missing == fastf1_lacks
    for table in TABLE_NAMES:
        frame = fastf1_frame(session, table)
        if table in NO_STANDINGS and name != "Race":     # a race's standings only
            assert frame is None and table not in ledger["statuses"], table
            assert summary.rows_inserted[table] == 0, table
            assert stored_rows(engine, table, year, name, round_number) == [], table
        elif frame is None:
            assert table in fastf1_lacks, table
            assert ledger["statuses"][table] == "missing" and table in missing, table
            assert stored_rows(engine, table, year, name, round_number) == [], table
        else:
            assert table not in fastf1_lacks, table
            assert ledger["statuses"][table] in ("loaded", "partial"), table
            assert summary.rows_inserted[table] == len(frame), table
            assert_table_matches(engine, table, frame, year, name, round_number)
    assert ledger["event_name"] == event and ledger["fastf1_version"] == fastf1.__version__

    before = row_counts(engine)
    rerun = populate(database_url, recorded_cache, year, event, identifier)
    assert row_counts(engine) == before
    assert sum(rerun.rows_inserted.values()) == 0
    # Offline with an unchanged cache, even missing parts cannot appear: no load at all.
    assert rerun.fastf1_loads == 0 and rerun.sessions_skipped == 1


def test_telemetry_rows_come_from_every_driver(recorded_cache, recorded_telemetry, sqlite_url):
    year, event, identifier, name = ITALY_FP2
    summary = populate(sqlite_url, recorded_cache, year, event, identifier)
    per_driver = recorded_telemetry["samples_per_driver"]
    assert summary.rows_inserted["telemetry"] == 20 * per_driver
    assert summary.rows_inserted["positions"] == 20 * per_driver


def test_a_partial_session_records_what_is_missing_and_fills_it_later(recorded_cache,
                                                                      database_url, engine):
    """2022 Bahrain race: no laps in the recordings; with telemetry asked for, it stays missing."""
    year, event, identifier, name = BAHRAIN_RACE
    summary = populate(database_url, recorded_cache, year, event, identifier,
                       tables=("results", "laps", "weather"))
    assert {(m.table, m.status) for m in summary.missing} == {("laps", "missing")}
    ledger = ledger_row(engine, year, name)
    assert ledger["statuses"] == {"results": "loaded", "laps": "missing",
                                  "weather": "loaded"}    # telemetry: never asked for
    before = row_counts(engine)

    # Offline, the gap is not retried while the cache is unchanged ...
    rerun = populate(database_url, recorded_cache, year, event, identifier,
                     tables=("results", "laps", "weather"))
    assert rerun.fastf1_loads == 0 and "not in the offline" in rerun.sessions[0].reason

    # ... and once the cache changed, the next run retries only the gap: results and
    # weather are kept, not reloaded, and laps stay missing since the cache has none.
    http_cache = recorded_cache / "fastf1_http_cache.sqlite"
    try:
        later = time.time() + 2
        os.utime(http_cache, (later, later))
        retry = populate(database_url, recorded_cache, year, event, identifier,
                         tables=("results", "laps", "weather"))
    finally:   # the cache is shared by the session's tests: make it "old" again
        earlier = time.time() - 3600
        os.utime(http_cache, (earlier, earlier))
    assert retry.fastf1_loads == 1 and sum(retry.rows_inserted.values()) == 0
    assert [(m.table, m.status) for m in retry.missing] == [("laps", "missing")]
    assert row_counts(engine) == before


def test_tables_left_out_are_loaded_by_a_later_run(recorded_cache, database_url, engine):
    year, event, identifier, name = BAKU_SHOOTOUT
    first = populate(database_url, recorded_cache, year, event, identifier,
                     tables=("laps", "weather", "track_status"))
    assert first.rows_inserted["results"] == 0 and first.rows_inserted["laps"] > 0
    second = populate(database_url, recorded_cache, year, event, identifier)
    assert second.fastf1_loads == 1
    assert second.rows_inserted["results"] == 20 and second.rows_inserted["laps"] == 0
    session = fastf1_session(recorded_cache, year, event, identifier)
    assert_table_matches(engine, "results", fastf1_frame(session, "results"), year, name)


def test_force_replaces_rows_without_duplicating(recorded_cache, database_url, engine):
    year, event, identifier, name = BAKU_SHOOTOUT
    first = populate(database_url, recorded_cache, year, event, identifier, tables=("laps",))
    before = row_counts(engine)
    forced = populate(database_url, recorded_cache, year, event, identifier, tables=("laps",),
                      force=True)
    assert forced.fastf1_loads == 1
    assert forced.rows_replaced["laps"] == first.rows_inserted["laps"] == forced.rows_inserted["laps"]
    assert row_counts(engine) == before


def test_one_run_over_a_weekends_sessions_in_schedule_order(recorded_cache, sqlite_url):
    summary = run_populator(2023, database_url=sqlite_url, events=("Azerbaijan",),
                            offline=True, cache_dir=recorded_cache, tables=("results",))
    # Baku 2023: Practice 1, Qualifying, Sprint Shootout, Sprint, Race; the cache holds two.
    assert summary.sessions_planned == 5
    assert [(s.session_type, s.outcome) for s in summary.sessions] == [
        ("Practice 1", "failed"), ("Qualifying", "failed"), ("Sprint Shootout", "loaded"),
        ("Sprint", "loaded"), ("Race", "failed")]
    assert summary.sessions_failed == len(summary.failures) == 5 - summary.sessions_loaded
    assert summary.exit_code == 1 and summary.fastf1_loads == 5
    assert [row[2] for row in stored_sessions(sqlite_url)] == ["Sprint Shootout", "Sprint"]


def test_one_populator_run_twice_counts_each_runs_loads(recorded_cache, sqlite_url):
    populator = DatabasePopulator(2021, database_url=sqlite_url, events=("Italian",),
                                  sessions=("FP2",), offline=True, cache_dir=recorded_cache)
    try:
        assert populator.populate_database().fastf1_loads == 1
        second = populator.populate_database()
    finally:
        populator.close()
    assert second.fastf1_loads == 0 and second.sessions_skipped == 1
