BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE laps (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    lap_number INTEGER NOT NULL, 
    time_ms BIGINT, 
    driver TEXT, 
    lap_time_ms BIGINT, 
    stint INTEGER, 
    pit_out_time_ms BIGINT, 
    pit_in_time_ms BIGINT, 
    sector1_time_ms BIGINT, 
    sector2_time_ms BIGINT, 
    sector3_time_ms BIGINT, 
    sector1_session_time_ms BIGINT, 
    sector2_session_time_ms BIGINT, 
    sector3_session_time_ms BIGINT, 
    speed_i1 FLOAT, 
    speed_i2 FLOAT, 
    speed_fl FLOAT, 
    speed_st FLOAT, 
    is_personal_best BOOLEAN, 
    compound TEXT, 
    tyre_life INTEGER, 
    fresh_tyre BOOLEAN, 
    team TEXT, 
    lap_start_time_ms BIGINT, 
    lap_start_date_utc TIMESTAMP WITHOUT TIME ZONE, 
    track_status TEXT, 
    position INTEGER, 
    deleted BOOLEAN, 
    deleted_reason TEXT, 
    fast_f1_generated BOOLEAN, 
    is_accurate BOOLEAN, 
    CONSTRAINT pk_laps PRIMARY KEY (year, round_number, session_type, driver_number, lap_number)
);

CREATE TABLE positions (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    sample_index INTEGER NOT NULL, 
    date_utc TIMESTAMP WITHOUT TIME ZONE, 
    session_time_ms BIGINT, 
    time_ms BIGINT, 
    status TEXT, 
    x FLOAT, 
    y FLOAT, 
    z FLOAT, 
    source TEXT, 
    CONSTRAINT pk_positions PRIMARY KEY (year, round_number, session_type, driver_number, sample_index)
);

CREATE TABLE race_control_messages (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    sequence INTEGER NOT NULL, 
    time_utc TIMESTAMP WITHOUT TIME ZONE, 
    category TEXT, 
    message TEXT, 
    status TEXT, 
    flag TEXT, 
    scope TEXT, 
    sector INTEGER, 
    racing_number TEXT, 
    lap INTEGER, 
    CONSTRAINT pk_race_control_messages PRIMARY KEY (year, round_number, session_type, sequence)
);

CREATE TABLE results (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    broadcast_name TEXT, 
    abbreviation TEXT, 
    driver_id TEXT, 
    team_name TEXT, 
    team_color TEXT, 
    team_id TEXT, 
    first_name TEXT, 
    last_name TEXT, 
    full_name TEXT, 
    headshot_url TEXT, 
    country_code TEXT, 
    position INTEGER, 
    classified_position TEXT, 
    grid_position INTEGER, 
    q1_ms BIGINT, 
    q2_ms BIGINT, 
    q3_ms BIGINT, 
    time_ms BIGINT, 
    status TEXT, 
    points FLOAT, 
    laps INTEGER, 
    CONSTRAINT pk_results PRIMARY KEY (year, round_number, session_type, driver_number)
);

CREATE TABLE session_status (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    sequence INTEGER NOT NULL, 
    time_ms BIGINT, 
    status TEXT, 
    CONSTRAINT pk_session_status PRIMARY KEY (year, round_number, session_type, sequence)
);

CREATE TABLE sessions (
    id SERIAL NOT NULL, 
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    event_name TEXT NOT NULL, 
    country TEXT, 
    location TEXT, 
    event_format TEXT, 
    session_start_utc TIMESTAMP WITHOUT TIME ZONE, 
    fastf1_version VARCHAR(20) NOT NULL, 
    results_status VARCHAR(10), 
    laps_status VARCHAR(10), 
    weather_status VARCHAR(10), 
    telemetry_status VARCHAR(10), 
    positions_status VARCHAR(10), 
    session_status_status VARCHAR(10), 
    track_status_status VARCHAR(10), 
    race_control_messages_status VARCHAR(10), 
    loaded_at_utc TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    updated_at_utc TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    CONSTRAINT pk_sessions PRIMARY KEY (id), 
    CONSTRAINT uq_sessions_year UNIQUE (year, round_number, session_type)
);

CREATE TABLE telemetry (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    sample_index INTEGER NOT NULL, 
    date_utc TIMESTAMP WITHOUT TIME ZONE, 
    session_time_ms BIGINT, 
    time_ms BIGINT, 
    rpm FLOAT, 
    speed FLOAT, 
    n_gear INTEGER, 
    throttle FLOAT, 
    brake BOOLEAN, 
    drs INTEGER, 
    source TEXT, 
    CONSTRAINT pk_telemetry PRIMARY KEY (year, round_number, session_type, driver_number, sample_index)
);

CREATE TABLE track_status (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    sequence INTEGER NOT NULL, 
    time_ms BIGINT, 
    status TEXT, 
    message TEXT, 
    CONSTRAINT pk_track_status PRIMARY KEY (year, round_number, session_type, sequence)
);

CREATE TABLE weather (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    sequence INTEGER NOT NULL, 
    time_ms BIGINT, 
    air_temp FLOAT, 
    humidity FLOAT, 
    pressure FLOAT, 
    rainfall BOOLEAN, 
    track_temp FLOAT, 
    wind_direction INTEGER, 
    wind_speed FLOAT, 
    CONSTRAINT pk_weather PRIMARY KEY (year, round_number, session_type, sequence)
);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

CREATE TABLE session_parts (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    table_name VARCHAR(40) NOT NULL, 
    status VARCHAR(10) NOT NULL, 
    reason TEXT, 
    updated_at_utc TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    CONSTRAINT pk_session_parts PRIMARY KEY (year, round_number, session_type, table_name), 
    CONSTRAINT fk_session_parts_sessions FOREIGN KEY(year, round_number, session_type) REFERENCES sessions (year, round_number, session_type) ON DELETE CASCADE
);

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'results', results_status, updated_at_utc FROM sessions WHERE results_status IS NOT NULL;

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'laps', laps_status, updated_at_utc FROM sessions WHERE laps_status IS NOT NULL;

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'weather', weather_status, updated_at_utc FROM sessions WHERE weather_status IS NOT NULL;

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'telemetry', telemetry_status, updated_at_utc FROM sessions WHERE telemetry_status IS NOT NULL;

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'positions', positions_status, updated_at_utc FROM sessions WHERE positions_status IS NOT NULL;

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'session_status', session_status_status, updated_at_utc FROM sessions WHERE session_status_status IS NOT NULL;

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'track_status', track_status_status, updated_at_utc FROM sessions WHERE track_status_status IS NOT NULL;

