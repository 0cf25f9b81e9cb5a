"""The race features (revision 0006's ``race_features`` view and ``f1db.read.features``) on
SQLite and PostgreSQL.

Values worked out by hand from recorded sessions (2022 Bahrain Race, the 2023 Baku Sprint
with its Sprint Shootout, 2021 Italian FP2's long runs) and from hand-made rows that cover
what the recordings lack (standings before a round, the Sprint Qualifying of 2024, weather
samples around the start); the view and the function agree; both databases give the same
frame; loading twice changes nothing; and the no-leak test: changing everything that is
known only after a race's start moves none of its features, only its targets.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from sqlalchemy import text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.models import Base
from f1db.read.features import (COLUMNS, FEATURE_COLUMNS, KEY_COLUMNS, PANDAS_COLUMNS,
                                TARGET_COLUMNS, WHEN_KNOWN, race_features_frame)
from f1db.schema import require_current_schema
from support.database import run_populator
from support.entry_scripts import REPO

NaN = float("nan")
# (year, event, FastF1 session identifiers) stored by ``store_recorded``.
RECORDED = [(2020, "Italian Grand Prix", ("R",)), (2022, "Bahrain Grand Prix", ("R",)),
            (2021, "Italian Grand Prix", ("FP2",)),
            (2023, "Azerbaijan Grand Prix", ("SS", "Sprint"))]


def store_recorded(database_url, cache_dir, recorded=RECORDED, **options) -> None:
    for year, event, sessions in recorded:
        summary = run_populator(year, database_url=database_url, events=(event,),
                                sessions=sessions, offline=True, cache_dir=cache_dir, **options)
        assert summary.exit_code == 0, (year, event)


def insert(engine, rows: dict[str, list[dict]]) -> None:
    with engine.begin() as connection:
        for table, table_rows in rows.items():
            connection.execute(Base.metadata.tables[table].insert(), table_rows)


def row_of(frame: pd.DataFrame, year: int, session_type: str, abbreviation: str) -> dict:
    """One driver's row, NaN as None (so that rows compare with ==)."""
    [row] = frame[(frame["year"] == year) & (frame["session_type"] == session_type)
                  & (frame["abbreviation"] == abbreviation)].to_dict("records")
    return {name: None if isinstance(value, float) and math.isnan(value) else value
            for name, value in row.items()}


def assert_row(frame, year, session_type, abbreviation, **expected) -> None:
    row = row_of(frame, year, session_type, abbreviation)
    assert {name: row[name] for name in expected} == expected, (year, abbreviation)


# --- recorded sessions --------------------------------------------------------------------

