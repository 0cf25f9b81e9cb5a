"""The views of revision 0005, ``stints`` and ``pit_stops``, on SQLite and PostgreSQL.

Recorded sessions loaded by the populator are compared with FastF1's own ``Session.laps``
(stints: the laps grouped by driver and Stint, as pandas groups them; pit stops: every lap
with a PitInTime and the same driver's next lap), with a stint list worked out by hand
for one driver, and across the two databases. Hand-made laps cover what the recordings
lack (laps without a stint, a stint whose first lap has no compound).
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from f1db.config import normalise_url, resolve_database
from f1db.db import open_database
from f1db.models import VIEW_NAMES, Base
from f1db.schema import require_current_schema
from support.database import (fastf1_offline_session as fastf1_session,
                              populate_offline as populate, row_counts, run_populator)
from support.fastf1_comparison import expected_value

# (year, event, session identifier, FastF1 session name)
ITALY_FP2 = (2021, "Italian Grand Prix", "FP2", "Practice 2")
BAKU_SHOOTOUT = (2023, "Azerbaijan Grand Prix", "SS", "Sprint Shootout")
BAKU_SPRINT = (2023, "Azerbaijan Grand Prix", "Sprint", "Sprint")
RECORDED_WITH_LAPS = [ITALY_FP2, BAKU_SHOOTOUT, BAKU_SPRINT]

STINT_COLUMNS = ["year", "round_number", "session_type", "driver_number", "stint", "driver",
                 "team", "compound", "fresh_tyre", "first_lap", "last_lap", "laps",
                 "tyre_life_start", "tyre_life_end"]
PIT_STOP_COLUMNS = ["year", "round_number", "session_type", "driver_number", "driver", "team",
                    "lap", "stint", "pit_in_time_ms", "pit_out_time_ms", "pit_lane_time_ms",
                    "compound_after"]
VIEW_KEYS = {"stints": ("year", "round_number", "session_type", "driver_number", "stint"),
             "pit_stops": ("year", "round_number", "session_type", "driver_number", "lap")}








def in_key_order(rows: list[dict], view: str) -> list[dict]:
    """Rows sorted by the view's key, NULLs last (a wrong row with a NULL key still sorts)."""
    return sorted(rows, key=lambda row: tuple((row[name] is None, 0 if row[name] is None
                                               else row[name]) for name in VIEW_KEYS[view]))


def view_rows(engine, view: str, year: int | None = None,
              session_type: str | None = None) -> list[dict]:
    """The view's rows (of one session, or all), in key order. SQLite has no boolean type:
    its 0/1 ``fresh_tyre`` is read as False/True, as PostgreSQL returns it."""
    query, parameters = f"SELECT * FROM {view}", {}
    if year is not None:
        query += " WHERE year = :year AND session_type = :session_type"
        parameters = {"year": year, "session_type": session_type}
    with engine.connect() as connection:
        result = connection.execute(text(query), parameters)
        columns = list(result.keys())
        rows = [dict(row) for row in result.mappings()]
    assert columns == (STINT_COLUMNS if view == "stints" else PIT_STOP_COLUMNS)
    for row in rows:
        if row.get("fresh_tyre") is not None:
            assert row["fresh_tyre"] in (0, 1), row
            row["fresh_tyre"] = bool(row["fresh_tyre"])
    return in_key_order(rows, view)


def view_counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {view: connection.execute(text(f"SELECT COUNT(*) FROM {view}")).scalar_one()
                for view in VIEW_NAMES}


# --- what FastF1 says, worked out from Session.laps (independent of the views' SQL) -------

def _session_key(session) -> dict:
    return {"year": int(session.event.year), "round_number": int(session.event.RoundNumber),
            "session_type": session.name}