INSERT INTO session_parts (year, round_number, session_type, table_name, status, updated_at_utc) SELECT year, round_number, session_type, 'race_control_messages', race_control_messages_status, updated_at_utc FROM sessions WHERE race_control_messages_status IS NOT NULL;

ALTER TABLE sessions DROP COLUMN results_status;

ALTER TABLE sessions DROP COLUMN laps_status;

ALTER TABLE sessions DROP COLUMN weather_status;

ALTER TABLE sessions DROP COLUMN telemetry_status;

ALTER TABLE sessions DROP COLUMN positions_status;

ALTER TABLE sessions DROP COLUMN session_status_status;

ALTER TABLE sessions DROP COLUMN track_status_status;

ALTER TABLE sessions DROP COLUMN race_control_messages_status;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

CREATE TABLE session_failures (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    event_name TEXT NOT NULL, 
    reason TEXT NOT NULL, 
    failed_runs INTEGER NOT NULL, 
    failed_at_utc TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    CONSTRAINT pk_session_failures PRIMARY KEY (year, round_number, session_type)
);

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

ALTER TABLE telemetry RENAME TO telemetry_before_0004;

CREATE TABLE telemetry (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    sample_index INTEGER NOT NULL, 
    date_utc TIMESTAMP WITHOUT TIME ZONE, 
    session_time_ms INTEGER, 
    time_ms INTEGER, 
    rpm SMALLINT, 
    speed SMALLINT, 
    n_gear SMALLINT, 
    throttle SMALLINT, 
    drs SMALLINT, 
    brake BOOLEAN, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    source TEXT
);

INSERT INTO telemetry (year, round_number, sample_index, date_utc, session_time_ms, time_ms, rpm, speed, n_gear, throttle, drs, brake, session_type, driver_number, source) SELECT telemetry_before_0004.year, telemetry_before_0004.round_number, telemetry_before_0004.sample_index, telemetry_before_0004.date_utc, CAST(telemetry_before_0004.session_time_ms AS INTEGER) AS session_time_ms, CAST(telemetry_before_0004.time_ms AS INTEGER) AS time_ms, CAST(telemetry_before_0004.rpm AS SMALLINT) AS rpm, CAST(telemetry_before_0004.speed AS SMALLINT) AS speed, CAST(telemetry_before_0004.n_gear AS SMALLINT) AS n_gear, CAST(telemetry_before_0004.throttle AS SMALLINT) AS throttle, CAST(telemetry_before_0004.drs AS SMALLINT) AS drs, telemetry_before_0004.brake, telemetry_before_0004.session_type, telemetry_before_0004.driver_number, telemetry_before_0004.source 
FROM telemetry_before_0004;

DROP TABLE telemetry_before_0004;

ALTER TABLE telemetry ADD CONSTRAINT pk_telemetry PRIMARY KEY (year, round_number, session_type, driver_number, sample_index) WITH (fillfactor = 100);

ALTER TABLE positions RENAME TO positions_before_0004;

CREATE TABLE positions (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    sample_index INTEGER NOT NULL, 
    date_utc TIMESTAMP WITHOUT TIME ZONE, 
    session_time_ms INTEGER, 
    time_ms INTEGER, 
    x INTEGER, 
    y INTEGER, 
    z INTEGER, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    status TEXT, 
    source TEXT
);

INSERT INTO positions (year, round_number, sample_index, date_utc, session_time_ms, time_ms, x, y, z, session_type, driver_number, status, source) SELECT positions_before_0004.year, positions_before_0004.round_number, positions_before_0004.sample_index, positions_before_0004.date_utc, CAST(positions_before_0004.session_time_ms AS INTEGER) AS session_time_ms, CAST(positions_before_0004.time_ms AS INTEGER) AS time_ms, CAST(positions_before_0004.x AS INTEGER) AS x, CAST(positions_before_0004.y AS INTEGER) AS y, CAST(positions_before_0004.z AS INTEGER) AS z, positions_before_0004.session_type, positions_before_0004.driver_number, positions_before_0004.status, positions_before_0004.source 
FROM positions_before_0004;

DROP TABLE positions_before_0004;

ALTER TABLE positions ADD CONSTRAINT pk_positions PRIMARY KEY (year, round_number, session_type, driver_number, sample_index) WITH (fillfactor = 100);

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

CREATE TABLE circuit_layouts (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    circuit_key INTEGER, 
    circuit_short_name TEXT, 
    rotation FLOAT, 
    distances_from TEXT, 
    CONSTRAINT pk_circuit_layouts PRIMARY KEY (year, round_number)
);

CREATE TABLE circuit_markers (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    marker_type TEXT NOT NULL, 
    sequence INTEGER NOT NULL, 
    number INTEGER, 
    letter TEXT, 
    x FLOAT, 
    y FLOAT, 
    angle FLOAT, 
    distance FLOAT, 
    CONSTRAINT pk_circuit_markers PRIMARY KEY (year, round_number, marker_type, sequence)
);

CREATE TABLE constructor_standings (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    constructor_id TEXT NOT NULL, 
    position INTEGER, 
    position_text TEXT, 
    points FLOAT, 
    wins INTEGER, 
    constructor_url TEXT, 
    constructor_name TEXT, 
    constructor_nationality TEXT, 
    CONSTRAINT pk_constructor_standings PRIMARY KEY (year, round_number, constructor_id)
);