def test_bahrain_2022_and_the_baku_2023_sprint_worked_out_by_hand(recorded_cache,
                                                                   database_url, engine):
    """From the recordings in ../shared/fastf1-recorded:

    2022 Bahrain Race (round 1): grid, result, points and status from Jolpica's
    2022/1/results.json (LEC grid 1 won with 26 points, fastest lap; VER grid 2, 19th,
    "Fuel pressure"; GAS grid 10, retired "Power Unit": classified "R"; TSU grid 16, 8th).
    No qualifying is recorded: NULL. Round 1: no championship yet (position NULL, 0 points,
    0 wins). Previous race: the 2020 Italian GP (2020/8/results.json: GAS 1, HAM 7, VER 17,
    LEC 18; TSU did not race). Weather: SessionStatus "Started" at 01:02:34.872; the last
    WeatherData sample at or before it is 01:02:03.439: AirTemp 24.0, TrackTemp 29.1,
    Humidity 25.0, Rainfall 0, WindSpeed 0.5.

    2023 Baku Sprint (round 4), qualified by the Sprint Shootout (its TimingData
    BestLapTimes): LEC 1:41.697 in SQ3 (pole), PER 1:41.844, VER 1:41.987 (+0.290 in
    TimingStats), SAI 1:42.287, ALO 1:42.976 in SQ2 (better than his SQ3 1:43.010), STR
    1:43.064, OCO 1:44.088, GAS 1:46.951, SAR 1:44.042 (SQ1 only), ALB 1:42.846. Teammates
    from the Sprint's entry list (LEC-SAI, VER-PER, ALO-STR, OCO-GAS, SAR-ALB). Grid and
    result from 2023/4/sprint.json (OCO from the pit lane: grid 0) and FastF1's results
    (SAR crashed before the start: no position, no grid). Previous races: Bahrain 2022 and
    Monza 2020 (LEC 1 and 18, VER 19 and 17, OCO 7 and 8; ALO only Bahrain, 9th; SAR none).
    No 2023 standings stored: the championship is NULL; the Sprint has no weather.
    """
    store_recorded(database_url, recorded_cache)
    frame = race_features_frame(engine)
    assert frame.groupby(["year", "session_type"]).size().to_dict() == {
        (2020, "Race"): 20, (2022, "Race"): 20, (2023, "Sprint"): 20}

    bahrain = dict(round_number=1, event_name="Bahrain Grand Prix", circuit="Sakhir",
                   qualifying_position=None, qualifying_best_ms=None,
                   championship_position_before=None, championship_points_before=0.0,
                   championship_wins_before=0.0, team_championship_position_before=None,
                   team_championship_points_before=0.0, practice_long_run_ms=None,
                   air_temp_start=24.0, track_temp_start=29.1, humidity_start=25.0,
                   rainfall_start=0.0, wind_speed_start=0.5)
    assert_row(frame, 2022, "Race", "LEC", **bahrain, driver_number="16",
               driver_id="leclerc", team_id="ferrari", grid_position=1.0,
               previous_race_position=18.0, mean_position_last_3=18.0, races_before=1.0,
               finishing_position=1.0, classified_position="1", status="Finished",
               points=26.0)
    assert_row(frame, 2022, "Race", "VER", **bahrain, driver_number="1", grid_position=2.0,
               previous_race_position=17.0, races_before=1.0, finishing_position=19.0,
               classified_position="19", status="Fuel pressure", points=0.0)
    assert_row(frame, 2022, "Race", "GAS", **bahrain, grid_position=10.0,
               previous_race_position=1.0, finishing_position=20.0,
               classified_position="R", status="Power Unit", points=0.0)
    assert_row(frame, 2022, "Race", "TSU", **bahrain, grid_position=16.0,
               previous_race_position=None, mean_position_last_3=None, races_before=0.0,
               finishing_position=8.0, points=4.0)

    baku = dict(round_number=4, event_name="Azerbaijan Grand Prix", circuit="Baku",
                qualifying_session_type="Sprint Shootout",
                championship_position_before=None, championship_points_before=None,
                championship_wins_before=None, team_championship_points_before=None,
                air_temp_start=None, rainfall_start=None)
    assert_row(frame, 2023, "Sprint", "LEC", **baku, grid_position=1.0,
               qualifying_position=1.0, qualifying_best_ms=101697.0, gap_to_pole_ms=0.0,
               teammate_qualifying_delta_ms=101697.0 - 102287.0,
               previous_race_position=1.0, mean_position_last_3=(1 + 18) / 2,
               races_before=2.0, finishing_position=2.0, status="Finished", points=7.0)
    assert_row(frame, 2023, "Sprint", "VER", **baku, driver_number="1", grid_position=3.0,
               qualifying_position=3.0, qualifying_best_ms=101987.0, gap_to_pole_ms=290.0,
               teammate_qualifying_delta_ms=101987.0 - 101844.0,
               previous_race_position=19.0, mean_position_last_3=(19 + 17) / 2,
               finishing_position=3.0, points=6.0)
    assert_row(frame, 2023, "Sprint", "ALO", **baku, qualifying_position=8.0,
               qualifying_best_ms=102976.0, gap_to_pole_ms=102976.0 - 101697.0,
               teammate_qualifying_delta_ms=102976.0 - 103064.0,
               previous_race_position=9.0, mean_position_last_3=9.0, races_before=1.0,
               finishing_position=6.0, points=3.0)
    assert_row(frame, 2023, "Sprint", "OCO", **baku, grid_position=0.0,
               qualifying_position=13.0, qualifying_best_ms=104088.0,
               teammate_qualifying_delta_ms=104088.0 - 106951.0,
               mean_position_last_3=(7 + 8) / 2, finishing_position=18.0)
    assert_row(frame, 2023, "Sprint", "SAR", **baku, grid_position=None,
               qualifying_position=15.0, qualifying_best_ms=104042.0,
               teammate_qualifying_delta_ms=104042.0 - 102846.0,
               previous_race_position=None, races_before=0.0, finishing_position=None,
               classified_position="R", status="Accident", points=0.0)


