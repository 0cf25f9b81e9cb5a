"""A few rounds of Jolpica history twice: as the API's JSON and as Jolpica's CSV dump.

The project loads history either from Jolpica's API (through FastF1's Ergast interface) or
from Jolpica's CSV database dump; both must give identical tables. This module makes, for
four rounds, (1) the complete API answers (:func:`made_rounds`, :func:`api_responses`) and
(2) a dump zip (:func:`dump_zip`) whose rows Jolpica's own Ergast-compatible API
(jolpica-f1, ``jolpica_api/ergastapi/serializers.py`` and ``views.py``) would serialize back
into exactly those answers. The dump follows ``jolpica/formula_one/models/models.dbml``
(its columns) and ``scripts/generate_csv_dump.py`` (its text format).

What is recorded and what is SYNTHETIC (made up), per round and list. "Recorded" means
copied unchanged from ``../shared/fastf1-recorded`` (real Jolpica answers):

* 2023 round 1, Bahrain Grand Prix:
  race header and ``results``: recorded (``2023/1/results.json``);
  ``laps``: the first 100 timings (laps 1-5) recorded (``2023/1/laps.json?limit=1200``),
  laps 6-57 SYNTHETIC (each driver runs as many laps as his result says, in his finishing
  order, slower than his recorded fastest lap, which is run on its recorded lap);
  ``pit_stops``: SYNTHETIC (1-3 a classified finisher, one longer than a minute);
  ``driver_standings`` / ``constructor_standings``: SYNTHETIC, the race alone, made as
  support/synthetic_jolpica.py makes them; ``sprint``, ``qualifying``: none (empty).
* 2022 round 2, Saudi Arabian Grand Prix:
  race header, ``results`` and ``qualifying``: recorded (``2022/2/results.json``,
  ``2022/2/qualifying.json``); ``laps``: lap 1 recorded (``2022/2/laps/1.json``), laps
  2-50 SYNTHETIC (as for 2023); ``pit_stops``: SYNTHETIC; ``sprint`` and the standings:
  none (empty: Jolpica answers total "0").
* 2023 round 4, Azerbaijan Grand Prix (a sprint weekend):
  race header, ``qualifying`` and ``sprint``: recorded (``2023/4/qualifying.json``,
  ``2023/4/sprint.json``); ``results``, ``laps``, ``pit_stops``: none (empty, the race
  is not in the set); standings: SYNTHETIC, round 1's race plus this sprint (rounds 2-3
  are not in the set and count nothing).
* 1979 round 1, Argentine Grand Prix:
  race header: recorded (the ``1979.json`` schedule); ``results``: SYNTHETIC, the rows
  support/synthetic_history.py makes (recorded 2022 Bahrain values, no driver code or
  permanent number, no fastest lap) with made-up drivers (``era_driver_NN``, one
  Driver row per id must serve every season, so the 2022 drivers cannot appear twice
  with different fields), the 10th placed car a shared drive (two rows, "0.5" points
  each), the 20th disqualified ("D") and a made-up 22nd who did not qualify ("F");
  standings: SYNTHETIC, the race alone (the non-qualifier not eligible: "-");
  ``sprint``, ``qualifying``, ``laps``, ``pit_stops``: none (Jolpica has none for 1979).

The dump holds everything the rounds show plus SYNTHETIC rows the API never shows, which
a reader must leave out: circuit altitudes, country codes, team colours, base teams, point
and championship systems, a reserve driver with no entries (Ricciardo, Red Bull 2023),
an FP1 session with entries and flagged fastest laps, a sprint shootout (SQ1) session,
qualifying split into Q1/Q2/Q3 session entries (a deleted faster lap and a slower lap next
to each flagged one for the pole sitter), championship rows of the sprint session with
``round_id`` empty, ``season_id`` set only on the last round of a season, and (by
default) one unknown column in three tables.

Serialization rules followed (jolpica-f1; models.dbml is newer than serializers.py: a
session entry's fastest lap is its ``formula_one_lap`` row with ``is_entry_fastest_lap``,
a session's time is ``timestamp`` + ``has_time_data``):

* results/sprint: one row per session entry of the round's R (SR) session, by position;
  ``positionText`` the position when ``is_classified``, else by ``status``: 30 "W",
  20 "D", 40/41 "F", anything else "R"; ``status`` is ``detail``; ``points`` left out
  when NULL, "25"/"0.5"; ``Time`` when the entry has a time: ``millis`` =
  int(seconds * 1000), ``time`` the winner's ``str(td)[:-3].lstrip("0:")``, the others
  "+" + format_timedelta(gap); ``FastestLap`` when a lap is flagged: ``rank`` (left out
  when NULL), ``lap``, ``Time`` ``str(td).lstrip(":0")[:-3]``, ``AverageSpeed``
  (``str(speed).ljust(7, "0")``) when the lap has a speed;
* qualifying: a row per round entry with Q-type session entries, ``position`` of its
  last one (by session time), Q1/Q2/Q3 the format_timedelta of each entry's flagged lap,
  "" when the entry has no flagged lap;
* laps: the R session's laps by (number, position), grouped by number; pit stops: the
  R session's, ordered by ``local_timestamp`` (``time``), ``duration``
  ``str(td).lstrip("0:")[:-3]``;
* standings: championship rows with that ``year`` and ``round_id`` of the round, by
  position; ``positionText`` "D"/"E" (adjustment 101/102), "-" when not eligible, else
  the position; a driver's ``Constructors``: his teams of the season with a round entry
  in a round numbered <= this one, in the order of their first such round.

format_timedelta (jolpica/formula_one/utils.py, pinned by its tests): "1:40.100",
"59.070", "1:30.000".
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from support.fastf1_replay import normalise_url
from support.synthetic_history import history_responses
from support.synthetic_jolpica import JOLPICA_HEADERS, JOLPICA_URL, MAX_LIMIT

UTC = dt.UTC
PAGE = MAX_LIMIT   # rows a page: FastF1 is asked with Ergast(limit=100), Jolpica's largest


@dataclass
class JolpicaRound:
    """One round as Jolpica's API shows it: every list exactly as in the JSON (strings)."""

    race: dict                   # the Ergast "Race" header (season, round, url, raceName,
                                 # Circuit, date and, when known, time)
    results: list[dict] = field(default_factory=list)
    sprint: list[dict] = field(default_factory=list)
    qualifying: list[dict] = field(default_factory=list)
    laps: list[dict] = field(default_factory=list)
    pit_stops: list[dict] = field(default_factory=list)
    driver_standings: list[dict] = field(default_factory=list)
    constructor_standings: list[dict] = field(default_factory=list)

    @property
    def year(self) -> int:
        return int(self.race["season"])

    @property
    def number(self) -> int:
        return int(self.race["round"])