CREATE TABLE driver_standings (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    driver_id TEXT NOT NULL, 
    position INTEGER, 
    position_text TEXT, 
    points FLOAT, 
    wins INTEGER, 
    driver_number INTEGER, 
    driver_code TEXT, 
    driver_url TEXT, 
    given_name TEXT, 
    family_name TEXT, 
    date_of_birth DATE, 
    driver_nationality TEXT, 
    constructor_ids TEXT, 
    constructor_urls TEXT, 
    constructor_names TEXT, 
    constructor_nationalities TEXT, 
    CONSTRAINT pk_driver_standings PRIMARY KEY (year, round_number, driver_id)
);

CREATE TABLE events (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    event_name TEXT, 
    official_event_name TEXT, 
    country TEXT, 
    location TEXT, 
    event_format TEXT, 
    event_date DATE, 
    f1_api_support BOOLEAN, 
    CONSTRAINT pk_events PRIMARY KEY (year, round_number)
);

CREATE TABLE session_info (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    meeting_key INTEGER, 
    meeting_name TEXT, 
    meeting_official_name TEXT, 
    meeting_location TEXT, 
    country_key INTEGER, 
    country_code TEXT, 
    country_name TEXT, 
    circuit_key INTEGER, 
    circuit_short_name TEXT, 
    session_key INTEGER, 
    type TEXT, 
    number INTEGER, 
    name TEXT, 
    path TEXT, 
    archive_status TEXT, 
    start_date_utc TIMESTAMP WITHOUT TIME ZONE, 
    end_date_utc TIMESTAMP WITHOUT TIME ZONE, 
    gmt_offset_ms BIGINT, 
    t0_date_utc TIMESTAMP WITHOUT TIME ZONE, 
    session_start_time_ms BIGINT, 
    total_laps INTEGER, 
    CONSTRAINT pk_session_info PRIMARY KEY (year, round_number, session_type)
);

CREATE TABLE event_sessions (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    session_type VARCHAR(40) NOT NULL, 
    session_number SMALLINT, 
    session_start_utc TIMESTAMP WITHOUT TIME ZONE, 
    gmt_offset_ms BIGINT, 
    CONSTRAINT pk_event_sessions PRIMARY KEY (year, round_number, session_type), 
    CONSTRAINT fk_event_sessions_events FOREIGN KEY(year, round_number) REFERENCES events (year, round_number) ON DELETE CASCADE
);

CREATE VIEW stints AS
SELECT s.year, s.round_number, s.session_type, s.driver_number, s.stint,
       (SELECT l.driver FROM laps l WHERE l.year = s.year AND l.round_number = s.round_number
       AND l.session_type = s.session_type AND l.driver_number = s.driver_number
            AND l.stint = s.stint AND l.driver IS NOT NULL
            ORDER BY l.lap_number LIMIT 1) AS driver,
       (SELECT l.team FROM laps l WHERE l.year = s.year AND l.round_number = s.round_number
       AND l.session_type = s.session_type AND l.driver_number = s.driver_number
            AND l.stint = s.stint AND l.team IS NOT NULL
            ORDER BY l.lap_number LIMIT 1) AS team,
       (SELECT l.compound FROM laps l WHERE l.year = s.year AND l.round_number = s.round_number
       AND l.session_type = s.session_type AND l.driver_number = s.driver_number
            AND l.stint = s.stint AND l.compound IS NOT NULL
            ORDER BY l.lap_number LIMIT 1) AS compound,
       (SELECT l.fresh_tyre FROM laps l WHERE l.year = s.year AND l.round_number = s.round_number
       AND l.session_type = s.session_type AND l.driver_number = s.driver_number
            AND l.stint = s.stint AND l.fresh_tyre IS NOT NULL
            ORDER BY l.lap_number LIMIT 1) AS fresh_tyre,
       s.first_lap, s.last_lap, s.laps, s.tyre_life_start, s.tyre_life_end
FROM (SELECT year, round_number, session_type, driver_number, stint,
             MIN(lap_number) AS first_lap, MAX(lap_number) AS last_lap, COUNT(*) AS laps,
             MIN(tyre_life) AS tyre_life_start, MAX(tyre_life) AS tyre_life_end
      FROM laps WHERE stint IS NOT NULL
      GROUP BY year, round_number, session_type, driver_number, stint) s;

CREATE VIEW pit_stops AS
SELECT i.year, i.round_number, i.session_type, i.driver_number, i.driver, i.team,
       i.lap_number AS lap, i.stint, i.pit_in_time_ms, o.pit_out_time_ms,
       o.pit_out_time_ms - i.pit_in_time_ms AS pit_lane_time_ms,
       o.compound AS compound_after
FROM laps i
LEFT JOIN laps o ON o.year = i.year AND o.round_number = i.round_number
       AND o.session_type = i.session_type AND o.driver_number = i.driver_number AND o.lap_number = i.lap_number + 1
WHERE i.pit_in_time_ms IS NOT NULL;

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