def test_practice_long_runs_of_italy_fp2_worked_out_by_hand(recorded_cache, database_url,
                                                            engine):
    """2021 Italian FP2 (recorded laps) with a hand-made race of the same event. Clean laps
    (accurate, not deleted, no pit-in or pit-out time), printed once from ``laps``:

    HAM (44): stint 2, laps 3-10: 85553 85360 85446 93610 85747 85631 85672 85781 -> median
      (85631 + 85672) / 2 = 85651.5; stint 5: 83540 (17), 83542 (19), 86112, 83549, 84169,
      84028 (lap 18 is not accurate, lap 23 deleted) -> (83549 + 84028) / 2 = 83788.5 best;
      stint 4 has one clean lap.
    VER (33): stint 1, laps 2-9 -> (84006 + 84007) / 2 = 84006.5; stint 2 has 4 clean laps
      (lap 16 is inaccurate and an in-lap): no long run; stint 3, laps 18-22: 83949 83807
      83851 83880 83662 -> 83851, the best.
    SAI (55): stint 2, laps 3-11: 86472 86270 86281 86240 87089 87416 91021 86124 86377
      -> 86377 (laps 12 and 13 are deleted: with them the median would be 86472).
    RAI (7) drove no FP2 lap (Kubica had his car): no long run, no rank.
    """
    store_recorded(database_url, recorded_cache, [(2021, "Italian Grand Prix", ("FP2",))])
    race = [{"year": 2021, "round_number": 14, "session_type": "Race", "driver_number": number,
             "abbreviation": abbreviation, "position": position}
            for number, abbreviation, position in (("44", "HAM", 2), ("33", "VER", 1),
                                                   ("55", "SAI", 6), ("7", "RAI", 8))]
    insert(engine, {"results": race})
    frame = race_features_frame(engine, years=[2021])
    assert list(frame["abbreviation"]) == ["RAI", "VER", "HAM", "SAI"]     # driver number order
    assert frame["practice_long_run_ms"].tolist()[1:] == [83851.0, 83788.5, 86377.0]
    assert frame["practice_long_run_rank"].tolist()[1:] == [2.0, 1.0, 3.0]
    assert math.isnan(frame.loc[0, "practice_long_run_ms"])
    assert math.isnan(frame.loc[0, "practice_long_run_rank"])


def test_the_view_and_the_function_agree(recorded_cache, database_url, engine):
    store_recorded(database_url, recorded_cache)
    insert(engine, HAND_MADE)
    assert_view_and_function_agree(engine)


def test_loading_twice_changes_nothing(recorded_cache, database_url, engine):
    store_recorded(database_url, recorded_cache)
    first = race_features_frame(engine)
    store_recorded(database_url, recorded_cache)                  # skipped: all stored
    pd.testing.assert_frame_equal(race_features_frame(engine), first)
    store_recorded(database_url, recorded_cache, force=True)      # every row written again
    pd.testing.assert_frame_equal(race_features_frame(engine), first)


def test_no_feature_of_a_recorded_race_uses_what_comes_after_its_start(recorded_cache,
                                                                       database_url, engine):
    store_recorded(database_url, recorded_cache)
    assert_nothing_after_the_start_reaches_a_feature(engine)


