"""Seasons before F1's live timing (FastF1's ``F1ApiSupport`` false, before 2018): what
exists for the era (the race's results and the standings after it; a qualifying's results
from 1994) is loaded; laps, telemetry, weather, messages and the rest are recorded as not available:
never requested from live timing, never counted as missing, never retried; read back,
the session has FastF1's results and says why the rest is not there.

The 1979 schedule is recorded; the round's results are synthetic, made in Jolpica's
format from recorded answers (support/synthetic_history.py). FastF1 runs online against
the replay transport, which lists every request the run made.
"""

from __future__ import annotations

import pytest
from pandas.testing import assert_frame_equal

import f1db.read as read
from f1db.models import TABLE_NAMES, fact_sources
from f1db.sources.fastf1_costs import estimated_requests
from support.database import ledger_row, row_counts, run_populator
from support.fastf1_comparison import assert_table_matches, fastf1_frame, stored_rows
from support.fastf1_replay import serving
from support.synthetic_history import RACE_EVENT, YEAR, history_responses
from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled

pytestmark = pytest.mark.slow
RACE_TABLES = ("results", "driver_standings", "constructor_standings")
LIVE_TIMING_HOSTS = ("livetiming.formula1.com", "api.multiviewer.app", "formula1.com")


@pytest.fixture
def responses(recordings) -> dict:
    return {**recordings, **history_responses(recordings)}


def run(database_url, cache, responses, **options):
    """One online run of the 1979 round 1 against the replay; (summary, URLs requested)."""
    with restoring_fastf1_cache(), unthrottled(), serving(responses) as replay:
        summary = run_populator(YEAR, database_url=database_url, events=(RACE_EVENT,),
                                cache_dir=cache, **options)
    return summary, list(replay.requested)


