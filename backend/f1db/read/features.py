"""Race features for predictors: one row per driver per stored Race and Sprint, holding only
what was known before the start, and the result as targets (docs/FEATURES.md).

The view ``race_features`` (revision 0006) computes what SQL computes alike on SQLite and
PostgreSQL; this module adds what it cannot portably compute (medians, ranks, a mean over
the last three races) and gives every column one dtype whatever the database: ``int64``
for ``year`` and ``round_number``, ``float64`` with NaN for every other number (positions,
points, milliseconds, counts, ``rainfall_start`` as 1.0/0.0, as FastF1 keeps positions
and points), ``object`` with None for text.

``WHEN_KNOWN`` says when each column becomes known; the no-leak test
(tests/test_race_features.py) changes everything known after a race's start and checks
that no feature moves.
"""

from __future__ import annotations

import contextlib
from typing import Iterable, Iterator

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, text

from .history_features import history_rows

SCHEDULE, ENTRY_LIST = "schedule", "entry list"
QUALIFYING, PRACTICE = "end of qualifying", "end of the last practice"
PREVIOUS_ROUND, START, TARGET = "after the previous round", "race start", "race end (target)"

# Every column of the frame, in order, with when it becomes known.
WHEN_KNOWN = {
    "year": SCHEDULE, "round_number": SCHEDULE, "session_type": SCHEDULE,
    "event_name": SCHEDULE, "circuit": SCHEDULE,
    "driver_number": ENTRY_LIST, "abbreviation": ENTRY_LIST, "driver_id": ENTRY_LIST,
    "team_id": ENTRY_LIST, "team_name": ENTRY_LIST,
    "grid_position": START,
    "qualifying_session_type": SCHEDULE, "qualifying_position": QUALIFYING,
    "qualifying_best_ms": QUALIFYING, "gap_to_pole_ms": QUALIFYING,
    "teammate_qualifying_delta_ms": QUALIFYING,
    "practice_long_run_ms": PRACTICE, "practice_long_run_rank": PRACTICE,
    "championship_position_before": PREVIOUS_ROUND,
    "championship_points_before": PREVIOUS_ROUND,
    "championship_wins_before": PREVIOUS_ROUND,
    "team_championship_position_before": PREVIOUS_ROUND,
    "team_championship_points_before": PREVIOUS_ROUND,
    "previous_race_position": PREVIOUS_ROUND, "mean_position_last_3": PREVIOUS_ROUND,
    "races_before": PREVIOUS_ROUND,
    "air_temp_start": START, "track_temp_start": START, "humidity_start": START,
    "rainfall_start": START, "wind_speed_start": START,
    "finishing_position": TARGET, "classified_position": TARGET, "status": TARGET,
    "points": TARGET,
}
COLUMNS = tuple(WHEN_KNOWN)
KEY_COLUMNS = ("year", "round_number", "session_type", "driver_number")
TARGET_COLUMNS = tuple(name for name, when in WHEN_KNOWN.items() if when == TARGET)
FEATURE_COLUMNS = tuple(name for name in COLUMNS
                        if name not in KEY_COLUMNS and name not in TARGET_COLUMNS)
TEXT_COLUMNS = ("session_type", "event_name", "circuit", "driver_number", "abbreviation",
                "driver_id", "team_id", "team_name", "qualifying_session_type",
                "classified_position", "status")
# Columns this module adds to the view's.
PANDAS_COLUMNS = ("practice_long_run_ms", "practice_long_run_rank", "mean_position_last_3")

# A long run: a stint with at least this many clean laps (accurate, not deleted, neither a
# pit-in nor a pit-out lap): race pace, where a single fast lap is qualifying pace.
LONG_RUN_LAPS = 5
RECENT_RACES = 3
_EVENT = ["year", "round_number"]
_ROW = ["year", "round_number", "session_type", "driver_number"]