# --- hand-made rows: what the recordings lack -------------------------------------------------

DRIVERS = {"1": ("ALP", "alpha", "red"), "2": ("BRA", "bravo", "red"),
           "3": ("CHA", "charlie", "blue"), "4": ("DEL", "delta", "blue")}


def result(year, round_number, session_type, number, position, grid=None, q=(None,) * 3,
           points=None, status="Finished"):
    abbreviation, driver_id, team_id = DRIVERS[number]
    return {"year": year, "round_number": round_number, "session_type": session_type,
            "driver_number": number, "abbreviation": abbreviation, "driver_id": driver_id,
            "team_id": team_id, "team_name": team_id.title(), "position": position,
            "classified_position": "R" if position is None else str(position),
            "grid_position": grid, "q1_ms": q[0], "q2_ms": q[1], "q3_ms": q[2],
            "points": points, "status": status}


def lap(round_number, session_type, number, lap_number, stint, lap_time_ms, accurate=True,
        deleted=False, pit_in=None, pit_out=None):
    return {"year": 2024, "round_number": round_number, "session_type": session_type,
            "driver_number": number, "lap_number": lap_number, "stint": stint,
            "lap_time_ms": lap_time_ms, "is_accurate": accurate, "deleted": deleted,
            "pit_in_time_ms": pit_in, "pit_out_time_ms": pit_out}


def laps(round_number, session_type, number, stint, times, first=1):
    return [lap(round_number, session_type, number, first + i, stint, ms)
            for i, ms in enumerate(times)]


def standing(table, round_number, key, position, points, wins):
    name = "driver_id" if table == "driver_standings" else "constructor_id"
    return {"year": 2024, "round_number": round_number, name: key, "position": position,
            "points": points, "wins": wins}


def weather(round_number, sequence, time_ms, air, track, humidity, rain, wind):
    return {"year": 2024, "round_number": round_number, "session_type": "Race",
            "sequence": sequence, "time_ms": time_ms, "air_temp": air, "track_temp": track,
            "humidity": humidity, "rainfall": rain, "wind_speed": wind}