def race_rows(url: str, table: str) -> list:
    """The stored rows of ``table`` for the 1979 round 1 race."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        return stored_rows(engine, table, YEAR, "Race", 1)
    finally:
        engine.dispose()


def fastf1_reference(cache, session_type: str):
    """FastF1's own session from the run's cache, loaded as the loader loads a session
    before live timing (its results asked for in one 100-row page, no SessionInfo)."""
    import fastf1

    from f1db.sources.fastf1_compat import load_without_live_timing

    fastf1.Cache.configure(cache_dir=str(cache))
    fastf1.Cache.offline_mode(True)
    session = fastf1.get_session(YEAR, RACE_EVENT, session_type)
    load_without_live_timing(session, laps=False, telemetry=False, weather=False,
                             messages=False)
    return session


def test_a_season_before_live_timing_loads_what_exists_and_nothing_is_missing(
        responses, database_url, engine, tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("F1_USERNAME", raising=False)
    monkeypatch.delenv("F1_PASSWORD", raising=False)
    cache = tmp_path / "fastf1-cache"
    cache.mkdir()
    summary, requested = run(database_url, cache, responses)

    assert summary.exit_code == 0 and summary.sessions_failed == 0
    outcomes = {entry.session_type: entry for entry in summary.sessions}
    assert {t for t, entry in outcomes.items() if entry.outcome == "loaded"} == {"Race"}
    for other in ("Practice 1", "Practice 2", "Practice 3", "Qualifying"):
        assert outcomes[other].skip_reason == "not_available", outcomes[other]
    assert summary.missing == []
    live_only = [t for t in TABLE_NAMES if t not in RACE_TABLES]
    # practice has nothing (Jolpica has no practice results, nor qualifying results before
    # 1994), the race no live timing part
    assert summary.not_available == {**dict.fromkeys(live_only, 5), "results": 4}
    assert "not available before F1's live timing" in summary.render()
    assert "F1_USERNAME" not in caplog.text       # no live timing: no account needed
    assert not [url for url in requested if any(host in url for host in LIVE_TIMING_HOSTS)]
    # What was asked of Jolpica for the race is what the estimate says.
    loads = [url for url in requested if "/1979/1/" in url]
    assert len(loads) == estimated_requests(RACE_TABLES, live_timing=False)[0], loads

    for session_type, tables in (("Race", RACE_TABLES),):
        ledger = ledger_row(engine, YEAR, session_type)
        assert ledger["statuses"] == dict.fromkeys(tables, "loaded"), ledger
        fastf1_session = fastf1_reference(cache, session_type)
        for table in tables:
            frame = fastf1_frame(fastf1_session, table)
            assert frame is not None and len(frame) > 0, table
            assert_table_matches(engine, table, frame, YEAR, session_type, 1)
        for table in live_only:
            assert stored_rows(engine, table, YEAR, session_type, 1) == [], table

        read_back = read.load_session(database_url, YEAR, RACE_EVENT, session_type)
        assert_frame_equal(read_back.results, fastf1_session.results)
        with pytest.raises(read.PartNotStored, match="does not exist before F1's live timing"):
            read_back.laps

    before = row_counts(engine)
    rerun, requested_again = run(database_url, cache, responses)
    assert row_counts(engine) == before
    assert rerun.fastf1_loads == 0 and rerun.sessions_skipped == 5
    assert sum(rerun.rows_inserted.values()) == 0 and rerun.missing == []
    assert not [url for url in requested_again if "/1979/1/" in url]


def test_the_plan_of_a_season_before_live_timing_says_what_cannot_exist(
        responses, sqlite_url, tmp_path):
    cache = tmp_path / "fastf1-cache"
    cache.mkdir()
    with restoring_fastf1_cache(), unthrottled(), serving(responses) as replay:
        from f1db.populator import DatabasePopulator

        populator = DatabasePopulator(YEAR, database_url=sqlite_url, events=(RACE_EVENT,),
                                      cache_dir=cache)
        try:
            report = populator.plan_run()
        finally:
            populator.close()
    assert not [url for url in replay.requested if "/1979/1/" in url]
    states = {entry.ref.key.session_type: (entry.state, entry.next_step)
              for entry in report.sessions}
    assert states["Practice 1"][0] == "n/a" and states["Qualifying"][0] == "n/a"
    assert states["Race"] == ("new", "load " + ", ".join(RACE_TABLES))
    assert "not available before F1's live timing (2018)" in report.render()
    assert report.to_json()["not_available"]["laps"] == 5
    [season] = report.to_json()["seasons"]
    assert season.pop("seconds") < 60         # FastF1's 0.25 s spacing, no wait
    assert season == {"year": YEAR, "sessions": 5, "stored": 0, "nothing_for_the_era": 4,
                      "to_load": 1, "requests": 3, "jolpica": 3}
    assert ("season 1979: 0 of 5 sessions stored, 4 with nothing before live timing; "
            "1 to load, at most 3 requests (3 to Jolpica)") in report.render()
    jolpica_only = estimated_requests(RACE_TABLES, live_timing=False)[0]
    assert f"at most {jolpica_only} network requests ({jolpica_only} to Jolpica" in \
        report.estimate


def test_only_results_and_standings_exist_before_live_timing():
    sources = fact_sources()
    exists = {table for table in TABLE_NAMES
              if sources[table].exists("Race", live_timing=False)}
    assert exists == set(RACE_TABLES)
    assert not sources["results"].exists("Practice 1", live_timing=False)
    # what Jolpica has only from some season on
    assert sources["results"].exists("Qualifying", False, 1994)
    assert not sources["results"].exists("Qualifying", False, 1993)
    assert sources["results"].exists("Race", False, 1950)
    assert sources["constructor_standings"].exists("Race", False, 1958)
    assert not sources["constructor_standings"].exists("Race", False, 1957)
    assert sources["driver_standings"].exists("Race", False, 1950)
    assert all(sources[table].exists("Practice 1", live_timing=True) for table in TABLE_NAMES)


def test_standings_longer_than_a_page_are_stored_whole(recordings, sqlite_url, tmp_path):
    """A 1950s championship lists more drivers than Jolpica's 30-row page: every page is
    read (35 drivers here, made up beyond the recorded 20: support/synthetic_history.py)."""
    import json

    responses = {**recordings, **history_responses(recordings, drivers=35)}
    cache = tmp_path / "fastf1-cache"
    cache.mkdir()
    summary, requested = run(sqlite_url, cache, responses, sessions=("R",),
                             tables=("driver_standings",))
    assert summary.exit_code == 0 and summary.missing == []
    pages = [url for url in requested if "/1979/1/driverStandings" in url]
    assert len(pages) == 2, pages
    whole_result = "https://api.jolpi.ca/ergast/f1/1979/1/results.json?limit=100"
    race = json.loads(responses[whole_result][2])
    expected = {row["Driver"]["driverId"]
                for row in race["MRData"]["RaceTable"]["Races"][0]["Results"]}
    stored = race_rows(sqlite_url, "driver_standings")
    assert len(expected) == 35
    assert sorted(row["driver_id"] for row in stored) == sorted(expected)
    assert sorted(row["position"] for row in stored) == list(range(1, 36))


def test_a_race_with_more_entries_than_a_page_is_stored_whole(recordings, sqlite_url,
                                                              tmp_path):
    """FastF1 reads one page of Jolpica's results, 30 rows unless asked for more; a race of
    the era listed up to about 40 entries: they are asked for in one 100-row page."""
    responses = {**recordings, **history_responses(recordings, drivers=35)}
    cache = tmp_path / "fastf1-cache"
    cache.mkdir()
    summary, requested = run(sqlite_url, cache, responses, sessions=("R",),
                             tables=("results",))
    assert summary.exit_code == 0 and summary.rows_inserted["results"] == 35
    assert [url for url in requested if "/1979/1/results" in url] == [
        "https://api.jolpi.ca/ergast/f1/1979/1/results.json?limit=100"]
    assert len(race_rows(sqlite_url, "results")) == 35


def test_a_seasons_plan_line_says_what_it_costs_at_the_budgets_pace():
    from f1db.plan_report import PlannedSeason

    season = PlannedSeason(1995, sessions=85, stored=10, nothing_for_the_era=51, to_load=24,
                           requests=72, jolpica=72, seconds=7.4 * 3600)
    assert season.render(offline=False) == (
        "season 1995: 10 of 85 sessions stored, 51 with nothing before live timing; "
        "24 to load, at most 72 requests (72 to Jolpica), about 7 h 24 min under the "
        "rate limits")
    assert season.render(offline=True).endswith("24 sessions to load from the FastF1 cache")