def fastf1_stints(session) -> list[dict]:
    """``Session.laps`` grouped by driver and Stint (laps without a Stint left out):
    first/last LapNumber, the number of laps, the first non-null Driver, Team, Compound
    and FreshTyre in lap order (pandas' groupby().first()), lowest/highest TyreLife."""
    laps = pd.DataFrame(session.laps)
    laps = laps[laps["Stint"].notna()].sort_values(["DriverNumber", "LapNumber"])
    groups = laps.groupby(["DriverNumber", "Stint"], sort=True)
    first = groups[["Driver", "Team", "Compound", "FreshTyre"]].first()
    lap_numbers = groups["LapNumber"].agg(["min", "max"])
    tyre_life = groups["TyreLife"].agg(["min", "max"])
    sizes = groups.size()
    rows = []
    for (driver_number, stint), values in first.iterrows():
        key = (driver_number, stint)
        rows.append({**_session_key(session), "driver_number": str(driver_number),
                     "stint": expected_value(stint, "integer"),
                     "driver": expected_value(values["Driver"], "text"),
                     "team": expected_value(values["Team"], "text"),
                     "compound": expected_value(values["Compound"], "text"),
                     "fresh_tyre": expected_value(values["FreshTyre"], "flag"),
                     "first_lap": expected_value(lap_numbers.loc[key, "min"], "integer"),
                     "last_lap": expected_value(lap_numbers.loc[key, "max"], "integer"),
                     "laps": int(sizes.loc[key]),
                     "tyre_life_start": expected_value(tyre_life.loc[key, "min"], "integer"),
                     "tyre_life_end": expected_value(tyre_life.loc[key, "max"], "integer")})
    return in_key_order(rows, "stints")


def fastf1_pit_stops(session) -> list[dict]:
    """One row per lap with a PitInTime: the pit-out time and compound of the same driver's
    next lap (LapNumber + 1), the time in the pit lane (out - in) in whole milliseconds."""
    laps = pd.DataFrame(session.laps)
    by_lap = {(row["DriverNumber"], int(row["LapNumber"])): row for _, row in laps.iterrows()}
    rows = []
    for _, lap in laps[laps["PitInTime"].notna()].iterrows():
        after = by_lap.get((lap["DriverNumber"], int(lap["LapNumber"]) + 1))
        pit_out = after["PitOutTime"] if after is not None else pd.NaT
        rows.append({**_session_key(session), "driver_number": str(lap["DriverNumber"]),
                     "driver": expected_value(lap["Driver"], "text"),
                     "team": expected_value(lap["Team"], "text"),
                     "lap": expected_value(lap["LapNumber"], "integer"),
                     "stint": expected_value(lap["Stint"], "integer"),
                     "pit_in_time_ms": expected_value(lap["PitInTime"], "duration_ms"),
                     "pit_out_time_ms": expected_value(pit_out, "duration_ms"),
                     "pit_lane_time_ms": (None if pd.isna(pit_out) else expected_value(
                         pit_out - lap["PitInTime"], "duration_ms")),
                     "compound_after": (None if after is None
                                        else expected_value(after["Compound"], "text"))})
    return in_key_order(rows, "pit_stops")


# --- recorded sessions --------------------------------------------------------------------

@pytest.mark.parametrize("recorded", RECORDED_WITH_LAPS,
                         ids=["italy-fp2", "baku-sprint-shootout", "baku-sprint"])
def test_the_views_match_fastf1_laps_and_a_rerun_adds_nothing(recorded, recorded_cache,
                                                              database_url, engine):
    year, event, identifier, name = recorded
    summary = populate(database_url, recorded_cache, year, event, identifier)
    assert summary.exit_code == 0 and summary.rows_inserted["laps"] > 0

    session = fastf1_session(recorded_cache, year, event, identifier)
    stints, pit_stops = fastf1_stints(session), fastf1_pit_stops(session)
    assert stints and pit_stops                           # the comparison compares something
    assert view_rows(engine, "stints", year, name) == stints
    assert view_rows(engine, "pit_stops", year, name) == pit_stops
    # Every lap with a stint is in exactly one stint.
    assert sum(row["laps"] for row in stints) == int(session.laps["Stint"].notna().sum())

    counts, before = view_counts(engine), row_counts(engine)
    rerun = populate(database_url, recorded_cache, year, event, identifier)
    assert sum(rerun.rows_inserted.values()) == 0
    assert row_counts(engine) == before and view_counts(engine) == counts
    assert view_rows(engine, "stints", year, name) == stints
    assert view_rows(engine, "pit_stops", year, name) == pit_stops