HAND_MADE = {
    "results": [
        # 2022 round 21, a 2021-2022 sprint weekend: the Sprint starts from Qualifying.
        result(2022, 21, "Qualifying", "1", 2, q=(90_000, 89_500, 89_000)),
        result(2022, 21, "Sprint", "1", 1, grid=2, points=8),
        result(2023, 22, "Race", "1", 5, grid=4, points=10),
        result(2023, 22, "Race", "3", 2, grid=1, points=18),
        result(2024, 1, "Qualifying", "1", 1, q=(81_000, 80_200, 80_000)),
        result(2024, 1, "Qualifying", "2", 3, q=(81_000, 80_500, None)),
        result(2024, 1, "Qualifying", "3", 2, q=(80_900, 80_600, 80_300)),
        result(2024, 1, "Race", "1", 1, grid=1, points=25),
        result(2024, 1, "Race", "2", 2, grid=3, points=18),
        result(2024, 1, "Race", "3", 3, grid=2, points=15),
        # 2024 round 2, a sprint weekend: Sprint Qualifying, Sprint, Qualifying, Race.
        result(2024, 2, "Sprint Qualifying", "1", 2, q=(79_900, 79_800, 79_600)),
        result(2024, 2, "Sprint Qualifying", "2", 3, q=(80_000, None, None)),
        result(2024, 2, "Sprint Qualifying", "3", 1, q=(79_900, 79_700, 79_500)),
        result(2024, 2, "Sprint", "1", 2, grid=2, points=7),
        result(2024, 2, "Sprint", "2", 3, grid=3, points=6),
        result(2024, 2, "Sprint", "3", 1, grid=1, points=8),
        result(2024, 2, "Qualifying", "1", 1, q=(78_500, 78_200, 78_000)),
        result(2024, 2, "Qualifying", "2", 2, q=(78_600, 78_300, 78_100)),
        result(2024, 2, "Qualifying", "3", 3, q=(78_700, 78_400, 78_400)),
        result(2024, 2, "Race", "1", None, grid=1, points=0, status="Retired"),
        result(2024, 2, "Race", "2", 1, grid=2, points=25),
        result(2024, 2, "Race", "3", 2, grid=3, points=18),
        # 2024 round 3: delta's first race, no qualifying stored.
        result(2024, 3, "Race", "1", 2, grid=2, points=18),
        result(2024, 3, "Race", "3", 3, grid=3, points=15),
        result(2024, 3, "Race", "4", 1, grid=1, points=25),
    ],
    "driver_standings": [
        standing("driver_standings", 1, "alpha", 1, 25.0, 1),
        standing("driver_standings", 1, "bravo", 2, 18.0, 0),
        standing("driver_standings", 1, "charlie", 3, 15.0, 0),
        standing("driver_standings", 2, "bravo", 1, 49.0, 1),
        standing("driver_standings", 2, "charlie", 2, 41.0, 0),
        standing("driver_standings", 2, "alpha", 3, 32.0, 1),
    ],
    "constructor_standings": [          # after round 1 only: round 3 reaches back to it
        standing("constructor_standings", 1, "red", 1, 43.0, 1),
        standing("constructor_standings", 1, "blue", 2, 15.0, 0),
    ],
    "laps": [
        # Round 1. alpha, Practice 1: an out-lap, five clean laps, an in-lap.
        lap(1, "Practice 1", "1", 1, 1, 100_000, pit_out=10),
        *laps(1, "Practice 1", "1", 1, [90_000, 90_400, 90_100, 90_300, 90_200], first=2),
        lap(1, "Practice 1", "1", 7, 1, 95_000, pit_in=600_000),
        # bravo: four clean laps, one deleted, one inaccurate: no long run; his race laps
        # are no practice.
        *laps(1, "Practice 1", "2", 1, [87_000] * 4),
        lap(1, "Practice 1", "2", 5, 1, 86_000, deleted=True),
        lap(1, "Practice 1", "2", 6, 1, 86_500, accurate=False),
        *laps(1, "Race", "2", 1, [70_000] * 5),
        # charlie: 91_000 in Practice 1, 89_000 (the median) in Practice 2: the best counts.
        *laps(1, "Practice 1", "3", 1, [91_000] * 5),
        *laps(1, "Practice 2", "3", 1, [89_000, 89_100, 88_900, 89_050, 88_950]),
        # Round 2 (its only practice is before the Sprint).
        *laps(2, "Practice 1", "1", 1, [88_400, 88_500, 88_600, 88_450, 88_550]),
        *laps(2, "Practice 1", "2", 1, [88_000] * 5),
    ],
    "session_info": [
        {"year": 2024, "round_number": 1, "session_type": "Race",
         "circuit_short_name": "Sakhir", "session_start_time_ms": 1_000_000},
        {"year": 2024, "round_number": 2, "session_type": "Race",
         "circuit_short_name": None, "session_start_time_ms": 5_000_000},
    ],
    "weather": [
        weather(1, 0, 400_000, 20.0, 28.0, 45.0, False, 0.5),
        weather(1, 1, 1_000_000, 21.0, 30.0, 40.0, False, 1.0),      # at the start
        weather(1, 2, 1_600_000, 25.0, 35.0, 80.0, True, 3.0),
        weather(2, 0, 4_000_000, 22.0, 31.0, 60.0, True, 2.0),       # before the start
        weather(2, 1, 6_000_000, 23.0, 32.0, 70.0, False, 2.5),
    ],
    "events": [
        {"year": 2024, "round_number": 1, "event_name": "First Grand Prix",
         "location": "Sakhir Town"},
        {"year": 2024, "round_number": 2, "event_name": "Second Grand Prix",
         "location": "Jeddah"},
    ],
}