# --- the rounds ---------------------------------------------------------------------------

def made_rounds(responses: dict) -> list[JolpicaRound]:
    """2023 round 1, 2022 round 2, 2023 round 4 and 1979 round 1, made from the recorded
    answers in ``responses`` (``load_recordings()``); see the module docstring for what is
    recorded and what is SYNTHETIC."""
    bahrain = _bahrain_2023(responses)
    saudi = _saudi_2022(responses)
    baku = _baku_2023(responses)
    argentina = _argentina_1979(responses)
    bahrain.driver_standings, bahrain.constructor_standings = _standings([bahrain])
    baku.driver_standings, baku.constructor_standings = _standings([bahrain, baku])
    argentina.driver_standings, argentina.constructor_standings = _standings([argentina])
    return [bahrain, saudi, baku, argentina]


def _recorded(responses: dict, path: str, key: str) -> tuple[dict, list[dict]]:
    """The race header and the ``key`` rows of a recorded answer (``path`` after .../f1/)."""
    status, _headers, body = responses[normalise_url(f"{JOLPICA_URL}/{path}")]
    if status != 200:
        raise KeyError(f"{path} is not recorded with status 200")
    race = json.loads(body)["MRData"]["RaceTable"]["Races"][0]
    rows = race.pop(key)
    return race, rows


def _bahrain_2023(responses) -> JolpicaRound:
    race, results = _recorded(responses, "2023/1/results.json", "Results")
    _, recorded_laps = _recorded(responses, "2023/1/laps.json?limit=1200", "Laps")
    laps = _made_laps(results, recorded_laps)
    return JolpicaRound(race=race, results=results, laps=laps,
                        pit_stops=_made_pit_stops(results, race, utc_offset_hours=3))


def _saudi_2022(responses) -> JolpicaRound:
    race, results = _recorded(responses, "2022/2/results.json", "Results")
    _, qualifying = _recorded(responses, "2022/2/qualifying.json", "QualifyingResults")
    _, lap_one = _recorded(responses, "2022/2/laps/1.json", "Laps")
    return JolpicaRound(race=race, results=results, qualifying=qualifying,
                        laps=_made_laps(results, lap_one),
                        pit_stops=_made_pit_stops(results, race, utc_offset_hours=3))


def _baku_2023(responses) -> JolpicaRound:
    race, qualifying = _recorded(responses, "2023/4/qualifying.json", "QualifyingResults")
    _, sprint = _recorded(responses, "2023/4/sprint.json", "SprintResults")
    return JolpicaRound(race=race, qualifying=qualifying, sprint=sprint)


def _argentina_1979(responses) -> JolpicaRound:
    """support/synthetic_history.py's 1979 race with made-up drivers, a shared drive, a
    disqualification and a non-qualifier (SYNTHETIC)."""
    made = history_responses(responses)
    body = made[f"{JOLPICA_URL}/1979/1/results.json?limit=100"][2]
    race = json.loads(body)["MRData"]["RaceTable"]["Races"][0]
    rows = race.pop("Results")
    results = [{**row, "Driver": _era_driver(n, row["Driver"]["nationality"])}
               for n, row in enumerate(rows, start=1)]
    tenth = results[9]
    tenth["points"] = "0.5"
    shared = {**tenth, "position": "21", "positionText": "R", "points": "0.5",
              "Driver": _era_driver(21, "Italian"), "grid": "0", "laps": "12",
              "status": "Retired"}
    shared.pop("Time", None)
    twentieth = results[19]
    twentieth.update(positionText="D", status="Disqualified")
    twentieth.pop("Time", None)
    williams = next(row["Constructor"] for row in results
                    if row["Constructor"]["constructorId"] == "williams")
    non_qualifier = {"number": "36", "position": "22", "positionText": "F", "points": "0",
                     "Driver": _era_driver(22, "British"), "Constructor": williams,
                     "grid": "0", "laps": "0", "status": "Did not qualify"}
    return JolpicaRound(race=race, results=results + [shared, non_qualifier])


def _era_driver(n: int, nationality: str) -> dict:
    """A made-up driver of the 1970s, as the API shows one without code or number."""
    ident = f"era_driver_{n:02d}"
    return {"driverId": ident, "url": f"https://example.invalid/{ident}",
            "givenName": "Era", "familyName": f"Driver {n}",
            "dateOfBirth": f"19{40 + n % 15}-{1 + n % 9:02d}-{10 + n % 18:02d}",
            "nationality": nationality}


def _made_laps(results: list[dict], recorded: list[dict]) -> list[dict]:
    """Every lap of the race: the ``recorded`` laps as they are, the others SYNTHETIC.

    A made-up lap is run by every driver whose result has at least that many laps, in
    finishing order (a lapped or retired car is behind every car still ahead of it at the
    flag); its time is the driver's recorded fastest lap plus 0.3-2.5 s, except on the
    lap the result names as his fastest, which is run in exactly that time.
    """
    laps_run = {row["Driver"]["driverId"]: int(row["laps"]) for row in results}
    by_finish = [row["Driver"]["driverId"]
                 for row in sorted(results, key=lambda row: int(row["position"]))]
    fastest = {row["Driver"]["driverId"]: (int(row["FastestLap"]["lap"]),
                                           _millis(row["FastestLap"]["Time"]["time"]))
               for row in results if "FastestLap" in row}
    kept = {int(lap["number"]): lap for lap in recorded}
    laps = []
    for number in range(1, max(laps_run.values()) + 1):
        if number in kept:
            laps.append(kept[number])
            continue
        running = [driver for driver in by_finish if laps_run[driver] >= number]
        timings = []
        for position, driver in enumerate(running, start=1):
            fastest_lap, best = fastest.get(driver, (0, 95_000))
            millis = best if number == fastest_lap else (
                best + 300 + (number * 131 + by_finish.index(driver) * 57) % 2200)
            timings.append({"driverId": driver, "time": format_timedelta(_td(millis)),
                            "position": str(position)})
        laps.append({"number": str(number), "Timings": timings})
    return laps