def test_hamiltons_stints_and_pit_stops_in_italy_fp2_worked_out_by_hand(recorded_cache,
                                                                          database_url, engine):
    """2021 Italian Grand Prix FP2, Lewis Hamilton (44, Mercedes). FastF1's laps, printed
    once (session.laps.pick_drivers("HAM")), times as FastF1 gives them:

        lap stint compound fresh life  PitOutTime    PitInTime
          1    1   SOFT    False    7  00:25:13.516  00:27:12.218
          2    2   SOFT    False    8  00:27:33.370
          3..10  2 SOFT    False 9..16
         11    2   SOFT    False   17                00:42:40.955
         12    3   SOFT    False    7  00:55:33.566  00:57:23.732
         13    4   SOFT    False    8  00:57:46.709
         14    4   SOFT    False    9
         15    4   SOFT    False   10                01:02:20.421
         16    5   HARD    True     1  01:02:44.348
         17..24  5 HARD    True  2..9
         25    5   HARD    True    10                01:17:18.410

    Stints: 1 = lap 1 alone (a used soft, life 7); 2 = laps 2-11 (10 laps, life 8-17);
    3 = lap 12 alone (a different used soft: life 7 again); 4 = laps 13-15 (life 8-10);
    5 = laps 16-25 on a new hard (10 laps, life 1-10).
    Pit stops: in on laps 1, 11, 12, 15 and 25; out on the next lap:
      lap 1:  27:33.370 - 27:12.218 = 21.152 s;   lap 11: 55:33.566 - 42:40.955 = 772.611 s
      (the garage between runs); lap 12: 57:46.709 - 57:23.732 = 22.977 s;
      lap 15: 1:02:44.348 - 1:02:20.421 = 23.927 s, onto the hards;
      lap 25: the last lap, no lap 26: no pit-out time, no time in the pit lane.
    In-times in ms: 27:12.218 = 1632218, 42:40.955 = 2560955, 57:23.732 = 3443732,
    1:02:20.421 = 3740421, 1:17:18.410 = 4638410; out-times 1653370, 3333566, 3466709,
    3764348.
    """
    year, event, identifier, name = ITALY_FP2
    assert populate(database_url, recorded_cache, year, event, identifier).exit_code == 0

    key = (2021, 14, "Practice 2", "44", "HAM", "Mercedes")
    stint_columns = ("stint", "compound", "fresh_tyre", "first_lap", "last_lap", "laps",
                     "tyre_life_start", "tyre_life_end")
    expected_stints = [
        (1, "SOFT", False, 1, 1, 1, 7, 7),
        (2, "SOFT", False, 2, 11, 10, 8, 17),
        (3, "SOFT", False, 12, 12, 1, 7, 7),
        (4, "SOFT", False, 13, 15, 3, 8, 10),
        (5, "HARD", True, 16, 25, 10, 1, 10),
    ]
    stints = [row for row in view_rows(engine, "stints", year, name)
              if row["driver_number"] == "44"]
    assert [tuple(row[c] for c in ("year", "round_number", "session_type", "driver_number",
                                   "driver", "team")) for row in stints] == [key] * 5
    assert [tuple(row[c] for c in stint_columns) for row in stints] == expected_stints

    stop_columns = ("lap", "stint", "pit_in_time_ms", "pit_out_time_ms", "pit_lane_time_ms",
                    "compound_after")
    expected_stops = [
        (1, 1, 1632218, 1653370, 21152, "SOFT"),
        (11, 2, 2560955, 3333566, 772611, "SOFT"),
        (12, 3, 3443732, 3466709, 22977, "SOFT"),
        (15, 4, 3740421, 3764348, 23927, "HARD"),
        (25, 5, 4638410, None, None, None),
    ]
    stops = [row for row in view_rows(engine, "pit_stops", year, name)
             if row["driver_number"] == "44"]
    assert [tuple(row[c] for c in ("year", "round_number", "session_type", "driver_number",
                                   "driver", "team")) for row in stops] == [key] * 5
    assert [tuple(row[c] for c in stop_columns) for row in stops] == expected_stops