HAND_MADE_CHECKED = ("qualifying_session_type", "qualifying_position", "qualifying_best_ms",
                     "gap_to_pole_ms", "teammate_qualifying_delta_ms", "practice_long_run_ms",
                     "practice_long_run_rank", "championship_position_before",
                     "championship_points_before", "championship_wins_before",
                     "team_championship_position_before", "team_championship_points_before",
                     "previous_race_position", "mean_position_last_3", "races_before",
                     "air_temp_start", "rainfall_start")
Q, SQ = "Qualifying", "Sprint Qualifying"
# Worked out from HAND_MADE above, one row per driver per race in the function's order:
# qualifying type, position, best, gap to pole, teammate delta | long run, rank | driver's
# championship position, points, wins, team's position, points | previous race, mean of
# the last 3, races before | air temperature and rain at the start.
HAND_MADE_EXPECTED = [
    # 2022 r21 Sprint: its Qualifying (best 89_000, alone: pole); no 2022 standings stored
    # (round 21: NULL, not 0); alpha's only earlier result is no Race.
    ((2022, 21, "Sprint", "1"), Q, 2, 89_000, 0, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN,
     NaN, NaN, 0, NaN, NaN),
    ((2023, 22, "Race", "1"), Q, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN,
     NaN, NaN, 0, NaN, NaN),
    ((2023, 22, "Race", "3"), Q, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN,
     NaN, NaN, 0, NaN, NaN),
    # 2024 r1: round 1 (no position, 0 points, 0 wins); the weather sample at the start.
    # alpha: 80_000 pole, bravo 80_500 (his Q2); red: -500/+500; charlie has no teammate.
    # Long runs: alpha 90_200 (out- and in-lap left out), charlie min(91_000, 89_000).
    ((2024, 1, "Race", "1"), Q, 1, 80_000, 0, -500, 90_200, 2, NaN, 0, 0, NaN, 0, 5, 5, 1,
     21.0, 0),
    ((2024, 1, "Race", "2"), Q, 3, 80_500, 500, 500, NaN, NaN, NaN, 0, 0, NaN, 0, NaN, NaN,
     0, 21.0, 0),
    ((2024, 1, "Race", "3"), Q, 2, 80_300, 300, NaN, 89_000, 1, NaN, 0, 0, NaN, 0, 2, 2, 1,
     21.0, 0),
    # 2024 r2 Sprint: the Sprint Qualifying (charlie pole 79_500); standings after round 1
    # (not round 2's); previous race = round 1; no weather stored for the Sprint.
    ((2024, 2, "Sprint", "1"), SQ, 2, 79_600, 100, -400, 88_500, 2, 1, 25, 1, 1, 43, 1,
     (5 + 1) / 2, 2, NaN, NaN),
    ((2024, 2, "Sprint", "2"), SQ, 3, 80_000, 500, 400, 88_000, 1, 2, 18, 0, 1, 43, 2, 2, 1,
     NaN, NaN),
    ((2024, 2, "Sprint", "3"), SQ, 1, 79_500, 0, NaN, NaN, NaN, 3, 15, 0, 2, 15, 3,
     (2 + 3) / 2, 2, NaN, NaN),
    # 2024 r2 Race: its Qualifying; weather at 4_000_000 (start 5_000_000): 22.0, rain.
    ((2024, 2, "Race", "1"), Q, 1, 78_000, 0, -100, 88_500, 2, 1, 25, 1, 1, 43, 1,
     (5 + 1) / 2, 2, 22.0, 1),
    ((2024, 2, "Race", "2"), Q, 2, 78_100, 100, 100, 88_000, 1, 2, 18, 0, 1, 43, 2, 2, 1,
     22.0, 1),
    ((2024, 2, "Race", "3"), Q, 3, 78_400, 400, NaN, NaN, NaN, 3, 15, 0, 2, 15, 3,
     (2 + 3) / 2, 2, 22.0, 1),
    # 2024 r3: drivers after round 2, constructors after round 1 (the latest stored);
    # delta is in no standings: 0 points. alpha's round 2 had no position: NULL previous,
    # left out of the mean (5, 1). charlie's last three: 2, 3, 2.
    ((2024, 3, "Race", "1"), Q, NaN, NaN, NaN, NaN, NaN, NaN, 3, 32, 1, 1, 43, NaN,
     (5 + 1) / 2, 3, NaN, NaN),
    ((2024, 3, "Race", "3"), Q, NaN, NaN, NaN, NaN, NaN, NaN, 2, 41, 0, 2, 15, 2,
     (2 + 3 + 2) / 3, 3, NaN, NaN),
    ((2024, 3, "Race", "4"), Q, NaN, NaN, NaN, NaN, NaN, NaN, NaN, 0, 0, 2, 15, NaN, NaN, 0,
     NaN, NaN),
]