CREATE VIEW race_features AS
WITH race_results AS (
  SELECT r.year, r.round_number, r.session_type, r.driver_number, r.abbreviation,
         r.driver_id, r.team_id, r.team_name, r.grid_position, r.position,
         r.classified_position, r.status, r.points,
         CASE WHEN r.session_type = 'Race' OR r.year <= 2022 THEN 'Qualifying'
                 WHEN r.year = 2023 THEN 'Sprint Shootout'
                 ELSE 'Sprint Qualifying' END AS qualifying_session_type,
         r.year * 100 + r.round_number AS round_order
  FROM results r WHERE r.session_type IN ('Race', 'Sprint')
), qualifying_laps AS (
    SELECT year, round_number, session_type, driver_number, q1_ms AS lap_ms
    FROM results WHERE session_type IN ('Qualifying', 'Sprint Shootout', 'Sprint Qualifying')
  UNION ALL
    SELECT year, round_number, session_type, driver_number, q2_ms AS lap_ms
    FROM results WHERE session_type IN ('Qualifying', 'Sprint Shootout', 'Sprint Qualifying')
  UNION ALL
    SELECT year, round_number, session_type, driver_number, q3_ms AS lap_ms
    FROM results WHERE session_type IN ('Qualifying', 'Sprint Shootout', 'Sprint Qualifying')
), qualifying_best AS (
  SELECT year, round_number, session_type, driver_number, MIN(lap_ms) AS best_ms
  FROM qualifying_laps GROUP BY year, round_number, session_type, driver_number
), qualifying AS (
  SELECT q.year, q.round_number, q.session_type, q.driver_number, q.position, b.best_ms
  FROM results q JOIN qualifying_best b ON b.year = q.year AND b.round_number = q.round_number AND b.session_type = q.session_type AND b.driver_number = q.driver_number
), pole AS (
  SELECT year, round_number, session_type, MIN(best_ms) AS pole_ms
  FROM qualifying_best GROUP BY year, round_number, session_type
), teammate AS (
  SELECT r.year, r.round_number, r.session_type, r.driver_number,
         MIN(q.best_ms) AS teammate_best_ms
  FROM race_results r
  JOIN race_results m ON m.year = r.year AND m.round_number = r.round_number AND m.session_type = r.session_type AND m.team_id = r.team_id
       AND m.driver_number <> r.driver_number AND m.team_id <> ''
  JOIN qualifying q ON q.year = m.year AND q.round_number = m.round_number AND q.driver_number = m.driver_number
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
  SELECT e.year, e.round_number, MAX(d.round_number) AS standings_round
    FROM (SELECT DISTINCT year, round_number FROM race_results) e
    JOIN driver_standings d ON d.year = e.year AND d.round_number < e.round_number
    GROUP BY e.year, e.round_number
), team_round AS (
  SELECT e.year, e.round_number, MAX(d.round_number) AS standings_round
    FROM (SELECT DISTINCT year, round_number FROM race_results) e
    JOIN constructor_standings d ON d.year = e.year AND d.round_number < e.round_number
    GROUP BY e.year, e.round_number
), start_weather AS (
  SELECT s.year, s.round_number, s.session_type,
         (SELECT w.sequence FROM weather w WHERE w.year = s.year AND w.round_number = s.round_number AND w.session_type = s.session_type
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
       CASE WHEN r.round_number = 1 THEN 0.0 WHEN dr.standings_round IS NULL THEN NULL ELSE COALESCE(ds.points, 0.0) END AS championship_points_before,
       CASE WHEN r.round_number = 1 THEN 0 WHEN dr.standings_round IS NULL THEN NULL ELSE COALESCE(ds.wins, 0) END AS championship_wins_before,
       cs.position AS team_championship_position_before,
       CASE WHEN r.round_number = 1 THEN 0.0 WHEN tr.standings_round IS NULL THEN NULL ELSE COALESCE(cs.points, 0.0) END AS team_championship_points_before,
       h.position AS previous_race_position,
       COALESCE(p.races_before, 0) AS races_before,
       w.air_temp AS air_temp_start, w.track_temp AS track_temp_start,
       w.humidity AS humidity_start, w.rainfall AS rainfall_start,
       w.wind_speed AS wind_speed_start,
       r.position AS finishing_position, r.classified_position, r.status, r.points
FROM race_results r
LEFT JOIN events e ON e.year = r.year AND e.round_number = r.round_number
LEFT JOIN sessions s ON s.year = r.year AND s.round_number = r.round_number AND s.session_type = r.session_type
LEFT JOIN session_info si ON si.year = r.year AND si.round_number = r.round_number AND si.session_type = r.session_type
LEFT JOIN qualifying q ON q.year = r.year AND q.round_number = r.round_number AND q.driver_number = r.driver_number
     AND q.session_type = r.qualifying_session_type
LEFT JOIN pole ON pole.year = q.year AND pole.round_number = q.round_number AND pole.session_type = q.session_type
LEFT JOIN teammate mate ON mate.year = r.year AND mate.round_number = r.round_number AND mate.session_type = r.session_type AND mate.driver_number = r.driver_number
LEFT JOIN driver_round dr ON dr.year = r.year AND dr.round_number = r.round_number
LEFT JOIN driver_standings ds ON ds.year = r.year AND ds.round_number = dr.standings_round
     AND ds.driver_id = r.driver_id
LEFT JOIN team_round tr ON tr.year = r.year AND tr.round_number = r.round_number
LEFT JOIN constructor_standings cs ON cs.year = r.year
     AND cs.round_number = tr.standings_round AND cs.constructor_id = r.team_id
LEFT JOIN previous_races p ON p.year = r.year AND p.round_number = r.round_number AND p.session_type = r.session_type AND p.driver_number = r.driver_number
LEFT JOIN race_history h ON h.driver_id = r.driver_id AND h.round_order = p.previous_order
LEFT JOIN start_weather sw ON sw.year = r.year AND sw.round_number = r.round_number AND sw.session_type = r.session_type
LEFT JOIN weather w ON w.year = r.year AND w.round_number = r.round_number AND w.session_type = r.session_type AND w.sequence = sw.sequence;

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Running upgrade 0006 -> 0007

ALTER TABLE results ADD COLUMN row_order INTEGER;

ALTER TABLE laps ADD COLUMN row_order INTEGER;

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

-- Running upgrade 0007 -> 0008

CREATE TABLE history_circuits (
    circuit_id TEXT NOT NULL, 
    circuit_name TEXT, 
    locality TEXT, 
    country TEXT, 
    latitude FLOAT, 
    longitude FLOAT, 
    url TEXT, 
    CONSTRAINT pk_history_circuits PRIMARY KEY (circuit_id)
);

CREATE TABLE history_constructor_standings (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    constructor_id TEXT NOT NULL, 
    position INTEGER, 
    position_text TEXT, 
    points FLOAT, 
    wins INTEGER, 
    CONSTRAINT pk_history_constructor_standings PRIMARY KEY (year, round_number, constructor_id)
);

CREATE TABLE history_constructors (
    constructor_id TEXT NOT NULL, 
    name TEXT, 
    nationality TEXT, 
    url TEXT, 
    CONSTRAINT pk_history_constructors PRIMARY KEY (constructor_id)
);

CREATE TABLE history_driver_standings (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    driver_id TEXT NOT NULL, 
    position INTEGER, 
    position_text TEXT, 
    points FLOAT, 
    wins INTEGER, 
    constructor_ids TEXT, 
    CONSTRAINT pk_history_driver_standings PRIMARY KEY (year, round_number, driver_id)
);

CREATE TABLE history_drivers (
    driver_id TEXT NOT NULL, 
    code TEXT, 
    permanent_number INTEGER, 
    given_name TEXT, 
    family_name TEXT, 
    date_of_birth DATE, 
    nationality TEXT, 
    url TEXT, 
    CONSTRAINT pk_history_drivers PRIMARY KEY (driver_id)
);

CREATE TABLE history_lap_times (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    driver_id TEXT NOT NULL, 
    lap_number INTEGER NOT NULL, 
    position INTEGER, 
    time_ms BIGINT, 
    CONSTRAINT pk_history_lap_times PRIMARY KEY (year, round_number, driver_id, lap_number)
);

CREATE TABLE history_pit_stops (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    driver_id TEXT NOT NULL, 
    stop INTEGER NOT NULL, 
    lap_number INTEGER, 
    local_time TEXT, 
    duration_ms BIGINT, 
    CONSTRAINT pk_history_pit_stops PRIMARY KEY (year, round_number, driver_id, stop)
);

CREATE TABLE history_qualifying (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    position INTEGER NOT NULL, 
    car_number INTEGER, 
    driver_id TEXT, 
    constructor_id TEXT, 
    q1_ms BIGINT, 
    q2_ms BIGINT, 
    q3_ms BIGINT, 
    CONSTRAINT pk_history_qualifying PRIMARY KEY (year, round_number, position)
);

CREATE TABLE history_races (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    race_name TEXT, 
    circuit_id TEXT, 
    race_date DATE, 
    race_time_utc TEXT, 
    url TEXT, 
    source VARCHAR(10) NOT NULL, 
    dump_date DATE, 
    digest VARCHAR(64) NOT NULL, 
    stored_at_utc TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    CONSTRAINT pk_history_races PRIMARY KEY (year, round_number)
);

CREATE TABLE history_results (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    position INTEGER NOT NULL, 
    position_text TEXT, 
    car_number INTEGER, 
    driver_id TEXT, 
    constructor_id TEXT, 
    grid INTEGER, 
    laps INTEGER, 
    status TEXT, 
    points FLOAT, 
    time_ms BIGINT, 
    fastest_lap_rank INTEGER, 
    fastest_lap_number INTEGER, 
    fastest_lap_time_ms BIGINT, 
    fastest_lap_average_speed_kph FLOAT, 
    CONSTRAINT pk_history_results PRIMARY KEY (year, round_number, position)
);

CREATE TABLE history_sprint_results (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    position INTEGER NOT NULL, 
    position_text TEXT, 
    car_number INTEGER, 
    driver_id TEXT, 
    constructor_id TEXT, 
    grid INTEGER, 
    laps INTEGER, 
    status TEXT, 
    points FLOAT, 
    time_ms BIGINT, 
    fastest_lap_rank INTEGER, 
    fastest_lap_number INTEGER, 
    fastest_lap_time_ms BIGINT, 
    fastest_lap_average_speed_kph FLOAT, 
    CONSTRAINT pk_history_sprint_results PRIMARY KEY (year, round_number, position)
);

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';

-- Running upgrade 0008 -> 0009

CREATE TABLE IF NOT EXISTS request_budget (at double precision NOT NULL, jolpica boolean NOT NULL);

CREATE INDEX IF NOT EXISTS ix_request_budget_at ON request_budget (at);

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0008';

-- Running upgrade 0009 -> 0010

CREATE TABLE sample_numbers (
    i SMALLSERIAL NOT NULL, 
    CONSTRAINT pk_sample_numbers PRIMARY KEY (i)
);

INSERT INTO sample_numbers (i) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 511) SELECT i FROM n;

CREATE TABLE telemetry_chunks (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    first_sample INTEGER NOT NULL, 
    samples SMALLINT NOT NULL, 
    start_ms INTEGER, 
    end_ms INTEGER, 
    date_utc_base BIGINT, 
    session_time_ms_base BIGINT, 
    time_ms_base BIGINT, 
    rpm_base BIGINT, 
    speed_base BIGINT, 
    n_gear_base BIGINT, 
    throttle_base BIGINT, 
    drs_base BIGINT, 
    brake_base BIGINT, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    source TEXT, 
    date_utc BYTEA NOT NULL, 
    session_time_ms BYTEA NOT NULL, 
    time_ms BYTEA NOT NULL, 
    rpm BYTEA NOT NULL, 
    speed BYTEA NOT NULL, 
    n_gear BYTEA NOT NULL, 
    throttle BYTEA NOT NULL, 
    drs BYTEA NOT NULL, 
    brake BYTEA NOT NULL, 
    CONSTRAINT pk_telemetry_chunks PRIMARY KEY (year, round_number, session_type, driver_number, first_sample)
);

ALTER INDEX pk_telemetry_chunks SET (fillfactor = 100);

DROP TABLE telemetry;

CREATE VIEW telemetry AS SELECT d.year AS year, d.round_number AS round_number, d.sample_index AS sample_index, (TIMESTAMP '1970-01-01 00:00:00' + d.date_utc * INTERVAL '1 microsecond') AS date_utc, CAST((d.session_time_ms + COALESCE(d.date_utc / 1000, 0)) AS integer) AS session_time_ms, CAST((d.time_ms + COALESCE((d.session_time_ms + COALESCE(d.date_utc / 1000, 0)) / 1, 0)) AS integer) AS time_ms, CAST(d.rpm AS smallint) AS rpm, CAST(d.speed AS smallint) AS speed, CAST(d.n_gear AS smallint) AS n_gear, CAST(d.throttle AS smallint) AS throttle, CAST(d.drs AS smallint) AS drs, (d.brake = 1) AS brake, d.session_type AS session_type, d.driver_number AS driver_number, d.source AS source FROM (SELECT c.year, c.round_number, c.session_type, c.driver_number, c.first_sample + n.i AS sample_index, c.date_utc_base + CASE length(c.date_utc) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.date_utc, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.date_utc, n.i * 2)::bigint | (get_byte(c.date_utc, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.date_utc, n.i * 4)::bigint | (get_byte(c.date_utc, n.i * 4 + 1)::bigint << 8) | (get_byte(c.date_utc, n.i * 4 + 2)::bigint << 16) | (get_byte(c.date_utc, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.date_utc, n.i * 8)::bigint | (get_byte(c.date_utc, n.i * 8 + 1)::bigint << 8) | (get_byte(c.date_utc, n.i * 8 + 2)::bigint << 16) | (get_byte(c.date_utc, n.i * 8 + 3)::bigint << 24) | (get_byte(c.date_utc, n.i * 8 + 4)::bigint << 32) | (get_byte(c.date_utc, n.i * 8 + 5)::bigint << 40) | (get_byte(c.date_utc, n.i * 8 + 6)::bigint << 48) | (get_byte(c.date_utc, n.i * 8 + 7)::bigint << 56), -1) END AS date_utc, c.session_time_ms_base + CASE length(c.session_time_ms) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.session_time_ms, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.session_time_ms, n.i * 2)::bigint | (get_byte(c.session_time_ms, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.session_time_ms, n.i * 4)::bigint | (get_byte(c.session_time_ms, n.i * 4 + 1)::bigint << 8) | (get_byte(c.session_time_ms, n.i * 4 + 2)::bigint << 16) | (get_byte(c.session_time_ms, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.session_time_ms, n.i * 8)::bigint | (get_byte(c.session_time_ms, n.i * 8 + 1)::bigint << 8) | (get_byte(c.session_time_ms, n.i * 8 + 2)::bigint << 16) | (get_byte(c.session_time_ms, n.i * 8 + 3)::bigint << 24) | (get_byte(c.session_time_ms, n.i * 8 + 4)::bigint << 32) | (get_byte(c.session_time_ms, n.i * 8 + 5)::bigint << 40) | (get_byte(c.session_time_ms, n.i * 8 + 6)::bigint << 48) | (get_byte(c.session_time_ms, n.i * 8 + 7)::bigint << 56), -1) END AS session_time_ms, c.time_ms_base + CASE length(c.time_ms) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.time_ms, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.time_ms, n.i * 2)::bigint | (get_byte(c.time_ms, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.time_ms, n.i * 4)::bigint | (get_byte(c.time_ms, n.i * 4 + 1)::bigint << 8) | (get_byte(c.time_ms, n.i * 4 + 2)::bigint << 16) | (get_byte(c.time_ms, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.time_ms, n.i * 8)::bigint | (get_byte(c.time_ms, n.i * 8 + 1)::bigint << 8) | (get_byte(c.time_ms, n.i * 8 + 2)::bigint << 16) | (get_byte(c.time_ms, n.i * 8 + 3)::bigint << 24) | (get_byte(c.time_ms, n.i * 8 + 4)::bigint << 32) | (get_byte(c.time_ms, n.i * 8 + 5)::bigint << 40) | (get_byte(c.time_ms, n.i * 8 + 6)::bigint << 48) | (get_byte(c.time_ms, n.i * 8 + 7)::bigint << 56), -1) END AS time_ms, c.rpm_base + CASE length(c.rpm) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.rpm, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.rpm, n.i * 2)::bigint | (get_byte(c.rpm, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.rpm, n.i * 4)::bigint | (get_byte(c.rpm, n.i * 4 + 1)::bigint << 8) | (get_byte(c.rpm, n.i * 4 + 2)::bigint << 16) | (get_byte(c.rpm, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.rpm, n.i * 8)::bigint | (get_byte(c.rpm, n.i * 8 + 1)::bigint << 8) | (get_byte(c.rpm, n.i * 8 + 2)::bigint << 16) | (get_byte(c.rpm, n.i * 8 + 3)::bigint << 24) | (get_byte(c.rpm, n.i * 8 + 4)::bigint << 32) | (get_byte(c.rpm, n.i * 8 + 5)::bigint << 40) | (get_byte(c.rpm, n.i * 8 + 6)::bigint << 48) | (get_byte(c.rpm, n.i * 8 + 7)::bigint << 56), -1) END AS rpm, c.speed_base + CASE length(c.speed) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.speed, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.speed, n.i * 2)::bigint | (get_byte(c.speed, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.speed, n.i * 4)::bigint | (get_byte(c.speed, n.i * 4 + 1)::bigint << 8) | (get_byte(c.speed, n.i * 4 + 2)::bigint << 16) | (get_byte(c.speed, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.speed, n.i * 8)::bigint | (get_byte(c.speed, n.i * 8 + 1)::bigint << 8) | (get_byte(c.speed, n.i * 8 + 2)::bigint << 16) | (get_byte(c.speed, n.i * 8 + 3)::bigint << 24) | (get_byte(c.speed, n.i * 8 + 4)::bigint << 32) | (get_byte(c.speed, n.i * 8 + 5)::bigint << 40) | (get_byte(c.speed, n.i * 8 + 6)::bigint << 48) | (get_byte(c.speed, n.i * 8 + 7)::bigint << 56), -1) END AS speed, c.n_gear_base + CASE length(c.n_gear) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.n_gear, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.n_gear, n.i * 2)::bigint | (get_byte(c.n_gear, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.n_gear, n.i * 4)::bigint | (get_byte(c.n_gear, n.i * 4 + 1)::bigint << 8) | (get_byte(c.n_gear, n.i * 4 + 2)::bigint << 16) | (get_byte(c.n_gear, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.n_gear, n.i * 8)::bigint | (get_byte(c.n_gear, n.i * 8 + 1)::bigint << 8) | (get_byte(c.n_gear, n.i * 8 + 2)::bigint << 16) | (get_byte(c.n_gear, n.i * 8 + 3)::bigint << 24) | (get_byte(c.n_gear, n.i * 8 + 4)::bigint << 32) | (get_byte(c.n_gear, n.i * 8 + 5)::bigint << 40) | (get_byte(c.n_gear, n.i * 8 + 6)::bigint << 48) | (get_byte(c.n_gear, n.i * 8 + 7)::bigint << 56), -1) END AS n_gear, c.throttle_base + CASE length(c.throttle) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.throttle, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.throttle, n.i * 2)::bigint | (get_byte(c.throttle, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.throttle, n.i * 4)::bigint | (get_byte(c.throttle, n.i * 4 + 1)::bigint << 8) | (get_byte(c.throttle, n.i * 4 + 2)::bigint << 16) | (get_byte(c.throttle, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.throttle, n.i * 8)::bigint | (get_byte(c.throttle, n.i * 8 + 1)::bigint << 8) | (get_byte(c.throttle, n.i * 8 + 2)::bigint << 16) | (get_byte(c.throttle, n.i * 8 + 3)::bigint << 24) | (get_byte(c.throttle, n.i * 8 + 4)::bigint << 32) | (get_byte(c.throttle, n.i * 8 + 5)::bigint << 40) | (get_byte(c.throttle, n.i * 8 + 6)::bigint << 48) | (get_byte(c.throttle, n.i * 8 + 7)::bigint << 56), -1) END AS throttle, c.drs_base + CASE length(c.drs) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.drs, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.drs, n.i * 2)::bigint | (get_byte(c.drs, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.drs, n.i * 4)::bigint | (get_byte(c.drs, n.i * 4 + 1)::bigint << 8) | (get_byte(c.drs, n.i * 4 + 2)::bigint << 16) | (get_byte(c.drs, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.drs, n.i * 8)::bigint | (get_byte(c.drs, n.i * 8 + 1)::bigint << 8) | (get_byte(c.drs, n.i * 8 + 2)::bigint << 16) | (get_byte(c.drs, n.i * 8 + 3)::bigint << 24) | (get_byte(c.drs, n.i * 8 + 4)::bigint << 32) | (get_byte(c.drs, n.i * 8 + 5)::bigint << 40) | (get_byte(c.drs, n.i * 8 + 6)::bigint << 48) | (get_byte(c.drs, n.i * 8 + 7)::bigint << 56), -1) END AS drs, c.brake_base + CASE length(c.brake) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.brake, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.brake, n.i * 2)::bigint | (get_byte(c.brake, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.brake, n.i * 4)::bigint | (get_byte(c.brake, n.i * 4 + 1)::bigint << 8) | (get_byte(c.brake, n.i * 4 + 2)::bigint << 16) | (get_byte(c.brake, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.brake, n.i * 8)::bigint | (get_byte(c.brake, n.i * 8 + 1)::bigint << 8) | (get_byte(c.brake, n.i * 8 + 2)::bigint << 16) | (get_byte(c.brake, n.i * 8 + 3)::bigint << 24) | (get_byte(c.brake, n.i * 8 + 4)::bigint << 32) | (get_byte(c.brake, n.i * 8 + 5)::bigint << 40) | (get_byte(c.brake, n.i * 8 + 6)::bigint << 48) | (get_byte(c.brake, n.i * 8 + 7)::bigint << 56), -1) END AS brake, c.source FROM telemetry_chunks c JOIN sample_numbers n ON n.i < c.samples) d;

CREATE TABLE positions_chunks (
    year SMALLINT NOT NULL, 
    round_number SMALLINT NOT NULL, 
    first_sample INTEGER NOT NULL, 
    samples SMALLINT NOT NULL, 
    start_ms INTEGER, 
    end_ms INTEGER, 
    date_utc_base BIGINT, 
    session_time_ms_base BIGINT, 
    time_ms_base BIGINT, 
    x_base BIGINT, 
    y_base BIGINT, 
    z_base BIGINT, 
    session_type VARCHAR(40) NOT NULL, 
    driver_number TEXT NOT NULL, 
    status TEXT, 
    source TEXT, 
    date_utc BYTEA NOT NULL, 
    session_time_ms BYTEA NOT NULL, 
    time_ms BYTEA NOT NULL, 
    x BYTEA NOT NULL, 
    y BYTEA NOT NULL, 
    z BYTEA NOT NULL, 
    CONSTRAINT pk_positions_chunks PRIMARY KEY (year, round_number, session_type, driver_number, first_sample)
);

ALTER INDEX pk_positions_chunks SET (fillfactor = 100);

DROP TABLE positions;

CREATE VIEW positions AS SELECT d.year AS year, d.round_number AS round_number, d.sample_index AS sample_index, (TIMESTAMP '1970-01-01 00:00:00' + d.date_utc * INTERVAL '1 microsecond') AS date_utc, CAST((d.session_time_ms + COALESCE(d.date_utc / 1000, 0)) AS integer) AS session_time_ms, CAST((d.time_ms + COALESCE((d.session_time_ms + COALESCE(d.date_utc / 1000, 0)) / 1, 0)) AS integer) AS time_ms, CAST(d.x AS integer) AS x, CAST(d.y AS integer) AS y, CAST(d.z AS integer) AS z, d.session_type AS session_type, d.driver_number AS driver_number, d.status AS status, d.source AS source FROM (SELECT c.year, c.round_number, c.session_type, c.driver_number, c.first_sample + n.i AS sample_index, c.date_utc_base + CASE length(c.date_utc) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.date_utc, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.date_utc, n.i * 2)::bigint | (get_byte(c.date_utc, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.date_utc, n.i * 4)::bigint | (get_byte(c.date_utc, n.i * 4 + 1)::bigint << 8) | (get_byte(c.date_utc, n.i * 4 + 2)::bigint << 16) | (get_byte(c.date_utc, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.date_utc, n.i * 8)::bigint | (get_byte(c.date_utc, n.i * 8 + 1)::bigint << 8) | (get_byte(c.date_utc, n.i * 8 + 2)::bigint << 16) | (get_byte(c.date_utc, n.i * 8 + 3)::bigint << 24) | (get_byte(c.date_utc, n.i * 8 + 4)::bigint << 32) | (get_byte(c.date_utc, n.i * 8 + 5)::bigint << 40) | (get_byte(c.date_utc, n.i * 8 + 6)::bigint << 48) | (get_byte(c.date_utc, n.i * 8 + 7)::bigint << 56), -1) END AS date_utc, c.session_time_ms_base + CASE length(c.session_time_ms) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.session_time_ms, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.session_time_ms, n.i * 2)::bigint | (get_byte(c.session_time_ms, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.session_time_ms, n.i * 4)::bigint | (get_byte(c.session_time_ms, n.i * 4 + 1)::bigint << 8) | (get_byte(c.session_time_ms, n.i * 4 + 2)::bigint << 16) | (get_byte(c.session_time_ms, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.session_time_ms, n.i * 8)::bigint | (get_byte(c.session_time_ms, n.i * 8 + 1)::bigint << 8) | (get_byte(c.session_time_ms, n.i * 8 + 2)::bigint << 16) | (get_byte(c.session_time_ms, n.i * 8 + 3)::bigint << 24) | (get_byte(c.session_time_ms, n.i * 8 + 4)::bigint << 32) | (get_byte(c.session_time_ms, n.i * 8 + 5)::bigint << 40) | (get_byte(c.session_time_ms, n.i * 8 + 6)::bigint << 48) | (get_byte(c.session_time_ms, n.i * 8 + 7)::bigint << 56), -1) END AS session_time_ms, c.time_ms_base + CASE length(c.time_ms) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.time_ms, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.time_ms, n.i * 2)::bigint | (get_byte(c.time_ms, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.time_ms, n.i * 4)::bigint | (get_byte(c.time_ms, n.i * 4 + 1)::bigint << 8) | (get_byte(c.time_ms, n.i * 4 + 2)::bigint << 16) | (get_byte(c.time_ms, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.time_ms, n.i * 8)::bigint | (get_byte(c.time_ms, n.i * 8 + 1)::bigint << 8) | (get_byte(c.time_ms, n.i * 8 + 2)::bigint << 16) | (get_byte(c.time_ms, n.i * 8 + 3)::bigint << 24) | (get_byte(c.time_ms, n.i * 8 + 4)::bigint << 32) | (get_byte(c.time_ms, n.i * 8 + 5)::bigint << 40) | (get_byte(c.time_ms, n.i * 8 + 6)::bigint << 48) | (get_byte(c.time_ms, n.i * 8 + 7)::bigint << 56), -1) END AS time_ms, c.x_base + CASE length(c.x) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.x, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.x, n.i * 2)::bigint | (get_byte(c.x, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.x, n.i * 4)::bigint | (get_byte(c.x, n.i * 4 + 1)::bigint << 8) | (get_byte(c.x, n.i * 4 + 2)::bigint << 16) | (get_byte(c.x, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.x, n.i * 8)::bigint | (get_byte(c.x, n.i * 8 + 1)::bigint << 8) | (get_byte(c.x, n.i * 8 + 2)::bigint << 16) | (get_byte(c.x, n.i * 8 + 3)::bigint << 24) | (get_byte(c.x, n.i * 8 + 4)::bigint << 32) | (get_byte(c.x, n.i * 8 + 5)::bigint << 40) | (get_byte(c.x, n.i * 8 + 6)::bigint << 48) | (get_byte(c.x, n.i * 8 + 7)::bigint << 56), -1) END AS x, c.y_base + CASE length(c.y) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.y, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.y, n.i * 2)::bigint | (get_byte(c.y, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.y, n.i * 4)::bigint | (get_byte(c.y, n.i * 4 + 1)::bigint << 8) | (get_byte(c.y, n.i * 4 + 2)::bigint << 16) | (get_byte(c.y, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.y, n.i * 8)::bigint | (get_byte(c.y, n.i * 8 + 1)::bigint << 8) | (get_byte(c.y, n.i * 8 + 2)::bigint << 16) | (get_byte(c.y, n.i * 8 + 3)::bigint << 24) | (get_byte(c.y, n.i * 8 + 4)::bigint << 32) | (get_byte(c.y, n.i * 8 + 5)::bigint << 40) | (get_byte(c.y, n.i * 8 + 6)::bigint << 48) | (get_byte(c.y, n.i * 8 + 7)::bigint << 56), -1) END AS y, c.z_base + CASE length(c.z) / c.samples WHEN 0 THEN 0 WHEN 1 THEN NULLIF(get_byte(c.z, n.i * 1)::bigint, 255) WHEN 2 THEN NULLIF(get_byte(c.z, n.i * 2)::bigint | (get_byte(c.z, n.i * 2 + 1)::bigint << 8), 65535) WHEN 4 THEN NULLIF(get_byte(c.z, n.i * 4)::bigint | (get_byte(c.z, n.i * 4 + 1)::bigint << 8) | (get_byte(c.z, n.i * 4 + 2)::bigint << 16) | (get_byte(c.z, n.i * 4 + 3)::bigint << 24), 4294967295) WHEN 8 THEN NULLIF(get_byte(c.z, n.i * 8)::bigint | (get_byte(c.z, n.i * 8 + 1)::bigint << 8) | (get_byte(c.z, n.i * 8 + 2)::bigint << 16) | (get_byte(c.z, n.i * 8 + 3)::bigint << 24) | (get_byte(c.z, n.i * 8 + 4)::bigint << 32) | (get_byte(c.z, n.i * 8 + 5)::bigint << 40) | (get_byte(c.z, n.i * 8 + 6)::bigint << 48) | (get_byte(c.z, n.i * 8 + 7)::bigint << 56), -1) END AS z, c.status, c.source FROM positions_chunks c JOIN sample_numbers n ON n.i < c.samples) d;

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';

COMMIT;