def race_features_frame(engine: Engine | Connection, *,
                        years: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per driver per stored Race and Sprint (``COLUMNS``, module doc for dtypes),
    ordered by year, round, the Sprint before the Race, then driver number; a race stored
    only in Jolpica's history tables (``--history``) has its rows from them
    (history_features.py).

    ``engine``: an Engine, or a Connection (then read inside its transaction, which lets
    a caller look at uncommitted changes). ``years``: only these seasons (the driver's
    earlier races still count for ``mean_position_last_3``).
    """
    chosen = None if years is None else sorted({int(year) for year in years})
    with _connected(engine) as connection:
        frame = _read(connection, "SELECT * FROM race_features", chosen)
        laps = _read(connection, _CLEAN_PRACTICE_LAPS, chosen)
        history = _read(connection, _RACE_HISTORY, None)
    frame = frame.merge(practice_long_runs(laps), on=_EVENT + ["driver_number"], how="left")
    frame["practice_long_run_rank"] = frame.groupby(
        ["year", "round_number", "session_type"])["practice_long_run_ms"].rank(method="min")
    frame = frame.merge(recent_form(frame, history), on=_ROW, how="left")
    with _connected(engine) as connection:
        covered = set(zip(frame["year"].astype("int64"), frame["round_number"].astype("int64"),
                          frame["session_type"]))
        older = history_rows(connection, covered, chosen)
    if len(older):
        frame = pd.concat([frame.astype(object), older.reindex(columns=frame.columns)
                           .astype(object)], ignore_index=True)
    return _typed(_in_order(frame)[list(COLUMNS)])


@contextlib.contextmanager
def _connected(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as connection:
        yield connection


# The clean laps of practice sessions: accurate, not deleted, neither a pit-in nor a
# pit-out lap (``IS TRUE`` reads SQLite's 1 and PostgreSQL's true alike, NULL as false).
_CLEAN_PRACTICE_LAPS = """SELECT year, round_number, session_type, driver_number, stint,
       lap_time_ms
FROM laps WHERE session_type IN ('Practice 1', 'Practice 2', 'Practice 3')
     AND stint IS NOT NULL AND lap_time_ms IS NOT NULL AND is_accurate IS TRUE
     AND deleted IS NOT TRUE AND pit_in_time_ms IS NULL AND pit_out_time_ms IS NULL"""
# Every stored Race result of a known driver, whatever ``years`` asks for: the last three
# races before a season's first reach back into the season before.
_RACE_HISTORY = """SELECT driver_id, year * 100 + round_number AS round_order, position
FROM results WHERE session_type = 'Race' AND driver_id <> ''"""


def _read(connection: Connection, query: str, years: list[int] | None) -> pd.DataFrame:
    """The query's rows as a frame (columns named even when empty), of ``years`` only."""
    statement, parameters = text(query), {}
    if years is not None:
        where = " AND " if " WHERE " in query else " WHERE "
        statement = text(query + where + "year IN :years").bindparams(
            bindparam("years", expanding=True))
        parameters = {"years": years}
    result = connection.execute(statement, parameters)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def practice_long_runs(clean_laps: pd.DataFrame) -> pd.DataFrame:
    """Per event and driver, ``practice_long_run_ms``: the lowest median lap time of a long
    run (``LONG_RUN_LAPS`` clean laps in one stint) over the event's practice sessions.

    Every practice session is over before the event's Sprint and Race start, in each
    weekend format FastF1 knows, so all of them count."""
    stints = clean_laps.astype({"lap_time_ms": "float64"}).groupby(
        _EVENT + ["session_type", "driver_number", "stint"])["lap_time_ms"].agg(
        ["size", "median"])
    long_runs = stints[stints["size"] >= LONG_RUN_LAPS]
    best = long_runs.groupby(_EVENT + ["driver_number"])["median"].min()
    return best.rename("practice_long_run_ms").reset_index()


def recent_form(frame: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``frame``, ``mean_position_last_3``: the mean finishing position of the
    driver's last ``RECENT_RACES`` Races before this round (NULL positions left out), NaN
    with none. Races are matched on ``driver_id``: numbers change between seasons."""
    rows = frame[_ROW + ["driver_id"]].assign(
        round_order=frame["year"].astype("int64") * 100 + frame["round_number"].astype("int64"))
    pairs = rows.merge(history.astype({"position": "float64"}), on="driver_id",
                       suffixes=("", "_before"))
    pairs = pairs[pairs["round_order_before"] < pairs["round_order"]]
    last = pairs.sort_values("round_order_before").groupby(_ROW).tail(RECENT_RACES)
    mean = last.groupby(_ROW)["position"].mean().rename("mean_position_last_3")
    return rows[_ROW].merge(mean.reset_index(), on=_ROW, how="left")


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Year, round, the Sprint (the day before) ahead of the Race, driver number."""
    order = frame.assign(_sprint_last=frame["session_type"].ne("Sprint"),
                         _number=pd.to_numeric(frame["driver_number"], errors="coerce"))
    order = order.sort_values(["year", "round_number", "_sprint_last", "_number",
                               "driver_number"], kind="stable")
    return order.reset_index(drop=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The module doc's dtypes, the same from both databases (SQLite's 0/1 flags and whole
    floats, PostgreSQL's booleans and bigints)."""
    typed = {}
    for name, values in frame.items():
        values = values.astype(object)
        if name in TEXT_COLUMNS:
            typed[name] = values.where(values.notna(), None)
        elif name in ("year", "round_number"):
            typed[name] = values.astype("int64")
        else:
            typed[name] = values.map(_number).astype("float64")
    return pd.DataFrame(typed, columns=frame.columns)


def _number(value) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def race_features(database=None, *, years: Iterable[int] | int | None = None) -> pd.DataFrame:
    """:func:`race_features_frame` of a database URL (None: as populate_db.py picks it) or
    an open :class:`~f1db.read.StoredData`, read-only like every read."""
    from .access import opened

    chosen = [years] if isinstance(years, int) else years
    with opened(database) as stored, stored.reading("the race features") as connection:
        return race_features_frame(connection, years=chosen)