def test_sqlite_and_postgresql_answer_the_same(recorded_cache, sqlite_url, postgres_url):
    """The same sessions in both databases: every row of both views is the same."""
    engines = {}
    try:
        for url in (sqlite_url, postgres_url):
            assert populate(url, recorded_cache, *ITALY_FP2[:3]).exit_code == 0
            assert run_populator(2023, database_url=url, events=("Azerbaijan Grand Prix",),
                                 sessions=("SS", "Sprint"), offline=True,
                                 cache_dir=recorded_cache).exit_code == 0
            engines[url] = create_engine(normalise_url(url))
        for view in VIEW_KEYS:                       # this module's views
            on_sqlite, on_postgresql = (view_rows(engines[url], view)
                                        for url in (sqlite_url, postgres_url))
            assert {row["session_type"] for row in on_sqlite} == {
                "Practice 2", "Sprint Shootout", "Sprint"}, view
            assert on_sqlite == on_postgresql, view
            for left, right in zip(on_sqlite, on_postgresql):   # 21152 == 21152.0 is not enough
                assert {k: type(v) for k, v in left.items()} == {
                    k: type(v) for k, v in right.items()}, (view, left, right)
    finally:
        for engine in engines.values():
            engine.dispose()


# --- hand-made laps: what the recordings do not have -----------------------------------------

def lap(session_type, driver_number, lap_number, stint, compound=None, fresh_tyre=None,
        tyre_life=None, pit_out=None, pit_in=None, driver="HAM", team="Mercedes",
        round_number=14, year=2021):
    return {"year": year, "round_number": round_number, "session_type": session_type,
            "driver_number": driver_number, "lap_number": lap_number, "driver": driver,
            "team": team, "stint": stint, "compound": compound, "fresh_tyre": fresh_tyre,
            "tyre_life": tyre_life, "pit_out_time_ms": pit_out, "pit_in_time_ms": pit_in}


HAND_MADE_LAPS = [
    # Practice 2, driver 44: lap 1 without a stint (left out); stint 1's first lap has no
    # compound, fresh_tyre or tyre life (the next known ones count); lap 4 is missing, so
    # the pit-in on lap 3 has no next lap; stint 2's first lap has no driver or team.
    lap("Practice 2", "44", 1, None, "HARD", True, 1, pit_out=1_000),
    lap("Practice 2", "44", 2, 1, None, None, None, pit_out=90_000),
    lap("Practice 2", "44", 3, 1, "SOFT", False, 5, pit_in=200_000),
    lap("Practice 2", "44", 5, 2, "MEDIUM", True, 1, pit_out=250_000, pit_in=300_000,
        driver=None, team=None),
    lap("Practice 2", "44", 6, 2, None, None, 2, pit_out=None),        # out time unknown
    lap("Practice 2", "44", 7, 2, "HARD", False, 3, pit_in=400_000),
    lap("Practice 2", "44", 8, 3, "HARD", False, 1, pit_out=423_456),
    # Driver 77 in the same session, same stint numbers: kept apart.
    lap("Practice 2", "77", 1, 1, "SOFT", True, 1, pit_in=50_000, driver="BOT"),
    lap("Practice 2", "77", 2, 2, "SOFT", False, 4, pit_out=71_500, driver="BOT"),
    # The same driver and lap numbers in another session and another event: kept apart.
    lap("Race", "44", 1, 1, "MEDIUM", False, 3),
    lap("Race", "44", 2, 1, "MEDIUM", False, 4, pit_in=150_000),
    lap("Practice 2", "44", 3, 2, "WET", True, 1, pit_in=10, round_number=15),
    lap("Practice 2", "44", 4, 2, "WET", True, 2, pit_out=20, round_number=15),
]


