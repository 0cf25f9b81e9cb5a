"""Jolpica's history as the history tables' rows: from the API's JSON or from the CSV dump.

Pure: no I/O. Both ways give the same rows for the same round, because the dump is mapped
as Jolpica's own Ergast-compatible API maps its database (jolpica-f1,
``jolpica_api/ergastapi``; the rules are in docs/DATA.md, "History tables"):

* results and sprint results: a session entry of the round's R (SR) session; its
  ``positionText`` is the position when classified, else from its status code (30 "W",
  20 "D", 40/41 "F", anything else "R"); ``status`` is the entry's ``detail`` text; the
  time is Jolpica's ``millis`` (whole milliseconds of the entry's time, cut as the API cuts
  them); the fastest lap is the entry's lap flagged ``is_entry_fastest_lap``;
* qualifying: each round entry with a qualifying session entry (Q1/Q2/Q3, or an older
  single session), its position that of its last qualifying session, each part's time its
  flagged fastest lap (none: NULL);
* lap times and pit stops: the race's (R) laps and stops;
* standings after a round: the championship rows Jolpica links to the round (one a
  driver or team: the round's last scoring session), ``positionText`` "D"/"E" for a
  disqualified/excluded entry and "-" for one not eligible; a driver's constructors are
  the teams he entered a round with up to this one, in the order he first did.

A round's rows are :class:`RoundRows`: one frame per round table, typed by the models
(``kind``), plus the drivers, constructors and circuit its rows name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Table

from .errors import TransformError
from .models import HISTORY_REFERENCE_MODELS, HISTORY_ROUND_MODELS
from .transform import check_fits, convert

ROUND_TABLES = tuple(model.__tablename__ for model in HISTORY_ROUND_MODELS)
REFERENCE_TABLES = tuple(model.__tablename__ for model in HISTORY_REFERENCE_MODELS)
_TABLES = {model.__tablename__: model.__table__
           for model in HISTORY_ROUND_MODELS + HISTORY_REFERENCE_MODELS}

# Jolpica's session entry status codes (formula_one_sessionentry.status) that the API shows
# as a letter for an unclassified entry.
_STATUS_LETTERS = {30: "W", 20: "D", 40: "F", 41: "F"}
_PART_ORDER = {"Q1": 1, "Q2": 2, "Q3": 3}
# formula_one_driverchampionship.adjustment_type
_ADJUSTMENT_LETTERS = {101: "D", 102: "E"}


@dataclass
class RoundRows:
    """One round's rows: ``tables`` (each round table's frame, ``history_races`` without
    its ledger columns) and the drivers, constructors and circuit they name."""

    year: int
    round_number: int
    tables: dict[str, pd.DataFrame]
    references: dict[str, pd.DataFrame] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)   # rows without a key value

    @property
    def key(self) -> tuple[int, int]:
        return self.year, self.round_number

    def digest(self) -> str:
        """SHA-256 of the round's rows, whatever their order: equal rows, equal digest
        (each row hashed by pandas, the row hashes sorted)."""
        sha = hashlib.sha256()
        for name in ROUND_TABLES:
            hashes = pd.util.hash_pandas_object(self.tables[name], index=False).to_numpy()
            hashes.sort()
            sha.update(name.encode() + b"\n" + hashes.tobytes())
        return sha.hexdigest()


def stored_columns(name: str) -> list[str]:
    """The columns of a history table that hold Jolpica's values (the ledger's left out)."""
    return [column.name for column in _TABLES[name].columns
            if not column.info.get("ledger")]


def _key_columns(name: str) -> tuple[str, ...]:
    return tuple(column.name for column in _TABLES[name].primary_key.columns)


def typed_frame(name: str, rows: Iterable[dict]) -> pd.DataFrame:
    """``rows`` (dicts by column name, values already Jolpica's: int, float, str, a
    ``pd.Timedelta`` for a duration, a "YYYY-MM-DD" text for a date, a list for a JSON
    list, None for NULL) as the table's frame, each column in its storage kind's dtype
    (transform.STORED_DTYPES). Built column by column from the values as they are: a
    round's dozen small tables, 1,300 rounds a dump, made quickly."""
    table: Table = _TABLES[name]
    rows = list(rows)
    out = {}
    for column_name in stored_columns(name):
        kind = table.c[column_name].info["kind"]
        values = [row.get(column_name) for row in rows]
        try:
            out[column_name] = _COLUMN_BUILDERS.get(kind, _convert(kind))(values)
        except (TypeError, ValueError, AttributeError) as error:
            raise TransformError(f"{name}.{column_name}: {error}") from None
        check_fits(out[column_name], table.c[column_name],
                   column_name=f"{name}.{column_name}")
    return pd.DataFrame(out, columns=stored_columns(name))


