"""race_features view: one row per driver per Race and Sprint, with what was known before it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

The view holds the part of the predictors' table that SQL computes alike on SQLite and
PostgreSQL (no window functions, no dialect casts: joins, GROUP BY and one correlated
subquery on a primary key prefix): the entry list, grid, qualifying, the championship
before the round, the driver's previous race, the weather at the start and the targets.
Medians, ranks and rolling means are added in pandas by ``f1db.read.features``;
docs/FEATURES.md says when each column becomes known.
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The qualifying of each race-like session: the Race's and the 2021-2022 Sprints' is the
# event's Qualifying; 2023's Sprint had the Sprint Shootout, 2024 on the Sprint Qualifying.
_QUALIFYING_OF = """CASE WHEN r.session_type = 'Race' OR r.year <= 2022 THEN 'Qualifying'
                 WHEN r.year = 2023 THEN 'Sprint Shootout'
                 ELSE 'Sprint Qualifying' END"""
_QUALIFYING_SESSIONS = "('Qualifying', 'Sprint Shootout', 'Sprint Qualifying')"


def _qualifying_lap(column: str) -> str:
    return (f"SELECT year, round_number, session_type, driver_number, {column} AS lap_ms\n"
            f"    FROM results WHERE session_type IN {_QUALIFYING_SESSIONS}")


def _same(a: str, b: str, *columns: str) -> str:
    """``a.c = b.c AND ...`` for the key columns (year, round_number and ``columns``)."""
    return " AND ".join(f"{a}.{c} = {b}.{c}" for c in ("year", "round_number", *columns))


def _latest_standings_round(table: str) -> str:
    """Per race round, the latest round of the same season whose ``table`` is stored
    before it (standings are after a round: the round's own would tell its result)."""
    return f"""SELECT e.year, e.round_number, MAX(d.round_number) AS standings_round
    FROM (SELECT DISTINCT year, round_number FROM race_results) e
    JOIN {table} d ON d.year = e.year AND d.round_number < e.round_number
    GROUP BY e.year, e.round_number"""


def _before(standing: str, latest: str, column: str, zero: str) -> str:
    """A championship total before the round: ``zero`` before round 1 (nobody has any),
    NULL when no earlier round is stored, ``zero`` for one absent from the stored round."""
    return (f"CASE WHEN r.round_number = 1 THEN {zero} "
            f"WHEN {latest}.standings_round IS NULL THEN NULL "
            f"ELSE COALESCE({standing}.{column}, {zero}) END")


RACE_FEATURES = f"""CREATE VIEW race_features AS
WITH race_results AS (
  SELECT r.year, r.round_number, r.session_type, r.driver_number, r.abbreviation,
         r.driver_id, r.team_id, r.team_name, r.grid_position, r.position,
         r.classified_position, r.status, r.points,
         {_QUALIFYING_OF} AS qualifying_session_type,
         r.year * 100 + r.round_number AS round_order
  FROM results r WHERE r.session_type IN ('Race', 'Sprint')
), qualifying_laps AS (
    {_qualifying_lap("q1_ms")}
  UNION ALL
    {_qualifying_lap("q2_ms")}
  UNION ALL
    {_qualifying_lap("q3_ms")}
), qualifying_best AS (
  SELECT year, round_number, session_type, driver_number, MIN(lap_ms) AS best_ms
  FROM qualifying_laps GROUP BY year, round_number, session_type, driver_number
), qualifying AS (
  SELECT q.year, q.round_number, q.session_type, q.driver_number, q.position, b.best_ms
  FROM results q JOIN qualifying_best b ON {_same("b", "q", "session_type", "driver_number")}
), pole AS (
  SELECT year, round_number, session_type, MIN(best_ms) AS pole_ms
  FROM qualifying_best GROUP BY year, round_number, session_type
), teammate AS (
  SELECT r.year, r.round_number, r.session_type, r.driver_number,
         MIN(q.best_ms) AS teammate_best_ms
  FROM race_results r
  JOIN race_results m ON {_same("m", "r", "session_type", "team_id")}
       AND m.driver_number <> r.driver_number AND m.team_id <> ''
  JOIN qualifying q ON {_same("q", "m", "driver_number")}
       AND q.session_type = m.qualifying_session_type
  GROUP BY r.year, r.round_number, r.session_type, r.driver_number
), race_history AS (
  SELECT driver_id, year * 100 + round_number AS round_order, position
  FROM results WHERE session_type = 'Race' AND driver_id <> ''
), previous_races AS (
  SELECT r.year, r.round_number, r.session_type, r.driver_number,
         MAX(h.round_order) AS previous_order, COUNT(*) AS races_before
  FROM race_results r JOIN race_history h
       ON h.driver_id = r.driver_id AND h.round_order < r.round_order
  GROUP BY r.year, r.round_number, r.session_type, r.driver_number
), driver_round AS (
  {_latest_standings_round("driver_standings")}
), team_round AS (
  {_latest_standings_round("constructor_standings")}
), start_weather AS (
  SELECT s.year, s.round_number, s.session_type,
         (SELECT w.sequence FROM weather w WHERE {_same("w", "s", "session_type")}
                 AND w.time_ms <= s.session_start_time_ms
          ORDER BY w.time_ms DESC, w.sequence DESC LIMIT 1) AS sequence
  FROM session_info s WHERE s.session_type IN ('Race', 'Sprint')
)
SELECT r.year, r.round_number, r.session_type,
       COALESCE(e.event_name, s.event_name) AS event_name,
       COALESCE(si.circuit_short_name, e.location, s.location) AS circuit,
       r.driver_number, r.abbreviation, r.driver_id, r.team_id, r.team_name,
       r.grid_position, r.qualifying_session_type,
       q.position AS qualifying_position, q.best_ms AS qualifying_best_ms,
       q.best_ms - pole.pole_ms AS gap_to_pole_ms,
       q.best_ms - mate.teammate_best_ms AS teammate_qualifying_delta_ms,
       ds.position AS championship_position_before,
       {_before("ds", "dr", "points", "0.0")} AS championship_points_before,
       {_before("ds", "dr", "wins", "0")} AS championship_wins_before,
       cs.position AS team_championship_position_before,
       {_before("cs", "tr", "points", "0.0")} AS team_championship_points_before,
       h.position AS previous_race_position,
       COALESCE(p.races_before, 0) AS races_before,
       w.air_temp AS air_temp_start, w.track_temp AS track_temp_start,
       w.humidity AS humidity_start, w.rainfall AS rainfall_start,
       w.wind_speed AS wind_speed_start,
       r.position AS finishing_position, r.classified_position, r.status, r.points
FROM race_results r
LEFT JOIN events e ON {_same("e", "r")}
LEFT JOIN sessions s ON {_same("s", "r", "session_type")}
LEFT JOIN session_info si ON {_same("si", "r", "session_type")}
LEFT JOIN qualifying q ON {_same("q", "r", "driver_number")}
     AND q.session_type = r.qualifying_session_type
LEFT JOIN pole ON {_same("pole", "q", "session_type")}
LEFT JOIN teammate mate ON {_same("mate", "r", "session_type", "driver_number")}
LEFT JOIN driver_round dr ON {_same("dr", "r")}
LEFT JOIN driver_standings ds ON ds.year = r.year AND ds.round_number = dr.standings_round
     AND ds.driver_id = r.driver_id
LEFT JOIN team_round tr ON {_same("tr", "r")}
LEFT JOIN constructor_standings cs ON cs.year = r.year
     AND cs.round_number = tr.standings_round AND cs.constructor_id = r.team_id
LEFT JOIN previous_races p ON {_same("p", "r", "session_type", "driver_number")}
LEFT JOIN race_history h ON h.driver_id = r.driver_id AND h.round_order = p.previous_order
LEFT JOIN start_weather sw ON {_same("sw", "r", "session_type")}
LEFT JOIN weather w ON {_same("w", "r", "session_type")} AND w.sequence = sw.sequence"""


def upgrade() -> None:
    op.execute(RACE_FEATURES)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS race_features")