def _made_pit_stops(results: list[dict], race: dict, *, utc_offset_hours: int) -> list[dict]:
    """SYNTHETIC pit stops: 1-3 a classified finisher, spread over his laps, at local
    time of day (the race starts at the header's time plus ``utc_offset_hours``), each
    20-26 s but one of 1:05.123; ordered by time of day, as Jolpica orders them."""
    start = dt.datetime.combine(dt.date.fromisoformat(race["date"]),
                                _race_time(race) or dt.time(12))
    start += dt.timedelta(hours=utc_offset_hours)
    stops = []
    finishers = [row for row in results if row["positionText"].isdigit()]
    for index, row in enumerate(finishers):
        count = 1 + index % 3
        for stop in range(1, count + 1):
            lap = max(1, int(row["laps"]) * stop // (count + 1) + index % 2)
            seconds = lap * 96 + 20 + index   # unique: index < 96
            millis = 20_000 + (index * 317 + stop * 529) % 6000 + 1
            if millis % 1000 == 0:
                millis += 7   # a whole second would lose its text in the API (str(td))
            if index == 2 and stop == 1:
                millis = 65_123   # one stop longer than a minute
            stops.append({"driverId": row["Driver"]["driverId"], "lap": str(lap),
                          "stop": str(stop),
                          "time": (start + dt.timedelta(seconds=seconds)).strftime("%H:%M:%S"),
                          "duration": _pit_duration_text(_td(millis))})
    return sorted(stops, key=lambda stop: stop["time"])


def _standings(rounds: list[JolpicaRound]) -> tuple[list[dict], list[dict]]:
    """SYNTHETIC standings after the last of ``rounds`` (one season, in order), counting
    only their race and sprint rows, as support/synthetic_jolpica.py counts a race:
    points summed, wins = race wins, ties split by race finishing positions (best first);
    a driver whose only entries did not qualify ("F") is not eligible: positionText "-"
    and no position. A driver's constructors: his teams in order of first round."""
    drivers: dict[str, dict] = {}
    teams: dict[str, dict] = {}
    for rnd in rounds:
        for rows, is_race in ((rnd.results, True), (rnd.sprint, False)):
            for row in rows:
                driver = drivers.setdefault(row["Driver"]["driverId"], {
                    "Driver": row["Driver"], "Constructors": [], "points": 0.0, "wins": 0,
                    "finishes": [], "eligible": False})
                team = teams.setdefault(row["Constructor"]["constructorId"], {
                    "Constructor": row["Constructor"], "points": 0.0, "wins": 0,
                    "finishes": []})
                if row["Constructor"] not in driver["Constructors"]:
                    driver["Constructors"].append(row["Constructor"])
                points = float(row.get("points", "0"))
                driver["points"] += points
                team["points"] += points
                driver["eligible"] |= row["positionText"] != "F"
                if is_race:
                    won = row["positionText"] == "1"
                    driver["wins"] += won
                    team["wins"] += won
                    driver["finishes"].append(int(row["position"]))
                    team["finishes"].append(int(row["position"]))

    def order(entry):
        return (not entry.get("eligible", True), -entry["points"], sorted(entry["finishes"]))

    driver_rows = []
    for n, entry in enumerate(sorted(drivers.values(), key=order), start=1):
        standing = {"position": str(n), "positionText": str(n)}
        if not entry["eligible"]:
            standing = {"positionText": "-"}
        driver_rows.append({**standing, "points": _points_text(entry["points"]),
                            "wins": str(entry["wins"]), "Driver": entry["Driver"],
                            "Constructors": entry["Constructors"]})
    team_rows = [{"position": str(n), "positionText": str(n),
                  "points": _points_text(entry["points"]), "wins": str(entry["wins"]),
                  "Constructor": entry["Constructor"]}
                 for n, entry in enumerate(sorted(teams.values(), key=order), start=1)]
    return driver_rows, team_rows


# --- text formats -------------------------------------------------------------------------

def _td(millis: int) -> dt.timedelta:
    return dt.timedelta(milliseconds=millis)


def _millis(text: str) -> int:
    """Whole milliseconds of an API time text: "1:33:56.736", "1:36.236", "23.456"."""
    whole, _, fraction = text.partition(".")
    seconds = 0
    for part in whole.split(":"):   # hours, minutes, seconds: each worth 60 of the next
        seconds = seconds * 60 + int(part)
    return seconds * 1000 + int((fraction + "000")[:3])


def format_timedelta(delta: dt.timedelta) -> str:
    """Jolpica's ``format_timedelta`` (lap, qualifying and gap times): "1:40.100",
    "59.070"."""
    millis = delta // dt.timedelta(milliseconds=1)
    minutes, millis = divmod(millis, 60_000)
    seconds = f"{millis // 1000}.{millis % 1000:03d}"
    return f"{minutes}:{seconds.zfill(6)}" if minutes else seconds


def _pit_duration_text(delta: dt.timedelta) -> str:
    """A pit stop's ``duration`` as the API writes it: ``str(td).lstrip("0:")[:-3]``."""
    return str(delta).lstrip("0:")[:-3]


def _points_text(points: float) -> str:
    """Points as Jolpica writes them: "25", "0", "0.5"."""
    return str(int(points)) if points % 1 == 0 else str(points)


def _race_time(race: dict) -> dt.time | None:
    return dt.time.fromisoformat(race["time"].rstrip("Z")) if "time" in race else None


# --- the dump -----------------------------------------------------------------------------

# Every column models.dbml lists, per dump table (the dump writes "id" first, then the
# others in alphabetical order, whatever the order here).
TABLE_COLUMNS = {
    "formula_one_baseteam": ("id", "api_id", "name"),
    "formula_one_championshipsystem": (
        "id", "api_id", "reference", "name", "eligibility", "driver_season_split",
        "driver_best_results", "team_season_split", "team_best_results",
        "team_points_per_session"),
    "formula_one_circuit": ("id", "api_id", "reference", "name", "locality", "country",
                            "country_code", "latitude", "longitude", "altitude",
                            "wikipedia"),
    "formula_one_driver": ("id", "api_id", "reference", "forename", "surname",
                           "abbreviation", "nationality", "country_code",
                           "permanent_car_number", "date_of_birth", "wikipedia"),
    "formula_one_driverchampionship": (
        "id", "session_id", "driver_id", "year", "round_number", "session_number",
        "position", "points", "win_count", "highest_finish", "is_eligible",
        "adjustment_type", "season_id", "round_id"),
    "formula_one_lap": ("id", "session_entry_id", "api_id", "number", "position", "time",
                        "average_speed", "is_entry_fastest_lap", "is_deleted"),
    "formula_one_pitstop": ("id", "session_entry_id", "lap_id", "api_id", "number",
                            "duration", "local_timestamp"),
    "formula_one_pointsystem": (
        "id", "api_id", "reference", "name", "driver_position_points",
        "driver_fastest_lap", "team_position_points", "team_fastest_lap", "partial",
        "shared_drive", "is_double_points"),
    "formula_one_round": ("id", "season_id", "circuit_id", "api_id", "number", "name",
                          "date", "race_number", "wikipedia", "is_cancelled"),
    "formula_one_roundentry": ("id", "round_id", "team_driver_id", "api_id", "car_number"),
    "formula_one_season": ("id", "championship_system_id", "api_id", "year", "wikipedia"),
    "formula_one_session": ("id", "round_id", "number", "point_system_id", "api_id", "type",
                            "timestamp", "has_time_data", "timezone", "scheduled_laps",
                            "is_cancelled"),
    "formula_one_sessionentry": (
        "id", "session_id", "round_entry_id", "api_id", "position", "is_classified",
        "status", "detail", "points", "is_eligible_for_points", "grid", "time",
        "fastest_lap_rank", "laps_completed"),
    "formula_one_team": ("id", "base_team_id", "api_id", "reference", "name", "nationality",
                         "country_code", "wikipedia", "primary_color"),
    "formula_one_teamchampionship": (
        "id", "session_id", "team_id", "year", "round_number", "session_number", "position",
        "points", "win_count", "highest_finish", "is_eligible", "adjustment_type",
        "season_id", "round_id"),
    "formula_one_teamdriver": ("id", "team_id", "driver_id", "season_id", "api_id", "role"),
}
# With extra_columns: one column the dbml does not list (a newer schema's), per table.
EXTRA_COLUMNS = {"formula_one_session": "completed_laps",
                 "formula_one_sessionentry": "is_provisional",
                 "formula_one_team": "short_name"}

# Plausible values the API never shows (SYNTHETIC).
_PLACES = {  # circuitId -> (country code, altitude m, IANA zone, UTC offset that weekend)
    "bahrain": ("BHR", 7.0, "Asia/Bahrain", 3), "jeddah": ("SAU", 15.0, "Asia/Riyadh", 3),
    "baku": ("AZE", -7.0, "Asia/Baku", 4),
    "galvez": ("ARG", 8.0, "America/Argentina/Buenos_Aires", -3)}
_RACE_NUMBERS = {(1979, 1): 315, (2022, 2): 1058, (2023, 1): 1074, (2023, 4): 1077}
_COUNTRIES = {"American": "USA", "Australian": "AUS", "Austrian": "AUT", "British": "GBR",
              "Canadian": "CAN", "Chinese": "CHN", "Danish": "DNK", "Dutch": "NLD",
              "Finnish": "FIN", "French": "FRA", "German": "DEU", "Italian": "ITA",
              "Japanese": "JPN", "Mexican": "MEX", "Monegasque": "MCO", "Spanish": "ESP",
              "Swiss": "CHE", "Thai": "THA"}
# (id, reference, name, driver/team position points, fastest lap, partial, shared drive)
_POINT_SYSTEMS = ((1, "none", "No points", 0, 0, 0, 0),
                  (2, "f1_2019", "2019 - Top 10 and fastest lap", 7, 4, 3, 0),
                  (3, "sprint_2022", "Sprint 2022", 22, 0, 0, 0),
                  (4, "f1_1961", "1961 - Top 6", 3, 0, 1, 1))
_RESERVE = ("ricciardo", "red_bull", 2023)   # a reserve driver with no entries (role 1)
_STATUS_CODES = {"Finished": 0, "Accident": 10, "Collision": 10, "Collision damage": 10,
                 "Spun off": 10, "Disqualified": 20, "Withdrew": 30, "Did not start": 30,
                 "Did not qualify": 40, "Did not prequalify": 41}
_LETTER_CODES = {"W": (30,), "D": (20,), "F": (40, 41)}


def dump_zip(rounds: list[JolpicaRound], *,
             rename: dict[tuple[str, str], str] | None = None,
             drop: set[tuple[str, str]] | None = None,
             extra_columns: bool = True) -> bytes:
    """Jolpica's CSV dump of ``rounds``: a flat zip, one ``formula_one_<model>.csv`` a
    table, written as scripts/generate_csv_dump.py writes it (header, ``id`` then the
    other columns alphabetically, UTF-8, NULL an empty field, t/f, PostgreSQL interval and
    timestamp text, whole floats without ".0", csv quoting, "\\n" line ends, entries dated
    1999-01-01 as its reproducible zips are).

    Args:
        rename: (table, column) -> the header it gets instead (a renamed column: it takes
            its new name's alphabetical place, as in a real dump).
        drop: (table, column) pairs left out.
        extra_columns: add one column the dbml does not list to three tables
            (``EXTRA_COLUMNS``), in its alphabetical place; a reader must ignore it.
    """
    rename = {(_table_name(t), c): new for (t, c), new in (rename or {}).items()}
    drop = {(_table_name(t), c) for t, c in (drop or set())}
    tables = dump_rows(rounds)
    for table, column in list(rename) + list(drop):
        if table not in TABLE_COLUMNS or column not in TABLE_COLUMNS[table]:
            raise KeyError(f"no column {column!r} in {table}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in sorted(tables):
            columns = [c for c in TABLE_COLUMNS[table] if (table, c) not in drop]
            if extra_columns and table in EXTRA_COLUMNS:
                columns.append(EXTRA_COLUMNS[table])
            headers = {c: rename.get((table, c), c) for c in columns}
            ordered = sorted(columns, key=lambda c: (headers[c] != "id", headers[c]))
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow([headers[c] for c in ordered])
            for row in tables[table]:
                writer.writerow([csv_text(row.get(c)) for c in ordered])
            info = zipfile.ZipInfo(f"{table}.csv", date_time=(1999, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def _table_name(table: str) -> str:
    return table if table.startswith("formula_one_") else f"formula_one_{table}"


def csv_text(value) -> str:
    """A value as generate_csv_dump.py (PostgreSQL COPY) writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return str(int(value)) if value == int(value) else str(value)
    if isinstance(value, dt.timedelta):
        micros = value // dt.timedelta(microseconds=1)
        seconds, micros = divmod(micros, 1_000_000)
        hours, seconds = divmod(seconds, 3600)
        text = f"{hours:02d}:{seconds // 60:02d}:{seconds % 60:02d}"
        return text + ("." + f"{micros:06d}".rstrip("0") if micros else "")
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") + "+00"
    return str(value)


class _Tables:
    """The dump's rows being built: ``add`` gives each row the next id of its table (and
    an ``api_id``), once per ``key`` when one is given."""

    def __init__(self):
        self.rows: dict[str, list[dict]] = {table: [] for table in TABLE_COLUMNS}
        self._ids: dict[tuple, int] = {}

    def add(self, table: str, key=None, **values) -> int:
        if key is not None and (table, key) in self._ids:
            return self._ids[table, key]
        unknown = set(values) - set(TABLE_COLUMNS[table]) - {EXTRA_COLUMNS.get(table)}
        if unknown:
            raise KeyError(f"{table} has no columns {sorted(unknown)}")
        row_id = len(self.rows[table]) + 1
        row = {"id": row_id, **values}
        if "api_id" in TABLE_COLUMNS[table]:
            digest = hashlib.sha1(f"{table}:{row_id}".encode()).hexdigest()[:20]
            row["api_id"] = f"jolpica_{digest}"
        self.rows[table].append(row)
        if key is not None:
            self._ids[table, key] = row_id
        return row_id

    def get(self, table: str, key) -> int:
        return self._ids[table, key]


def dump_rows(rounds: list[JolpicaRound]) -> dict[str, list[dict]]:
    """The dump's tables as Python values (table -> rows), before they become text."""
    tables = _Tables()
    for number, reference, name, position, fastest, partial, shared in _POINT_SYSTEMS:
        tables.add("formula_one_pointsystem", key=number, reference=reference, name=name,
                   driver_position_points=position, driver_fastest_lap=fastest,
                   team_position_points=position, team_fastest_lap=fastest, partial=partial,
                   shared_drive=shared, is_double_points=False)
    for key, name, eligibility, split, best in (("modern", "1991 - All results", 2, 0, -1),
                                                ("1979", "1979 - Best 4 each half", 2, 3, 4)):
        tables.add("formula_one_championshipsystem", key=key, reference=key, name=name,
                   eligibility=eligibility, driver_season_split=split,
                   driver_best_results=best, team_season_split=split,
                   team_best_results=best, team_points_per_session=0)
    ordered = sorted(rounds, key=lambda rnd: (rnd.year, rnd.number))
    for rnd in ordered:
        _add_round(tables, rnd)
    _add_reserve(tables)
    last_of_season = {rnd.year: rnd for rnd in ordered if rnd.driver_standings}
    for rnd in ordered:
        _add_standings(tables, rnd, ordered, is_last=last_of_season.get(rnd.year) is rnd)
    return tables.rows


def session_plan(rnd: JolpicaRound) -> list[dict]:
    """The round's sessions (SYNTHETIC times around the recorded race time), in order:
    type, number, UTC timestamp, has_time_data, point system, scheduled laps.

    Every round has its race (R). A round with lap data, qualifying or a sprint (the
    modern ones) has FP1; qualifying is split into Q1/Q2/Q3; a 2023 sprint weekend has
    the sprint shootout (SQ1) and the sprint (SR) on Saturday, qualifying on Friday.
    """
    race_day = dt.date.fromisoformat(rnd.race["date"])
    race_time = _race_time(rnd.race)
    race_start = dt.datetime.combine(race_day, race_time or dt.time(0), tzinfo=UTC)
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    modern = bool(rnd.laps or rnd.qualifying or rnd.sprint)
    sessions = []

    def add(kind, start, point_system=1, laps=None):
        sessions.append({"type": kind, "timestamp": start, "has_time_data": bool(race_time),
                         "point_system": point_system, "scheduled_laps": laps})

    if rnd.sprint:
        add("FP1", race_start - 2 * day - 1.5 * hour)
        qualifying_start = race_start - 2 * day + 2 * hour
        add("SQ1", race_start - day - 2.5 * hour)
        add("SR", race_start - day + 2.5 * hour, 3, _most_laps(rnd.sprint))
    else:
        if modern:
            add("FP1", race_start - 2 * day - 3.5 * hour)
        qualifying_start = race_start - day
    if rnd.qualifying:
        for part, minutes in (("Q1", 0), ("Q2", 24), ("Q3", 46)):
            add(part, qualifying_start + dt.timedelta(minutes=minutes))
    add("R", race_start, 2 if rnd.year >= 2010 else 4, _most_laps(rnd.results))
    sessions.sort(key=lambda session: session["timestamp"])
    for number, session in enumerate(sessions, start=1):
        session["number"] = number
    return sessions


def _most_laps(rows: list[dict]) -> int | None:
    return max((int(row["laps"]) for row in rows), default=None)


def _add_round(tables: _Tables, rnd: JolpicaRound) -> None:
    circuit = rnd.race["Circuit"]
    country_code, altitude, zone, _offset = _PLACES[circuit["circuitId"]]
    season_id = tables.add(
        "formula_one_season", key=rnd.year, year=rnd.year,
        championship_system_id=tables.get("formula_one_championshipsystem",
                                           "modern" if rnd.year >= 1991 else "1979"),
        wikipedia=f"https://en.wikipedia.org/wiki/{rnd.year}_Formula_One_World_Championship")
    location = circuit["Location"]
    circuit_id = tables.add(
        "formula_one_circuit", key=circuit["circuitId"], reference=circuit["circuitId"],
        name=circuit["circuitName"], locality=location["locality"],
        country=location["country"], country_code=country_code,
        latitude=float(location["lat"]), longitude=float(location["long"]),
        altitude=altitude, wikipedia=circuit["url"])
    round_id = tables.add(
        "formula_one_round", key=(rnd.year, rnd.number), season_id=season_id,
        circuit_id=circuit_id, number=rnd.number, name=rnd.race["raceName"],
        date=rnd.race["date"], race_number=_RACE_NUMBERS.get((rnd.year, rnd.number)),
        wikipedia=rnd.race["url"], is_cancelled=False)
    sessions = {}
    for session in session_plan(rnd):
        sessions[session["type"]] = tables.add(
            "formula_one_session", key=(round_id, session["type"]), round_id=round_id,
            number=session["number"], point_system_id=session["point_system"],
            type=session["type"], timestamp=session["timestamp"],
            has_time_data=session["has_time_data"], timezone=zone,
            scheduled_laps=session["scheduled_laps"], is_cancelled=False,
            completed_laps=session["scheduled_laps"])

    entries = {}   # driverId -> round entry id
    for row in rnd.results + rnd.sprint + rnd.qualifying:
        driver_id = row["Driver"]["driverId"]
        if driver_id not in entries:
            entries[driver_id] = _add_entry(tables, rnd, season_id, round_id, row)

    if "FP1" in sessions:
        _add_practice(tables, rnd, sessions["FP1"], entries)
    if "SQ1" in sessions:
        by_grid = sorted(rnd.sprint, key=lambda row: (row["grid"] == "0", int(row["grid"])))
        for position, row in enumerate(by_grid, start=1):
            tables.add("formula_one_sessionentry", session_id=sessions["SQ1"],
                       round_entry_id=entries[row["Driver"]["driverId"]], position=position,
                       is_eligible_for_points=True, is_provisional=False)
    if rnd.qualifying:
        _add_qualifying(tables, rnd, sessions, entries)
    if rnd.sprint:
        _add_results(tables, rnd.sprint, sessions["SR"], entries, [])
    _add_results(tables, rnd.results, sessions["R"], entries, rnd.laps)
    _add_pit_stops(tables, rnd, sessions["R"], entries)


def _add_entry(tables: _Tables, rnd: JolpicaRound, season_id: int, round_id: int,
               row: dict) -> int:
    """The driver, team, team driver and round entry of a row of the round."""
    driver, team = row["Driver"], row["Constructor"]
    driver_id = tables.add(
        "formula_one_driver", key=driver["driverId"], reference=driver["driverId"],
        forename=driver["givenName"], surname=driver["familyName"],
        abbreviation=driver.get("code"), nationality=driver.get("nationality"),
        country_code=_COUNTRIES.get(driver.get("nationality")),
        permanent_car_number=int(driver["permanentNumber"]) if "permanentNumber" in driver
        else None, date_of_birth=driver.get("dateOfBirth"), wikipedia=driver.get("url"))
    base_id = tables.add("formula_one_baseteam", key=team["constructorId"], name=team["name"])
    colour = hashlib.sha1(team["constructorId"].encode()).hexdigest()[:6].upper()
    team_id = tables.add(
        "formula_one_team", key=team["constructorId"], base_team_id=base_id,
        reference=team["constructorId"], name=team["name"],
        nationality=team.get("nationality"),
        country_code=_COUNTRIES.get(team.get("nationality")), wikipedia=team.get("url"),
        primary_color=f"#{colour}", short_name=team["name"].split()[0])
    team_driver_id = tables.add(
        "formula_one_teamdriver", key=(rnd.year, team["constructorId"], driver["driverId"]),
        team_id=team_id, driver_id=driver_id, season_id=season_id, role=0)
    return tables.add("formula_one_roundentry", key=(round_id, team_driver_id),
                      round_id=round_id, team_driver_id=team_driver_id,
                      car_number=int(row["number"]))


def _add_reserve(tables: _Tables) -> None:
    """Ricciardo as Red Bull's 2023 reserve: a team driver with no round entry (when the
    driver, the team and the season are in the dump)."""
    reference, team, year = _RESERVE
    try:
        driver_id = tables.get("formula_one_driver", reference)
        team_id = tables.get("formula_one_team", team)
        season_id = tables.get("formula_one_season", year)
    except KeyError:
        return
    tables.add("formula_one_teamdriver", team_id=team_id, driver_id=driver_id,
               season_id=season_id, role=1)


def _add_practice(tables: _Tables, rnd: JolpicaRound, session_id: int, entries: dict) -> None:
    """FP1 (SYNTHETIC): every driver of the round classified by car number, with a
    flagged fastest lap the API never shows (laps are read from R only)."""
    reference = {}
    for row in rnd.results + rnd.sprint:
        if "FastestLap" in row:
            reference.setdefault(row["Driver"]["driverId"],
                                 _millis(row["FastestLap"]["Time"]["time"]))
    for row in rnd.qualifying:
        if row.get("Q1"):
            reference.setdefault(row["Driver"]["driverId"], _millis(row["Q1"]))
    for index, driver in enumerate(entries):
        entry_id = tables.add("formula_one_sessionentry", session_id=session_id,
                              round_entry_id=entries[driver], position=index + 1,
                              is_eligible_for_points=True, laps_completed=18 + index % 9,
                              is_provisional=False)
        millis = reference.get(driver, 92_000) + 1234 + 11 * index
        tables.add("formula_one_lap", session_entry_id=entry_id, number=5 + index % 11,
                   time=_td(millis), is_entry_fastest_lap=True, is_deleted=False)


def _add_qualifying(tables: _Tables, rnd: JolpicaRound, sessions: dict, entries: dict) -> None:
    """A Q1/Q2/Q3 session entry for each part a driver ran, its time a flagged lap (none
    when the API shows ""). The position of a driver's last part is his qualifying
    position; in an earlier part, his rank by time among those who went on. The pole
    sitter's Q1 also has a deleted faster lap and a slower lap, neither flagged."""
    for part in ("Q1", "Q2", "Q3"):
        rows = [row for row in rnd.qualifying if part in row]
        later = "Q2" if part == "Q1" else "Q3" if part == "Q2" else None
        going_on = sorted((row for row in rows if later and later in row),
                          key=lambda row: (row[part] == "", row[part] and _millis(row[part])))
        for index, row in enumerate(rows):
            position = (going_on.index(row) + 1 if row in going_on else int(row["position"]))
            entry_id = tables.add(
                "formula_one_sessionentry", session_id=sessions[part],
                round_entry_id=entries[row["Driver"]["driverId"]], position=position,
                is_eligible_for_points=True, is_provisional=False)
            if not row[part]:
                continue
            millis, number = _millis(row[part]), 3 + index % 4
            if part == "Q1" and row["position"] == "1":
                tables.add("formula_one_lap", session_entry_id=entry_id, number=number - 1,
                           time=_td(millis - 150), is_entry_fastest_lap=False,
                           is_deleted=True)
            tables.add("formula_one_lap", session_entry_id=entry_id, number=number,
                       time=_td(millis), is_entry_fastest_lap=True, is_deleted=False)
            if part == "Q1" and row["position"] == "1":
                tables.add("formula_one_lap", session_entry_id=entry_id, number=number + 1,
                           time=_td(millis + 2345), is_entry_fastest_lap=False,
                           is_deleted=False)


def _status_code(row: dict) -> int:
    """The entry's status code, from its positionText and status text."""
    text, letter = row["status"], row["positionText"]
    if letter in _LETTER_CODES:
        code = _STATUS_CODES.get(text, _LETTER_CODES[letter][0])
        if code not in _LETTER_CODES[letter]:
            raise ValueError(f"positionText {letter} cannot go with status {text!r}")
        return code
    if text == "Lapped" or (text.startswith("+") and "Lap" in text):
        return 1
    code = _STATUS_CODES.get(text, 11)
    if letter == "R" and code in (20, 30, 40, 41):
        raise ValueError(f"positionText R cannot go with status {text!r}")
    return code


def _add_results(tables: _Tables, rows: list[dict], session_id: int, entries: dict,
                 laps: list[dict]) -> None:
    """A race's (sprint's) session entries and laps: the ``laps`` timings, with each
    entry's fastest lap flagged (added when the laps do not have it)."""
    entry_ids = {}
    for row in rows:
        fastest = row.get("FastestLap")
        entry_ids[row["Driver"]["driverId"]] = tables.add(
            "formula_one_sessionentry", session_id=session_id,
            round_entry_id=entries[row["Driver"]["driverId"]], position=int(row["position"]),
            is_classified=row["positionText"].isdigit(), status=_status_code(row),
            detail=row["status"], points=float(row["points"]) if "points" in row else None,
            is_eligible_for_points=True, grid=int(row["grid"]),
            time=_td(int(row["Time"]["millis"])) if "Time" in row else None,
            fastest_lap_rank=int(fastest["rank"]) if fastest and "rank" in fastest else None,
            laps_completed=int(row["laps"]), is_provisional=False)
    fastest_laps = {(row["Driver"]["driverId"], row["FastestLap"]["lap"]): row["FastestLap"]
                    for row in rows if "FastestLap" in row}
    for lap in laps:
        for timing in lap["Timings"]:
            fastest = fastest_laps.pop((timing["driverId"], lap["number"]), None)
            _add_lap(tables, entry_ids[timing["driverId"]], lap["number"],
                     timing["position"], timing["time"], fastest)
    for (driver, number), fastest in fastest_laps.items():
        _add_lap(tables, entry_ids[driver], number, None, fastest["Time"]["time"], fastest)


def _add_lap(tables: _Tables, entry_id: int, number: str, position: str | None, time: str,
             fastest: dict | None) -> None:
    if fastest is not None and _millis(fastest["Time"]["time"]) != _millis(time):
        raise ValueError(f"fastest lap {fastest} is not the lap's time {time}")
    speed = fastest.get("AverageSpeed", {}).get("speed") if fastest else None
    tables.add("formula_one_lap", key=(entry_id, number), session_entry_id=entry_id,
               number=int(number), position=int(position) if position else None,
               time=_td(_millis(time)), average_speed=float(speed) if speed else None,
               is_entry_fastest_lap=fastest is not None, is_deleted=False)


def _add_pit_stops(tables: _Tables, rnd: JolpicaRound, session_id: int, entries: dict) -> None:
    entry_of = {row["round_entry_id"]: row["id"]
                for row in tables.rows["formula_one_sessionentry"]
                if row["session_id"] == session_id}
    for stop in rnd.pit_stops:
        entry_id = entry_of[entries[stop["driverId"]]]
        tables.add("formula_one_pitstop", session_entry_id=entry_id,
                   lap_id=tables.get("formula_one_lap", (entry_id, stop["lap"])),
                   number=int(stop["stop"]), duration=_td(_millis(stop["duration"])),
                   local_timestamp=stop["time"])


def _add_standings(tables: _Tables, rnd: JolpicaRound, ordered: list[JolpicaRound], *,
                   is_last: bool) -> None:
    """The championship rows after the round: on its race session with ``round_id``
    (and ``season_id`` on a season's last round); a sprint round has the same rows again
    on its sprint session, with ``round_id`` empty, as Jolpica keeps a row per scoring
    session and links only the round's last one."""
    if not rnd.driver_standings and not rnd.constructor_standings:
        return
    round_id = tables.get("formula_one_round", (rnd.year, rnd.number))
    season_id = tables.get("formula_one_season", rnd.year)
    plan = {session["type"]: session["number"] for session in session_plan(rnd)}
    so_far = [r for r in ordered if r.year == rnd.year and r.number <= rnd.number]
    finishes: dict[str, list[int]] = {}
    for r in so_far:
        for row in r.results:
            if row["positionText"].isdigit():
                finishes.setdefault(row["Driver"]["driverId"], []).append(
                    int(row["position"]))
                finishes.setdefault(row["Constructor"]["constructorId"], []).append(
                    int(row["position"]))
    targets = [("R", round_id, season_id if is_last else None)]
    if "SR" in plan:
        targets.append(("SR", None, None))
    for kind, target_round, target_season in targets:
        session_id = tables.get("formula_one_session", (round_id, kind))
        common = {"session_id": session_id, "year": rnd.year, "round_number": rnd.number,
                  "session_number": plan[kind], "season_id": target_season,
                  "round_id": target_round}
        for row in rnd.driver_standings:
            ref = row["Driver"]["driverId"]
            tables.add("formula_one_driverchampionship",
                       driver_id=tables.get("formula_one_driver", ref),
                       highest_finish=min(finishes.get(ref, []), default=None),
                       **common, **_standing_values(row))
        for row in rnd.constructor_standings:
            ref = row["Constructor"]["constructorId"]
            tables.add("formula_one_teamchampionship",
                       team_id=tables.get("formula_one_team", ref),
                       highest_finish=min(finishes.get(ref, []), default=None),
                       **common, **_standing_values(row))


def _standing_values(row: dict) -> dict:
    adjustment = {"D": 101, "E": 102}.get(row["positionText"], 0)
    return {"position": int(row["position"]) if "position" in row else None,
            "points": float(row["points"]), "win_count": int(row["wins"]),
            "is_eligible": row["positionText"] not in ("-", "D", "E"),
            "adjustment_type": adjustment}


# --- the API's answers --------------------------------------------------------------------

_RACE_ENDPOINTS = (("results", "Results", "results"), ("sprint", "SprintResults", "sprint"),
                   ("qualifying", "QualifyingResults", "qualifying"),
                   ("laps", "Laps", "laps"), ("pitstops", "PitStops", "pit_stops"))
_STANDINGS_ENDPOINTS = (("driverStandings", "DriverStandings", "driver_standings"),
                        ("constructorStandings", "ConstructorStandings",
                         "constructor_standings"))
_SCHEDULE_NAMES = {"FP1": "FirstPractice", "FP2": "SecondPractice", "FP3": "ThirdPractice",
                   "Q1": "Qualifying", "SR": "Sprint"}


def api_responses(rounds: list[JolpicaRound]) -> dict[str, tuple[int, dict, bytes]]:
    """Jolpica's answers for ``rounds`` at exactly the URLs FastF1 3.9's
    ``Ergast(result_type="raw", auto_cast=False, limit=100)`` requests, normalised
    (``normalise_url``) -> (200, headers, body).

    Per round: results, sprint, qualifying, laps, pitstops, driverStandings and
    constructorStandings, first page ``{Y}/{R}/{endpoint}.json?limit=100``, later pages
    ``&offset=100``, ``200``... (rows paged as Jolpica pages them: laps 100 timings a page,
    so a lap's timings can split across pages, each page repeating the Race header with
    its part of "Laps"); an endpoint with no rows answers total "0" and no Races
    (StandingsLists). Per season: ``get_race_schedule(season=Y)``, which FastF1 asks at
    ``{Y}/races.json?limit=100``: the set's rounds of that season, with the dates and
    times of their sessions as Jolpica's RaceSerializer shows them.
    """
    answers = {}
    for rnd in rounds:
        criteria = {"season": str(rnd.year), "round": str(rnd.number)}
        for endpoint, key, attribute in _RACE_ENDPOINTS:
            items = getattr(rnd, attribute)
            if endpoint == "laps":
                items = [(lap["number"], timing) for lap in items for timing in lap["Timings"]]
            for offset, page in _pages(items):
                if endpoint == "laps":
                    page = _lap_groups(page)
                races = [{**rnd.race, key: page}] if page else []
                answers.update(_answer(f"{rnd.year}/{rnd.number}/{endpoint}", offset,
                                       len(items), "RaceTable", {**criteria, "Races": races}))
        for endpoint, key, attribute in _STANDINGS_ENDPOINTS:
            items = getattr(rnd, attribute)
            for offset, page in _pages(items):
                lists = [{**criteria, key: page}] if page else []
                answers.update(_answer(f"{rnd.year}/{rnd.number}/{endpoint}", offset,
                                       len(items), "StandingsTable",
                                       {**criteria, "StandingsLists": lists}))
    for year in sorted({rnd.year for rnd in rounds}):
        races = [_scheduled_race(rnd) for rnd in sorted(rounds, key=lambda r: r.number)
                 if rnd.year == year]
        for offset, page in _pages(races):
            answers.update(_answer(f"{year}/races", offset, len(races), "RaceTable",
                                   {"season": str(year), "Races": page}))
    return answers


def schedule_url(year: int) -> str:
    """The (normalised) URL of ``Ergast(limit=100).get_race_schedule(season=year)``."""
    return normalise_url(f"{JOLPICA_URL}/{year}/races.json?limit={PAGE}")


def _pages(items: list):
    """(offset, rows) of each page; one empty page when there are no rows."""
    for offset in range(0, max(len(items), 1), PAGE):
        yield offset, items[offset:offset + PAGE]


def _lap_groups(timings: list[tuple[str, dict]]) -> list[dict]:
    """A page of (lap number, timing) grouped by lap number, as ListLapSerializer does."""
    laps: list[dict] = []
    for number, timing in timings:
        if not laps or laps[-1]["number"] != number:
            laps.append({"number": number, "Timings": []})
        laps[-1]["Timings"].append(timing)
    return laps


def _scheduled_race(rnd: JolpicaRound) -> dict:
    """The round as the schedule shows it: the header and a {date, time} per session
    (2023: the sprint shootout is "SprintShootout", later "SprintQualifying")."""
    race = dict(rnd.race)
    names = {**_SCHEDULE_NAMES,
             "SQ1": "SprintShootout" if rnd.year == 2023 else "SprintQualifying"}
    for session in session_plan(rnd):
        if session["type"] in names:
            when = {"date": session["timestamp"].date().isoformat()}
            if session["has_time_data"]:
                when["time"] = session["timestamp"].strftime("%H:%M:%SZ")
            race[names[session["type"]]] = when
    return race


def _answer(path: str, offset: int, total: int, table: str, content: dict) -> dict:
    """The answer at ``{path}.json?limit=100[&offset=N]``: Jolpica's envelope (its
    ``url`` the request's path, lower-cased as Jolpica echoes it), compact UTF-8 JSON."""
    url = f"{JOLPICA_URL}/{path}.json"
    query = f"?limit={PAGE}" + (f"&offset={offset}" if offset else "")
    document = {"MRData": {"xmlns": "", "series": "f1", "url": url.lower(),
                           "limit": str(PAGE), "offset": str(offset), "total": str(total),
                           table: content}}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return {normalise_url(url + query): (200, dict(JOLPICA_HEADERS), body)}
