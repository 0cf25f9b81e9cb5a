"""Race features of the seasons FastF1 has no session of: from Jolpica's history tables.

``race_features`` has a row per driver per stored Race and Sprint; a round stored only as
history (``--history``: every season since 1950) gets its rows here, with the same
columns and the same moments (features.WHEN_KNOWN): the entry list and grid of its result,
its qualifying (``history_qualifying``), the standings of the season's latest earlier round,
the driver's earlier races in the history, and the result as targets. What Jolpica has no
value for is NULL, never a guess: practice long runs and the weather at the start (live
timing only), a sprint's qualifying before 2021's and after 2022's (Jolpica has no sprint
qualifying results), qualifying before 1994.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

_ROW = ["year", "round_number", "session_type", "driver_number"]
# The sprint weekends whose grid the Qualifying set (FastF1 calls those sprints "Sprint").
_SPRINTS_FROM_QUALIFYING = (2021, 2022)
RECENT_RACES = 3

_RESULTS = """SELECT r.year, r.round_number, r.position, r.position_text, r.car_number,
       r.driver_id, r.constructor_id, r.grid, r.status, r.points, d.code,
       c.name AS team_name, h.race_name, h.circuit_id
FROM {table} r JOIN history_races h ON h.year = r.year AND h.round_number = r.round_number
LEFT JOIN history_drivers d ON d.driver_id = r.driver_id
LEFT JOIN history_constructors c ON c.constructor_id = r.constructor_id"""


def history_rows(connection: Connection, covered: set[tuple[int, int, str]],
                 years: list[int] | None) -> pd.DataFrame:
    """The race-features rows of history races not in ``covered`` ((year, round,
    session type) of the rows from FastF1's sessions), of ``years`` (None: all), with the
    columns of features.COLUMNS but the pandas ones computed here too."""
    races = _frame(connection, _RESULTS.format(table="history_results")).assign(
        session_type="Race")
    sprints = _frame(connection, _RESULTS.format(table="history_sprint_results")).assign(
        session_type="Sprint")
    results = pd.concat([races, sprints], ignore_index=True)
    if results.empty:
        return results
    results = results.astype({"year": "int64", "round_number": "int64"})
    keep = [(year, number, kind) not in covered and (years is None or year in years)
            for year, number, kind in zip(results["year"], results["round_number"],
                                          results["session_type"])]
    chosen = results[keep]
    if chosen.empty:
        return chosen
    frame = pd.DataFrame({
        "year": chosen["year"], "round_number": chosen["round_number"],
        "session_type": chosen["session_type"], "event_name": chosen["race_name"],
        "circuit": chosen["circuit_id"],
        "driver_number": chosen["car_number"].map(_text_number),
        "abbreviation": chosen["code"], "driver_id": chosen["driver_id"],
        "team_id": chosen["constructor_id"], "team_name": chosen["team_name"],
        "grid_position": chosen["grid"],
        "finishing_position": chosen["position"],
        "classified_position": chosen["position_text"], "status": chosen["status"],
        "points": chosen["points"]}).reset_index(drop=True)
    frame = _with_qualifying(frame, _frame(connection, "SELECT * FROM history_qualifying"))
    frame = _with_standings(frame, _frame(connection, "SELECT * FROM history_driver_standings"),
                            _frame(connection,
                                   "SELECT * FROM history_constructor_standings"))
    return _with_form(frame, races)


def _frame(connection: Connection, query: str) -> pd.DataFrame:
    result = connection.execute(text(query))
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _text_number(value) -> str | None:
    return None if value is None or pd.isna(value) else str(int(value))


def _with_qualifying(frame: pd.DataFrame, qualifying: pd.DataFrame) -> pd.DataFrame:
    """The qualifying that set the grid: the round's Qualifying for a Race, and for a
    Sprint of 2021-2022."""
    sets_grid = (frame["session_type"].eq("Race")
                 | frame["year"].isin(_SPRINTS_FROM_QUALIFYING))
    columns = {"qualifying_session_type": None, "qualifying_position": float("nan"),
               "qualifying_best_ms": float("nan"), "gap_to_pole_ms": float("nan"),
               "teammate_qualifying_delta_ms": float("nan")}
    if qualifying.empty:
        return frame.assign(**columns)
    qualifying = qualifying.astype({"year": "int64", "round_number": "int64"})
    times = qualifying[["q1_ms", "q2_ms", "q3_ms"]].apply(pd.to_numeric)
    qualifying = qualifying.assign(best=times.min(axis=1))
    qualifying["pole"] = qualifying.groupby(["year", "round_number"])["best"].transform("min")
    merged = frame.merge(
        qualifying[["year", "round_number", "driver_id", "constructor_id", "position",
                    "best", "pole"]].rename(columns={"constructor_id": "_team"}),
        on=["year", "round_number", "driver_id"], how="left")
    merged.loc[~sets_grid.to_numpy(), ["position", "best", "pole"]] = float("nan")
    teammates = merged[["year", "round_number", "session_type", "team_id", "driver_id",
                        "best"]]
    pairs = teammates.merge(teammates, on=["year", "round_number", "session_type",
                                           "team_id"], suffixes=("", "_mate"))
    pairs = pairs[pairs["driver_id"] != pairs["driver_id_mate"]]
    mate_best = pairs.groupby(["year", "round_number", "session_type", "driver_id"])[
        "best_mate"].min().rename("_mate_best").reset_index()
    merged = merged.merge(mate_best, on=["year", "round_number", "session_type",
                                         "driver_id"], how="left")
    has_qualifying = merged["position"].notna()
    return merged.assign(
        qualifying_session_type=has_qualifying.map({True: "Qualifying", False: None}),
        qualifying_position=merged["position"], qualifying_best_ms=merged["best"],
        gap_to_pole_ms=merged["best"] - merged["pole"],
        teammate_qualifying_delta_ms=merged["best"] - merged["_mate_best"],
    ).drop(columns=["position", "best", "pole", "_team", "_mate_best"])


def _with_standings(frame: pd.DataFrame, drivers: pd.DataFrame, teams: pd.DataFrame
                    ) -> pd.DataFrame:
    """The championship after the season's latest earlier round stored: position, points
    and wins (0 points and wins before round 1 or for someone not in it)."""
    frame = frame.copy()
    for who, standings, key, prefix in (("driver", drivers, "driver_id", "championship"),
                                        ("team", teams, "team_id", "team_championship")):
        before = _standings_before(frame, standings, key,
                                   "driver_id" if who == "driver" else "constructor_id")
        frame[f"{prefix}_position_before"] = before["position"].to_numpy()
        frame[f"{prefix}_points_before"] = before["points"].fillna(0.0).to_numpy()
        if who == "driver":
            frame["championship_wins_before"] = before["wins"].fillna(0.0).to_numpy()
    return frame


def _standings_before(frame: pd.DataFrame, standings: pd.DataFrame, frame_key: str,
                      standings_key: str) -> pd.DataFrame:
    empty = pd.DataFrame({"position": [float("nan")] * len(frame),
                          "points": [float("nan")] * len(frame),
                          "wins": [float("nan")] * len(frame)})
    if standings.empty:
        return empty
    standings = standings.astype({"year": "int64", "round_number": "int64"})
    rounds = standings[["year", "round_number"]].drop_duplicates()
    earlier = frame[["year", "round_number"]].reset_index().merge(
        rounds.rename(columns={"round_number": "before"}), on="year")
    earlier = earlier[earlier["before"] < earlier["round_number"]]
    latest = earlier.groupby("index")["before"].max()
    looked = frame[["year", frame_key]].assign(before=latest.reindex(frame.index))
    found = looked.merge(
        standings.rename(columns={"round_number": "before", standings_key: frame_key})[
            ["year", "before", frame_key, "position", "points", "wins"]],
        on=["year", "before", frame_key], how="left")
    return found[["position", "points", "wins"]].apply(pd.to_numeric).reset_index(drop=True)


def _with_form(frame: pd.DataFrame, races: pd.DataFrame) -> pd.DataFrame:
    """From the driver's earlier Races in the history (by year and round, on driver_id):
    the latest one's position, the mean of the last three (NULL positions left out), and
    how many there were."""
    history = races[["driver_id", "year", "round_number", "position"]].astype(
        {"year": "int64", "round_number": "int64"}).assign(
        order=lambda r: r["year"] * 100 + r["round_number"],
        position=lambda r: pd.to_numeric(r["position"]))
    rows = frame[_ROW + ["driver_id"]].reset_index().assign(
        order=frame["year"] * 100 + frame["round_number"])
    pairs = rows.merge(history[["driver_id", "order", "position"]], on="driver_id",
                       suffixes=("", "_before"))
    pairs = pairs[pairs["order_before"] < pairs["order"]].sort_values("order_before")
    grouped = pairs.groupby("index")
    last = grouped.tail(1).set_index("index")["position"]
    mean = grouped.tail(RECENT_RACES).groupby("index")["position"].mean()
    count = grouped.size()
    return frame.assign(
        previous_race_position=last.reindex(frame.index).to_numpy(),
        mean_position_last_3=mean.reindex(frame.index).to_numpy(),
        races_before=count.reindex(frame.index).fillna(0).to_numpy())