@pytest.fixture
def hand_made(database_url):
    """An empty database at the newest revision holding HAND_MADE; its engine."""
    with open_database(resolve_database(database_url)) as database:
        require_current_schema(database)
        insert(database.engine, HAND_MADE)
        yield database.engine


def test_hand_made_rows(hand_made):
    frame = race_features_frame(hand_made)
    keys = [tuple(key) for key in frame[list(KEY_COLUMNS)].itertuples(index=False)]
    assert keys == [row[0] for row in HAND_MADE_EXPECTED]
    expected = pd.DataFrame([row[1:] for row in HAND_MADE_EXPECTED],
                            columns=HAND_MADE_CHECKED).astype(
        {name: "float64" for name in HAND_MADE_CHECKED[1:]})
    pd.testing.assert_frame_equal(frame[list(HAND_MADE_CHECKED)], expected)
    first = frame.iloc[3]
    assert (first["event_name"], first["circuit"], first["team_name"]) == (
        "First Grand Prix", "Sakhir", "Red")
    assert frame.iloc[6]["circuit"] == "Jeddah"         # no session info: the location
    # A season asked for alone keeps its first rows' form from the season before.
    only_2024 = race_features_frame(hand_made, years=[2024])
    pd.testing.assert_frame_equal(only_2024, frame[frame["year"] == 2024].reset_index(drop=True))
    assert race_features_frame(hand_made, years=[]).columns.tolist() == list(COLUMNS)


def test_hand_made_view_and_function_agree(hand_made):
    assert_view_and_function_agree(hand_made)


def test_no_hand_made_feature_uses_what_comes_after_the_start(hand_made):
    frame = race_features_frame(hand_made)
    assert frame[list(FEATURE_COLUMNS)].notna().any().all()   # every feature is compared
    assert_nothing_after_the_start_reaches_a_feature(hand_made)


def test_sqlite_and_postgresql_give_the_same_frame(sqlite_url, postgres_url):
    frames = []
    for url in (sqlite_url, postgres_url):
        with open_database(resolve_database(url)) as database:
            require_current_schema(database)
            insert(database.engine, HAND_MADE)
            frames.append(race_features_frame(database.engine))
    pd.testing.assert_frame_equal(*frames)


# --- the checks -------------------------------------------------------------------------------

def view_rows(engine) -> tuple[list[str], list[dict]]:
    with engine.connect() as connection:
        result = connection.execute(text("SELECT * FROM race_features"))
        return list(result.keys()), [dict(row) for row in result.mappings()]


def assert_view_and_function_agree(engine) -> None:
    """Every column the view has is the function's, value for value (the view's 0/1 or
    boolean flags and integers as the function's floats, NULL as NaN or None)."""
    columns, rows = view_rows(engine)
    assert columns == [name for name in COLUMNS if name not in PANDAS_COLUMNS]
    frame = race_features_frame(engine).set_index(list(KEY_COLUMNS), drop=False)
    assert len(rows) == len(frame) > 0
    for row in rows:
        mine = frame.loc[tuple(row[name] for name in KEY_COLUMNS)]
        for name in columns:
            value, expected = mine[name], row[name]
            if expected is None:
                assert value is None or math.isnan(value), (name, row)
            elif isinstance(expected, str):
                assert value == expected, (name, row)
            else:
                assert value == float(expected), (name, row)