def test_hand_made_laps(database_url):
    """Stints follow pandas' groupby(["DriverNumber", "Stint"]).first(): the first known
    value of each column in lap order; laps without a stint are in no stint. Expected rows
    worked out from HAND_MADE_LAPS above:

    Practice 2 round 14, 44: stint 1 = laps 2-3 (2 laps), compound/fresh/life from lap 3:
    SOFT, False, 5..5; stint 2 = laps 5-7 (3), MEDIUM True (lap 5), life 1..3, driver and
    team from lap 6; stint 3 = lap 8, HARD False 1..1. 77: stints 1 and 2 of one lap each.
    Race 44: stint 1 = laps 1-2, MEDIUM False 3..4. Round 15: stint 2 = laps 3-4, WET.
    Pit stops: 44 lap 3 (no lap 4: nothing after), lap 5 (out 250_000 is lap 5's own
    out-lap time, the stop's pit-out is lap 6's: NULL), lap 7 -> lap 8 out 423_456 (23_456
    ms, HARD); 77 lap 1 -> 71_500 (21_500, SOFT); Race lap 2 (last lap); round 15 lap 3
    -> lap 4 (10 ms, WET).
    """
    with open_database(resolve_database(database_url)) as database:
        require_current_schema(database)              # an empty database: created at head
        with database.engine.begin() as connection:
            connection.execute(Base.metadata.tables["laps"].insert(), HAND_MADE_LAPS)
        ham = (2021, 14, "Practice 2", "44")
        assert [tuple(row.values()) for row in view_rows(database.engine, "stints")] == [
            (*ham, 1, "HAM", "Mercedes", "SOFT", False, 2, 3, 2, 5, 5),
            (*ham, 2, "HAM", "Mercedes", "MEDIUM", True, 5, 7, 3, 1, 3),
            (*ham, 3, "HAM", "Mercedes", "HARD", False, 8, 8, 1, 1, 1),
            (2021, 14, "Practice 2", "77", 1, "BOT", "Mercedes", "SOFT", True, 1, 1, 1, 1, 1),
            (2021, 14, "Practice 2", "77", 2, "BOT", "Mercedes", "SOFT", False, 2, 2, 1, 4, 4),
            (2021, 14, "Race", "44", 1, "HAM", "Mercedes", "MEDIUM", False, 1, 2, 2, 3, 4),
            (2021, 15, "Practice 2", "44", 2, "HAM", "Mercedes", "WET", True, 3, 4, 2, 1, 2),
        ]
        assert [tuple(row.values()) for row in view_rows(database.engine, "pit_stops")] == [
            (*ham, "HAM", "Mercedes", 3, 1, 200_000, None, None, None),
            (*ham, None, None, 5, 2, 300_000, None, None, None),
            (*ham, "HAM", "Mercedes", 7, 2, 400_000, 423_456, 23_456, "HARD"),
            (2021, 14, "Practice 2", "77", "BOT", "Mercedes", 1, 1, 50_000, 71_500, 21_500,
             "SOFT"),
            (2021, 14, "Race", "44", "HAM", "Mercedes", 2, 1, 150_000, None, None, None),
            (2021, 15, "Practice 2", "44", "HAM", "Mercedes", 3, 2, 10, 20, 10, "WET"),
        ]
        with database.engine.connect() as connection:
            assert set(VIEW_NAMES) <= set(inspect(connection).get_view_names())