def _integers(values: list) -> pd.array:
    return pd.array(values, dtype="Int64")


def _reals(values: list) -> np.ndarray:
    return np.array([np.nan if value is None else float(value) for value in values],
                    dtype="float64")


def _texts(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [None if value is None else str(value) for value in values]
    return out


def _milliseconds(values: list) -> pd.array:
    # nanoseconds to milliseconds, half up (as transform's duration_ms)
    return pd.array([None if value is None else (pd.Timedelta(value).value + 500_000)
                     // 1_000_000 for value in values], dtype="Int64")


def _dates(values: list) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d").astype(
        "datetime64[ns]")


def _json_lists(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [None if value is None else json.dumps(list(value), ensure_ascii=False)
              for value in values]
    return out


def _convert(kind: str):
    return lambda values: convert(pd.Series(values, dtype=object), kind)


_COLUMN_BUILDERS = {"integer": _integers, "real": _reals, "text": _texts,
                    "duration_ms": _milliseconds, "date": _dates, "json_list": _json_lists}


def _round_rows(year: int, round_number: int, rows: dict[str, list[dict]],
                references: dict[str, list[dict]]) -> RoundRows:
    left_out = {}
    for name, table_rows in rows.items():
        for row in table_rows:
            row["year"], row["round_number"] = year, round_number
        # a row Jolpica leaves without a key value (a NULL position) has no place in the
        # table; left out the same way whichever way it came, and counted
        keyed = [row for row in table_rows
                 if all(row.get(column) is not None for column in _key_columns(name))]
        if len(keyed) < len(table_rows):
            left_out[name] = len(table_rows) - len(keyed)
            rows[name] = keyed
    tables = {name: typed_frame(name, rows.get(name, ())) for name in ROUND_TABLES}
    refs = {}
    for name in REFERENCE_TABLES:
        unique = {}
        for row in references.get(name, ()):
            unique.setdefault(row[_key_columns(name)[0]], row)
        refs[name] = typed_frame(name, unique.values())
    return RoundRows(year, round_number, tables, refs, left_out)


# --- from the API's JSON --------------------------------------------------------------------

def parse_time(text: str | None) -> pd.Timedelta | None:
    """A lap or qualifying time as the API writes it ("1:36.236", "36.236", "1:33:56.736");
    "" or None: no time."""
    if text in _NO_VALUE:
        return None
    parts = text.split(":")
    try:
        seconds = float(parts[-1])
        minutes = int(parts[-2]) if len(parts) > 1 else 0
        hours = int(parts[-3]) if len(parts) > 2 else 0
    except ValueError:
        raise TransformError(f"Jolpica time {text!r} is not h:mm:ss.fff") from None
    return pd.Timedelta(hours=hours, minutes=minutes, seconds=seconds).round("ms")


# Jolpica's API writes a NULL it does not leave out as the text "None" (``str(None)``).
_NO_VALUE = (None, "", "None")


def _garbled_or_time(text: str | None) -> pd.Timedelta | None:
    """A fastest lap or pit stop duration from the API: Jolpica cuts the last three
    characters of Python's ``str(timedelta)``, which for a whole number of seconds cuts
    digits instead of microseconds ("1:31" -> "1", "23" -> ""); such a text (no
    fraction) is no value (NULL), never a wrong one."""
    if text in _NO_VALUE or "." not in text:
        return None
    return parse_time(text)


def _number(text) -> int | None:
    return None if text in _NO_VALUE else int(text)


def _real(text) -> float | None:
    return None if text in _NO_VALUE else float(text)


def _api_driver(driver: dict) -> dict:
    return {"driver_id": driver["driverId"], "code": driver.get("code"),
            "permanent_number": _number(driver.get("permanentNumber")),
            "given_name": driver.get("givenName"), "family_name": driver.get("familyName"),
            "date_of_birth": driver.get("dateOfBirth"),
            "nationality": driver.get("nationality"), "url": driver.get("url")}


def _api_constructor(constructor: dict) -> dict:
    return {"constructor_id": constructor["constructorId"], "name": constructor.get("name"),
            "nationality": constructor.get("nationality"), "url": constructor.get("url")}


def _api_circuit(circuit: dict) -> dict:
    location = circuit.get("Location", {})
    return {"circuit_id": circuit["circuitId"], "circuit_name": circuit.get("circuitName"),
            "locality": location.get("locality"), "country": location.get("country"),
            "latitude": _real(location.get("lat")), "longitude": _real(location.get("long")),
            "url": circuit.get("url")}


def _api_race(race: dict) -> dict:
    time = race.get("time")
    return {"race_name": race.get("raceName"), "circuit_id": race["Circuit"]["circuitId"],
            "race_date": race.get("date"), "race_time_utc": time.rstrip("Z") if time else None,
            "url": race.get("url")}


def _api_result(row: dict) -> dict:
    fastest = row.get("FastestLap", {})
    millis = row.get("Time", {}).get("millis")
    return {"position": _number(row.get("position")), "position_text": row.get("positionText"),
            "car_number": _number(row.get("number")),
            "driver_id": row["Driver"]["driverId"],
            "constructor_id": row["Constructor"]["constructorId"],
            "grid": _number(row.get("grid")), "laps": _number(row.get("laps")),
            "status": row.get("status"), "points": _real(row.get("points")),
            "time_ms": None if millis is None else pd.Timedelta(milliseconds=int(millis)),
            "fastest_lap_rank": _number(fastest.get("rank")),
            "fastest_lap_number": _number(fastest.get("lap")),
            "fastest_lap_time_ms": _garbled_or_time(fastest.get("Time", {}).get("time")),
            "fastest_lap_average_speed_kph": _real(fastest.get("AverageSpeed", {})
                                                   .get("speed"))}


def api_round(race: dict, answers: dict[str, list[dict]]) -> RoundRows:
    """A round from the API: ``race`` is its entry in the season's schedule, ``answers``
    each endpoint's list (every page's, in order): ``results``, ``sprint``,
    ``qualifying``, ``laps`` and ``pitstops`` lists of ``Race`` objects,
    ``driverStandings`` and ``constructorStandings`` lists of ``StandingsLists``."""
    year, round_number = int(race["season"]), int(race["round"])
    rows: dict[str, list[dict]] = {name: [] for name in ROUND_TABLES}
    drivers, constructors = [], []
    rows["history_races"].append(_api_race(race))

    def entries(endpoint: str, list_key: str) -> Iterator[dict]:
        for page_race in answers.get(endpoint, ()):
            yield from page_race.get(list_key, ())

    for endpoint, list_key, table in (("results", "Results", "history_results"),
                                      ("sprint", "SprintResults", "history_sprint_results")):
        for row in entries(endpoint, list_key):
            rows[table].append(_api_result(row))
            drivers.append(_api_driver(row["Driver"]))
            constructors.append(_api_constructor(row["Constructor"]))
    for row in entries("qualifying", "QualifyingResults"):
        rows["history_qualifying"].append({
            "position": _number(row.get("position")), "car_number": _number(row.get("number")),
            "driver_id": row["Driver"]["driverId"],
            "constructor_id": row["Constructor"]["constructorId"],
            **{f"q{part}_ms": parse_time(row.get(f"Q{part}")) for part in (1, 2, 3)}})
        drivers.append(_api_driver(row["Driver"]))
        constructors.append(_api_constructor(row["Constructor"]))
    for lap in entries("laps", "Laps"):
        for timing in lap.get("Timings", ()):
            rows["history_lap_times"].append({
                "driver_id": timing["driverId"], "lap_number": int(lap["number"]),
                "position": _number(timing.get("position")),
                "time_ms": parse_time(timing.get("time"))})
    for stop in entries("pitstops", "PitStops"):
        rows["history_pit_stops"].append({
            "driver_id": stop["driverId"], "stop": int(stop["stop"]),
            "lap_number": _number(stop.get("lap")), "local_time": stop.get("time"),
            "duration_ms": _garbled_or_time(stop.get("duration"))})
    for standing in entries("driverStandings", "DriverStandings"):
        teams = [_api_constructor(team) for team in standing.get("Constructors", ())]
        rows["history_driver_standings"].append({
            **_api_standing(standing), "driver_id": standing["Driver"]["driverId"],
            "constructor_ids": [team["constructor_id"] for team in teams]})
        drivers.append(_api_driver(standing["Driver"]))
        constructors.extend(teams)
    for standing in entries("constructorStandings", "ConstructorStandings"):
        rows["history_constructor_standings"].append({
            **_api_standing(standing),
            "constructor_id": standing["Constructor"]["constructorId"]})
        constructors.append(_api_constructor(standing["Constructor"]))
    return _round_rows(year, round_number, rows, {
        "history_drivers": drivers, "history_constructors": constructors,
        "history_circuits": [_api_circuit(race["Circuit"])]})


def _api_standing(standing: dict) -> dict:
    return {"position": _number(standing.get("position")),
            "position_text": standing.get("positionText"),
            "points": _real(standing.get("points")), "wins": _number(standing.get("wins"))}


# --- from the CSV dump ----------------------------------------------------------------------

# The dump's tables and the columns read from each, by name (docs/DATA.md lists them).
DUMP_COLUMNS = {
    "season": ("id", "year"),
    "circuit": ("id", "reference", "name", "locality", "country", "latitude", "longitude",
                "wikipedia"),
    "round": ("id", "season_id", "circuit_id", "number", "name", "date", "wikipedia",
              "is_cancelled"),
    "session": ("id", "round_id", "type", "timestamp", "has_time_data"),
    "driver": ("id", "reference", "forename", "surname", "abbreviation", "nationality",
               "permanent_car_number", "date_of_birth", "wikipedia"),
    "team": ("id", "reference", "name", "nationality", "wikipedia"),
    "teamdriver": ("id", "team_id", "driver_id", "season_id"),
    "roundentry": ("id", "round_id", "team_driver_id", "car_number"),
    "sessionentry": ("id", "session_id", "round_entry_id", "position", "is_classified",
                     "status", "detail", "points", "grid", "time", "fastest_lap_rank",
                     "laps_completed"),
    "lap": ("id", "session_entry_id", "number", "position", "time", "average_speed",
            "is_entry_fastest_lap"),
    "pitstop": ("id", "session_entry_id", "lap_id", "number", "duration", "local_timestamp"),
    "driverchampionship": ("id", "driver_id", "year", "round_id", "position", "points",
                           "win_count", "is_eligible", "adjustment_type"),
    "teamchampionship": ("id", "team_id", "year", "round_id", "position", "points",
                         "win_count", "is_eligible", "adjustment_type"),
}


def _duration(text) -> dt.timedelta | None:
    """A dump duration ("01:33:56.736", PostgreSQL interval text) as a timedelta."""
    if text is None:
        return None
    return pd.Timedelta(text).to_pytimedelta()


def _api_millis(duration: dt.timedelta) -> pd.Timedelta:
    """The API's ``millis``: int(total seconds * 1000), cut as Jolpica's serializer cuts."""
    return pd.Timedelta(milliseconds=int(duration.total_seconds() * 1000))


def _api_lap_time(duration: dt.timedelta | None) -> pd.Timedelta | None:
    """A lap time as the API shows it: whole milliseconds, the rest cut."""
    if duration is None:
        return None
    return pd.Timedelta(microseconds=duration // dt.timedelta(milliseconds=1) * 1000)


def _flag(text) -> bool | None:
    return None if text is None else text == "t"


class DumpIndex:
    """The dump's tables (dict of name -> frame of text, None for NULL) indexed for the
    joins the API makes: by id, and the children of each parent."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        self.rows = {name: _records(frame) for name, frame in tables.items()}
        self.by_id = {name: {row["id"]: row for row in rows} for name, rows in self.rows.items()}
        self.children: dict[tuple[str, str], dict[str, list[dict]]] = {}

    def of(self, table: str, parent_column: str, parent_id: str) -> list[dict]:
        index = self.children.get((table, parent_column))
        if index is None:
            index = {}
            for row in self.rows[table]:
                index.setdefault(row[parent_column], []).append(row)
            self.children[(table, parent_column)] = index
        return index.get(parent_id, [])


def _records(frame: pd.DataFrame) -> list[dict]:
    values = frame.astype(object).where(frame.notna(), None)
    return values.to_dict("records")


def dump_rounds(tables: dict[str, pd.DataFrame], years: Iterable[int] | None = None
                ) -> Iterator[tuple[tuple[int, int], Callable[[], RoundRows]]]:
    """Every round of the dump (of ``years``, if given), season by season, as its key and
    how to map it: a caller maps one round at a time and can set a round that fails
    aside. Rounds that were cancelled are left out, as the API leaves them out of a
    season's results."""
    wanted = None if years is None else set(years)
    if wanted is not None:
        _keep_seasons(tables, wanted)
    dump = DumpIndex(tables)
    tables.clear()                      # the index holds the rows; the frames can go
    seasons = sorted(dump.rows["season"], key=lambda season: int(season["year"]))
    for season in seasons:
        year = int(season["year"])
        if wanted is not None and year not in wanted:
            continue
        rounds = [row for row in dump.of("round", "season_id", season["id"])
                  if row["number"] is not None and not _flag(row["is_cancelled"])]
        for round_row in sorted(rounds, key=lambda row: int(row["number"])):
            yield ((year, int(round_row["number"])),
                   lambda round_row=round_row, year=year: _dump_round(dump, year, round_row))


def _keep_seasons(tables: dict[str, pd.DataFrame], years: set[int]) -> None:
    """Only the rows of ``years``' rounds, before they are indexed: a run of a few seasons
    holds a few seasons of the dump's lap times, not all of them. Drivers, teams and
    circuits stay whole (a standings row's driver may have raced in no kept round)."""
    def keep(table: str, column: str, ids) -> set:
        frame = tables[table]
        tables[table] = frame[frame[column].isin(ids)]
        return set(tables[table]["id"])

    seasons = keep("season", "year", {str(year) for year in years})
    rounds = keep("round", "season_id", seasons)
    sessions = keep("session", "round_id", rounds)
    entries = keep("sessionentry", "session_id", sessions)
    keep("lap", "session_entry_id", entries)
    keep("pitstop", "session_entry_id", entries)
    keep("driverchampionship", "round_id", rounds)
    keep("teamchampionship", "round_id", rounds)
    keep("teamdriver", "season_id", seasons)


def _dump_round(dump: DumpIndex, year: int, round_row: dict) -> RoundRows:
    round_number = int(round_row["number"])
    sessions = dump.of("session", "round_id", round_row["id"])
    rows: dict[str, list[dict]] = {name: [] for name in ROUND_TABLES}
    drivers, constructors = {}, {}
    circuit = dump.by_id["circuit"][round_row["circuit_id"]]

    def entry_people(round_entry_id: str) -> tuple[dict, dict, dict]:
        round_entry = dump.by_id["roundentry"][round_entry_id]
        team_driver = dump.by_id["teamdriver"][round_entry["team_driver_id"]]
        driver = dump.by_id["driver"][team_driver["driver_id"]]
        team = dump.by_id["team"][team_driver["team_id"]]
        drivers[driver["id"]] = driver
        constructors[team["id"]] = team
        return round_entry, driver, team

    def fastest_lap(session_entry_id: str) -> dict | None:
        flagged = [lap for lap in dump.of("lap", "session_entry_id", session_entry_id)
                   if _flag(lap["is_entry_fastest_lap"])]
        return flagged[0] if flagged else None

    race_sessions = [s for s in sessions if s["type"] == "R"]
    rows["history_races"].append({
        "race_name": round_row["name"], "circuit_id": circuit["reference"],
        "race_date": round_row["date"],
        "race_time_utc": _race_time(race_sessions[-1]) if race_sessions else None,
        "url": round_row["wikipedia"]})

    for session_type, table in (("R", "history_results"), ("SR", "history_sprint_results")):
        for session in (s for s in sessions if s["type"] == session_type):
            for entry in dump.of("sessionentry", "session_id", session["id"]):
                round_entry, driver, team = entry_people(entry["round_entry_id"])
                rows[table].append(_dump_result(entry, round_entry, driver, team,
                                                fastest_lap(entry["id"])))

    rows["history_qualifying"] = _dump_qualifying(dump, sessions, entry_people, fastest_lap)

    for session in race_sessions:
        for entry in dump.of("sessionentry", "session_id", session["id"]):
            _, driver, _ = entry_people(entry["round_entry_id"])
            for lap in dump.of("lap", "session_entry_id", entry["id"]):
                if lap["number"] is None:
                    continue
                rows["history_lap_times"].append({
                    "driver_id": driver["reference"], "lap_number": int(lap["number"]),
                    "position": _int(lap["position"]),
                    "time_ms": _api_lap_time(_duration(lap["time"]))})
            for stop in dump.of("pitstop", "session_entry_id", entry["id"]):
                lap = dump.by_id["lap"].get(stop["lap_id"]) if stop["lap_id"] else None
                rows["history_pit_stops"].append({
                    "driver_id": driver["reference"], "stop": _int(stop["number"]),
                    "lap_number": _int(lap["number"]) if lap else None,
                    "local_time": stop["local_timestamp"],
                    "duration_ms": _api_lap_time(_duration(stop["duration"]))})

    for standing in dump.of("driverchampionship", "round_id", round_row["id"]):
        driver = dump.by_id["driver"][standing["driver_id"]]
        drivers[driver["id"]] = driver
        teams = _teams_up_to(dump, driver["id"], round_row)
        for team in teams:
            constructors[team["id"]] = team
        rows["history_driver_standings"].append({
            **_dump_standing(standing), "driver_id": driver["reference"],
            "constructor_ids": [team["reference"] for team in teams]})
    for standing in dump.of("teamchampionship", "round_id", round_row["id"]):
        team = dump.by_id["team"][standing["team_id"]]
        constructors[team["id"]] = team
        rows["history_constructor_standings"].append({
            **_dump_standing(standing), "constructor_id": team["reference"]})

    return _round_rows(year, round_number, rows, {
        "history_drivers": [_dump_driver(driver) for driver in drivers.values()],
        "history_constructors": [_dump_team(team) for team in constructors.values()],
        "history_circuits": [_dump_circuit(circuit)]})


def _race_time(session: dict) -> str | None:
    """The race's start as the API gives it: the UTC time of day of the session's
    ``timestamp`` when it has one (``has_time_data``)."""
    if not _flag(session["has_time_data"]) or not session["timestamp"]:
        return None
    return pd.Timestamp(session["timestamp"]).tz_convert("UTC").strftime("%H:%M:%S")


def _int(text) -> int | None:
    return None if text is None else int(float(text))


def _float(text) -> float | None:
    return None if text is None else float(text)


def _position_text(entry: dict) -> str:
    if _flag(entry["is_classified"]):
        return str(_int(entry["position"]))
    return _STATUS_LETTERS.get(_int(entry["status"]), "R")


def _dump_result(entry: dict, round_entry: dict, driver: dict, team: dict,
                 fastest: dict | None) -> dict:
    time = _duration(entry["time"])
    row = {"position": _int(entry["position"]), "position_text": _position_text(entry),
           "car_number": _int(round_entry["car_number"]), "driver_id": driver["reference"],
           "constructor_id": team["reference"], "grid": _int(entry["grid"]),
           "laps": _int(entry["laps_completed"]), "status": entry["detail"],
           "points": _float(entry["points"]),
           "time_ms": _api_millis(time) if time else None}
    if fastest is not None:
        row.update({"fastest_lap_rank": _int(entry["fastest_lap_rank"]),
                    "fastest_lap_number": _int(fastest["number"]),
                    "fastest_lap_time_ms": _api_lap_time(_duration(fastest["time"])),
                    "fastest_lap_average_speed_kph": _float(fastest["average_speed"])})
    return row


def _dump_qualifying(dump: DumpIndex, sessions: list[dict], entry_people, fastest_lap
                     ) -> list[dict]:
    qualifying = [s for s in sessions if s["type"].startswith("Q")]
    # in the order the sessions took place (Q1, Q2, Q3 often share one timestamp): a round
    # entry's last one gives its position
    qualifying.sort(key=lambda s: (s["timestamp"] is None, s["timestamp"] or "",
                                   _PART_ORDER.get(s["type"], 0), int(s["id"])))
    by_round_entry: dict[str, list[tuple[dict, dict]]] = {}
    for session in qualifying:
        for entry in dump.of("sessionentry", "session_id", session["id"]):
            by_round_entry.setdefault(entry["round_entry_id"], []).append((session, entry))
    rows = []
    for round_entry_id, entries in by_round_entry.items():
        if all(entry["position"] is None for _, entry in entries):
            continue
        round_entry, driver, team = entry_people(round_entry_id)
        row = {"position": _int(entries[-1][1]["position"]),
               "car_number": _int(round_entry["car_number"]),
               "driver_id": driver["reference"], "constructor_id": team["reference"]}
        for session, entry in entries:
            lap = fastest_lap(entry["id"])
            time = _api_lap_time(_duration(lap["time"])) if lap else None
            # an older single session fills Q1 while it has no time, then Q2 (as the API)
            part = session["type"] if session["type"] in _PART_ORDER else (
                "Q1" if row.get("q1_ms") is None else "Q2")
            row[f"{part.lower()}_ms"] = time
        rows.append(row)
    return rows


def _teams_up_to(dump: DumpIndex, driver_id: str, round_row: dict) -> list[dict]:
    """The teams a driver entered a round of the season with, up to ``round_row``, in the
    order of the first round he entered with each."""
    number = int(round_row["number"])
    first_round: dict[str, int] = {}
    for team_driver in dump.of("teamdriver", "driver_id", driver_id):
        if team_driver["season_id"] != round_row["season_id"]:
            continue
        for round_entry in dump.of("roundentry", "team_driver_id", team_driver["id"]):
            entered = dump.by_id["round"][round_entry["round_id"]]
            if entered["number"] is not None and int(entered["number"]) <= number:
                team_id = team_driver["team_id"]
                first_round[team_id] = min(first_round.get(team_id, number),
                                           int(entered["number"]))
    ordered = sorted(first_round, key=lambda team_id: (first_round[team_id], int(team_id)))
    return [dump.by_id["team"][team_id] for team_id in ordered]


def _dump_standing(standing: dict) -> dict:
    adjustment = _int(standing["adjustment_type"]) or 0
    if adjustment in _ADJUSTMENT_LETTERS:
        text = _ADJUSTMENT_LETTERS[adjustment]
    elif not _flag(standing["is_eligible"]):
        text = "-"
    else:
        text = str(_int(standing["position"]))
    return {"position": _int(standing["position"]), "position_text": text,
            "points": _float(standing["points"]), "wins": _int(standing["win_count"])}


def _dump_driver(driver: dict) -> dict:
    return {"driver_id": driver["reference"], "code": driver["abbreviation"],
            "permanent_number": _int(driver["permanent_car_number"]),
            "given_name": driver["forename"], "family_name": driver["surname"],
            "date_of_birth": driver["date_of_birth"], "nationality": driver["nationality"],
            "url": driver["wikipedia"]}


def _dump_team(team: dict) -> dict:
    return {"constructor_id": team["reference"], "name": team["name"],
            "nationality": team["nationality"], "url": team["wikipedia"]}


def _dump_circuit(circuit: dict) -> dict:
    return {"circuit_id": circuit["reference"], "circuit_name": circuit["name"],
            "locality": circuit["locality"], "country": circuit["country"],
            "latitude": _float(circuit["latitude"]), "longitude": _float(circuit["longitude"]),
            "url": circuit["wikipedia"]}


def merged_references(rounds: Iterable[RoundRows]) -> dict[str, pd.DataFrame]:
    """The drivers, constructors and circuits of ``rounds``, each once (a later round's
    row wins: the newest spelling)."""
    rounds = list(rounds)
    merged = {}
    for name in REFERENCE_TABLES:
        frames = [r.references[name] for r in rounds if len(r.references.get(name, ()))]
        key = _key_columns(name)[0]
        merged[name] = (pd.concat(frames, ignore_index=True)
                        .drop_duplicates(subset=[key], keep="last")
                        .sort_values(key, ignore_index=True)
                        if frames else typed_frame(name, ()))
    return merged