def later_in_the_round(year: int, session_type: str) -> tuple[str, ...]:
    """The event's sessions after this one: a Sprint's Race, and from 2024 the Race's
    Qualifying (the Saturday after the Sprint)."""
    if session_type == "Race":
        return ()
    return ("Qualifying", "Race") if year >= 2024 else ("Race",)


def forget_after_the_start(connection, year: int, round_number: int, session_type: str):
    """Change what becomes known only after the race's start: its results (but the entry
    list and the grid), its laps, its weather after the start, the standings after its
    round and later ones, and every later session (later rounds, later in its round)."""
    key = {"year": year, "round_number": round_number, "session_type": session_type}
    same = "year = :year AND round_number = :round_number AND session_type = :session_type"
    later = "year > :year OR (year = :year AND round_number > :round_number)"
    after = "year > :year OR (year = :year AND round_number >= :round_number)"
    in_round = ", ".join(f"'{name}'" for name in later_in_the_round(year, session_type))
    if in_round:
        later += f" OR (year = :year AND round_number = :round_number " \
                 f"AND session_type IN ({in_round}))"
    statements = [
        f"""UPDATE results SET position = COALESCE(position, 0) + 100,
                classified_position = 'after', status = 'after the start',
                points = COALESCE(points, 0) + 100, time_ms = NULL, laps = NULL
            WHERE {same}""",
        f"DELETE FROM laps WHERE {same}",
        f"""UPDATE weather SET air_temp = -50, track_temp = -50, humidity = -1,
                wind_speed = -1, rainfall = NOT rainfall
            WHERE {same} AND time_ms > COALESCE((SELECT session_start_time_ms
                FROM session_info WHERE {same}), -1)""",
        *(f"""UPDATE {table} SET position = position + 50, points = points + 1000,
                  wins = wins + 10 WHERE {after}"""
          for table in ("driver_standings", "constructor_standings")),
        *(f"DELETE FROM {table} WHERE {later}"
          for table in ("results", "laps", "weather", "session_info")),
    ]
    for statement in statements:
        connection.execute(text(statement), key)


def assert_nothing_after_the_start_reaches_a_feature(engine) -> None:
    """For every race: inside a transaction rolled back afterwards, forget what comes after
    its start; its features stay exactly as they were, its targets all change."""
    before = race_features_frame(engine)
    races = before[["year", "round_number", "session_type"]].drop_duplicates()
    assert len(races) >= 3
    for year, round_number, session_type in races.itertuples(index=False):
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                forget_after_the_start(connection, year, round_number, session_type)
                after = race_features_frame(connection)
            finally:
                transaction.rollback()

        def this_race(frame):
            rows = frame[(frame["year"] == year) & (frame["round_number"] == round_number)
                         & (frame["session_type"] == session_type)]
            return rows.reset_index(drop=True)

        old, new = this_race(before), this_race(after)
        features = list(KEY_COLUMNS + FEATURE_COLUMNS)
        pd.testing.assert_frame_equal(new[features], old[features], obj=str(
            (year, round_number, session_type)))
        for target in TARGET_COLUMNS:
            assert (new[target] != old[target]).all(), (year, round_number, target)


# --- the docs -----------------------------------------------------------------------------------

def test_every_column_is_documented_with_when_it_becomes_known():
    """docs/FEATURES.md's table of columns: one row per column, in the frame's order, with
    the moment ``WHEN_KNOWN`` gives it."""
    document = (REPO / "docs" / "FEATURES.md").read_text()
    rows = re.findall(r"^\| `([a-z_0-9]+)` \| ([^|]+?) \|", document, re.M)
    assert [name for name, _ in rows] == list(COLUMNS)
    assert {name: when for name, when in rows} == WHEN_KNOWN
