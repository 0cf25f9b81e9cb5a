"""The synthetic Jolpica dump and API answers (support/synthetic_jolpica_dump.py) agree.

Checked without the project's library: the zip is Jolpica's CSV dump format
(scripts/generate_csv_dump.py); a small reverse serializer written here from jolpica-f1's
``jolpica_api/ergastapi/serializers.py`` and ``views.py`` turns the dump's rows back into
exactly each made round's API rows; and FastF1's own Ergast interface, following every
page of the served answers, reads the same rows. Made from the recordings in
``../shared/fastf1-recorded``: skipped, saying why, where they are absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
import zipfile

import pytest

from support.fastf1_replay import normalise_url, serving
from support.synthetic_jolpica import standings_responses
from support.synthetic_jolpica_dump import (api_responses, dump_zip, made_rounds,
                                            schedule_url)
from support.synthetic_telemetry import scratch_fastf1_cache, unthrottled

# Every column of models.dbml per dump table, as listed there (not the module's copy).
DBML = {
    "baseteam": "id api_id name",
    "championshipsystem": "id api_id reference name eligibility driver_season_split "
                          "driver_best_results team_season_split team_best_results "
                          "team_points_per_session",
    "circuit": "id api_id reference name locality country country_code latitude longitude "
               "altitude wikipedia",
    "driver": "id api_id reference forename surname abbreviation nationality country_code "
              "permanent_car_number date_of_birth wikipedia",
    "driverchampionship": "id session_id driver_id year round_number session_number position "
                          "points win_count highest_finish is_eligible adjustment_type "
                          "season_id round_id",
    "lap": "id session_entry_id api_id number position time average_speed "
           "is_entry_fastest_lap is_deleted",
    "pitstop": "id session_entry_id lap_id api_id number duration local_timestamp",
    "pointsystem": "id api_id reference name driver_position_points driver_fastest_lap "
                   "team_position_points team_fastest_lap partial shared_drive "
                   "is_double_points",
    "round": "id season_id circuit_id api_id number name date race_number wikipedia "
             "is_cancelled",
    "roundentry": "id round_id team_driver_id api_id car_number",
    "season": "id championship_system_id api_id year wikipedia",
    "session": "id round_id number point_system_id api_id type timestamp has_time_data "
               "timezone scheduled_laps is_cancelled",
    "sessionentry": "id session_id round_entry_id api_id position is_classified status detail "
                    "points is_eligible_for_points grid time fastest_lap_rank laps_completed",
    "team": "id base_team_id api_id reference name nationality country_code wikipedia "
            "primary_color",
    "teamchampionship": "id session_id team_id year round_number session_number position "
                        "points win_count highest_finish is_eligible adjustment_type "
                        "season_id round_id",
    "teamdriver": "id team_id driver_id season_id api_id role",
}
BOOLEANS = {"is_cancelled", "has_time_data", "is_classified", "is_eligible",
            "is_eligible_for_points", "is_entry_fastest_lap", "is_deleted",
            "is_double_points", "is_provisional"}
FLOATS = {"latitude", "longitude", "altitude", "points", "average_speed"}
DURATIONS = {("lap", "time"), ("sessionentry", "time"), ("pitstop", "duration")}
INTERVAL = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d*[1-9])?$")
LISTS = ("results", "sprint", "qualifying", "laps", "pit_stops", "driver_standings",
         "constructor_standings")


@pytest.fixture(scope="module")
def rounds(recordings):
    return made_rounds(recordings)


@pytest.fixture(scope="module")
def dump(rounds) -> bytes:
    return dump_zip(rounds)


@pytest.fixture(scope="module")
def tables(dump) -> dict[str, list[dict]]:
    return read_dump(dump)


def read_dump(data: bytes) -> dict[str, list[dict]]:
    """Table (without ``formula_one_``) -> rows as text, read by header."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.removeprefix("formula_one_").removesuffix(".csv"):
                list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"),
                                                newline="")))
                for name in archive.namelist()}


def headers(data: bytes) -> dict[str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.removeprefix("formula_one_").removesuffix(".csv"):
                next(csv.reader(io.StringIO(archive.read(name).decode("utf-8"))))
                for name in archive.namelist()}


# --- the dump's text format ---------------------------------------------------------------

def test_the_zip_is_flat_utf8_csv_with_id_then_alphabetical_columns(dump):
    with zipfile.ZipFile(io.BytesIO(dump)) as archive:
        infos = archive.infolist()
        assert {info.filename for info in infos} >= {f"formula_one_{t}.csv" for t in DBML}
        for info in infos:
            assert "/" not in info.filename and info.date_time == (1999, 1, 1, 0, 0, 0)
            raw = archive.read(info)
            assert raw.endswith(b"\n") and b"\r" not in raw
            raw.decode("utf-8")
    for table, header in headers(dump).items():
        assert header[0] == "id" and header[1:] == sorted(header[1:]), table
        assert set(DBML[table].split()) <= set(header), table


def test_extra_renamed_and_dropped_columns(rounds, dump):
    plain = headers(dump_zip(rounds, extra_columns=False))
    assert {table: set(header) for table, header in plain.items()} == {
        table: set(columns.split()) for table, columns in DBML.items()}
    extra = {table: set(header) - set(DBML[table].split())
             for table, header in headers(dump).items()}
    assert sum(bool(columns) for columns in extra.values()) >= 2, extra
    changed = headers(dump_zip(rounds, rename={("formula_one_sessionentry", "detail"): "zz"},
                               drop={("formula_one_lap", "average_speed")}))
    assert changed["sessionentry"][-1] == "zz" and "detail" not in changed["sessionentry"]
    assert "average_speed" not in changed["lap"] and "number" in changed["lap"]
    with pytest.raises(KeyError):
        dump_zip(rounds, drop={("formula_one_lap", "no_such_column")})


def test_values_are_written_as_postgresql_copy_writes_them(tables):
    seen_half = False
    for table, rows in tables.items():
        for row in rows:
            for column, text in row.items():
                assert text not in ("None", "nan", "NULL", "null", "True", "False"), (
                    table, column, text)
                if column in BOOLEANS:
                    assert text in ("t", "f", ""), (table, column, text)
                elif column in FLOATS and text:
                    float(text)
                    assert not text.endswith(".0"), (table, column, text)
                    seen_half |= text == "0.5"
                elif (table, column) in DURATIONS and text:
                    assert INTERVAL.match(text), (table, column, text)
    assert seen_half
    assert all(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00$", row["timestamp"])
               for row in tables["session"])
    assert all(re.match(r"^\d{4}-\d\d-\d\d$", row["date"]) for row in tables["round"])
    assert {row["duration"] for row in tables["pitstop"]} >= {"00:01:05.123"}
    # NULL is an empty field: a qualifying entry has no points, FP1 no classification
    assert any(row["points"] == "" and row["is_classified"] == "" and row["position"]
               for row in tables["sessionentry"])
    ids = [row["api_id"] for rows in tables.values() for row in rows if "api_id" in row]
    assert len(ids) == len(set(ids)) and all(i.startswith("jolpica_") for i in ids)


def test_the_dump_has_the_noise_a_reader_must_cope_with(tables):
    session_type = {row["id"]: row["type"] for row in tables["session"]}
    entered = {row["team_driver_id"] for row in tables["roundentry"]}
    assert any(row["role"] == "1" and row["id"] not in entered
               for row in tables["teamdriver"])
    entries_by_type: dict[str, int] = {}
    for row in tables["sessionentry"]:
        kind = session_type[row["session_id"]]
        entries_by_type[kind] = entries_by_type.get(kind, 0) + 1
    assert entries_by_type["FP1"] and entries_by_type["SQ1"]
    assert entries_by_type["Q1"] > entries_by_type["Q2"] > entries_by_type["Q3"] > 0
    linked = [row for row in tables["driverchampionship"] if row["round_id"]]
    unlinked = [row for row in tables["driverchampionship"] if not row["round_id"]]
    assert unlinked and {session_type[row["session_id"]] for row in unlinked} == {"SR"}
    assert {row["round_number"] for row in unlinked} <= {row["round_number"]
                                                         for row in linked}
    assert any(row["is_deleted"] == "t" for row in tables["lap"])
    assert any(row["is_classified"] == "f" and row["status"] and row["detail"]
               for row in tables["sessionentry"])


# --- the made rounds ----------------------------------------------------------------------

def _recorded_rows(recordings, path, key):
    body = recordings[normalise_url(f"https://api.jolpi.ca/ergast/f1/{path}")][2]
    return json.loads(body)["MRData"]["RaceTable"]["Races"][0][key]


def test_the_recorded_parts_are_as_recorded(rounds, recordings):
    bahrain, saudi, baku, argentina = rounds
    assert [(r.year, r.number) for r in rounds] == [(2023, 1), (2022, 2), (2023, 4), (1979, 1)]
    assert bahrain.results == _recorded_rows(recordings, "2023/1/results.json", "Results")
    assert bahrain.laps[:5] == _recorded_rows(recordings, "2023/1/laps.json?limit=1200",
                                              "Laps")
    assert saudi.results == _recorded_rows(recordings, "2022/2/results.json", "Results")
    assert saudi.qualifying == _recorded_rows(recordings, "2022/2/qualifying.json",
                                              "QualifyingResults")
    assert saudi.laps[0] == _recorded_rows(recordings, "2022/2/laps/1.json", "Laps")[0]
    assert baku.sprint == _recorded_rows(recordings, "2023/4/sprint.json", "SprintResults")
    assert baku.qualifying == _recorded_rows(recordings, "2023/4/qualifying.json",
                                             "QualifyingResults")
    assert not (baku.results or baku.laps or baku.pit_stops or saudi.driver_standings)
    assert not (argentina.qualifying or argentina.laps or argentina.pit_stops)
    # standings after a first round: as support/synthetic_jolpica.py makes them
    made = standings_responses(recordings, 2023, 1, limit=100)
    lists = [json.loads(body)["MRData"]["StandingsTable"]["StandingsLists"][0]
             for _status, _headers, body in made.values()]
    assert lists[0]["DriverStandings"] == bahrain.driver_standings
    assert lists[1]["ConstructorStandings"] == bahrain.constructor_standings


def test_made_laps_and_pit_stops_fit_the_results(rounds):
    for rnd in rounds[:2]:
        laps_run = {row["Driver"]["driverId"]: int(row["laps"]) for row in rnd.results}
        counted = {driver: 0 for driver in laps_run}
        for lap in rnd.laps:
            positions = [int(t["position"]) for t in lap["Timings"]]
            assert positions == list(range(1, len(positions) + 1))
            for timing in lap["Timings"]:
                counted[timing["driverId"]] += 1
        assert counted == laps_run
        times = {(lap["number"], t["driverId"]): t["time"]
                 for lap in rnd.laps for t in lap["Timings"]}
        for row in rnd.results:
            if "FastestLap" in row:
                fastest = row["FastestLap"]
                assert times[fastest["lap"], row["Driver"]["driverId"]] == (
                    fastest["Time"]["time"])
        stops: dict[str, int] = {}
        for stop in rnd.pit_stops:
            stops[stop["driverId"]] = stops.get(stop["driverId"], 0) + 1
            assert re.match(r"^\d\d:\d\d:\d\d$", stop["time"])
            assert 1 <= int(stop["lap"]) <= laps_run[stop["driverId"]]
        finishers = {row["Driver"]["driverId"] for row in rnd.results
                     if row["positionText"].isdigit()}
        assert set(stops) == finishers and set(stops.values()) == {1, 2, 3}
        assert [s["time"] for s in rnd.pit_stops] == sorted(s["time"] for s in rnd.pit_stops)
        assert any(re.match(r"^1:\d\d\.\d{3}$", s["duration"]) for s in rnd.pit_stops)
    argentina = rounds[3]
    assert {row["positionText"] for row in argentina.results} >= {"1", "R", "D", "F"}
    assert [row["points"] for row in argentina.results].count("0.5") == 2
    assert not any("code" in row["Driver"] or "FastestLap" in row
                   for row in argentina.results)
    assert any(row["positionText"] == "-" and "position" not in row
               for row in argentina.driver_standings)


# --- the dump served back as Jolpica's API serializes it ---------------------------------

def interval(text: str) -> dt.timedelta | None:
    """PostgreSQL interval text ("01:33:56.736") as a timedelta; "" (NULL): None."""
    if not text:
        return None
    hours, minutes, seconds = text.split(":")
    whole, _, fraction = seconds.partition(".")
    return dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(whole),
                        microseconds=int(fraction.ljust(6, "0")))


def format_timedelta(delta: dt.timedelta) -> str:
    """jolpica.formula_one.utils.format_timedelta, as its tests pin it: "1:40.100",
    "59.070", "1:30.000"."""
    minutes, seconds = divmod(delta.total_seconds(), 60)
    return f"{int(minutes)}:{seconds:06.3f}" if minutes else f"{seconds:.3f}"


def points_text(text: str) -> str:
    points = float(text)
    return str(int(points)) if points % 1 == 0 else str(points)


class JolpicaApi:
    """The dump's rows serialized as jolpica-f1's Ergast API does (serializers.py, views.py,
    with models.dbml's newer fastest-lap flag and session timestamp)."""

    def __init__(self, tables: dict[str, list[dict]]):
        self.tables = {name: {row["id"]: row for row in rows} for name, rows in tables.items()}

    def rows(self, table: str):
        return self.tables[table].values()

    def get(self, table: str, row_id: str) -> dict:
        return self.tables[table][row_id]

    def round(self, year: int, number: int) -> dict:
        season = next(s for s in self.rows("season") if s["year"] == str(year))
        return next(r for r in self.rows("round")
                    if r["season_id"] == season["id"] and r["number"] == str(number))

    def session(self, round_row: dict, kind: str) -> dict | None:
        return next((s for s in self.rows("session")
                     if s["round_id"] == round_row["id"] and s["type"] == kind), None)

    def entries(self, session: dict | None) -> list[dict]:
        if session is None:
            return []
        return [e for e in self.rows("sessionentry") if e["session_id"] == session["id"]]

    def fastest_lap(self, entry: dict) -> dict | None:
        return next((lap for lap in self.rows("lap") if lap["session_entry_id"] == entry["id"]
                     and lap["is_entry_fastest_lap"] == "t"), None)

    # ModelSerializers leave out None values
    def driver(self, driver_id: str) -> dict:
        row = self.get("driver", driver_id)
        shown = {"driverId": row["reference"], "permanentNumber": row["permanent_car_number"],
                 "code": row["abbreviation"], "url": row["wikipedia"],
                 "givenName": row["forename"], "familyName": row["surname"],
                 "dateOfBirth": row["date_of_birth"], "nationality": row["nationality"]}
        return {key: value for key, value in shown.items() if value}

    def team(self, team_id: str) -> dict:
        row = self.get("team", team_id)
        shown = {"constructorId": row["reference"], "url": row["wikipedia"],
                 "name": row["name"], "nationality": row["nationality"]}
        return {key: value for key, value in shown.items() if value}

    def race(self, year: int, number: int) -> dict:
        """BaseRaceSerializer: the round, its circuit and its race session's time."""
        round_row = self.round(year, number)
        circuit = self.get("circuit", round_row["circuit_id"])
        race = {"season": str(year), "round": round_row["number"],
                "url": round_row["wikipedia"], "raceName": round_row["name"],
                "Circuit": {"circuitId": circuit["reference"], "url": circuit["wikipedia"],
                            "circuitName": circuit["name"],
                            "Location": {"lat": str(float(circuit["latitude"])),
                                         "long": str(float(circuit["longitude"])),
                                         "locality": circuit["locality"],
                                         "country": circuit["country"]}},
                "date": round_row["date"]}
        session = self.session(round_row, "R")
        if session and session["has_time_data"] == "t":
            race["time"] = session["timestamp"][11:19] + "Z"
        return race

    def results(self, year: int, number: int, kind: str) -> list[dict]:
        """ListResultsSerializer over the R (SR) session's entries, by position."""
        entries = sorted(self.entries(self.session(self.round(year, number), kind)),
                         key=lambda e: int(e["position"]))
        winner = next((interval(e["time"]) for e in entries if e["position"] == "1"), None)
        rows = []
        for entry in entries:
            round_entry = self.get("roundentry", entry["round_entry_id"])
            team_driver = self.get("teamdriver", round_entry["team_driver_id"])
            result = {"number": round_entry["car_number"], "position": entry["position"],
                      "positionText": entry["position"]}
            if entry["points"]:
                result["points"] = points_text(entry["points"])
            result.update({"Driver": self.driver(team_driver["driver_id"]),
                           "Constructor": self.team(team_driver["team_id"]),
                           "grid": entry["grid"] or "None",
                           "laps": entry["laps_completed"] or "None",
                           "status": entry["detail"] or None})
            if entry["is_classified"] != "t":
                result["positionText"] = {"30": "W", "20": "D", "40": "F",
                                          "41": "F"}.get(entry["status"], "R")
            time = interval(entry["time"])
            if time:
                shown = (str(time)[:-3].lstrip("0:") if time == winner
                         else "+" + format_timedelta(time - winner))
                result["Time"] = {"millis": str(int(time.total_seconds() * 1000)),
                                  "time": shown}
            lap = self.fastest_lap(entry)
            if lap:
                fastest = {"rank": entry["fastest_lap_rank"] or "None", "lap": lap["number"],
                           "Time": {"time": str(interval(lap["time"])).lstrip(":0")[:-3]}}
                if lap["average_speed"] and float(lap["average_speed"]):
                    fastest["AverageSpeed"] = {
                        "units": "kph", "speed": str(float(lap["average_speed"])).ljust(7, "0")}
                result["FastestLap"] = {k: v for k, v in fastest.items() if v != "None"}
            rows.append(result)
        return rows

    def qualifying(self, year: int, number: int) -> list[dict]:
        """ListQualifyingSerializer: a row per round entry with Q-type entries, position of
        its last (by session time), Q1/Q2/Q3 each entry's flagged lap ("" without)."""
        round_row = self.round(year, number)
        sessions = {s["id"]: s for s in self.rows("session") if s["round_id"] == round_row["id"]}
        rows = []
        for round_entry in self.rows("roundentry"):
            if round_entry["round_id"] != round_row["id"]:
                continue
            parts = sorted((e for e in self.rows("sessionentry")
                            if e["round_entry_id"] == round_entry["id"]
                            and sessions[e["session_id"]]["type"].startswith("Q")),
                           key=lambda e: sessions[e["session_id"]]["timestamp"])
            if not parts:
                continue
            team_driver = self.get("teamdriver", round_entry["team_driver_id"])
            result = {"number": round_entry["car_number"], "position": parts[-1]["position"],
                      "Driver": self.driver(team_driver["driver_id"]),
                      "Constructor": self.team(team_driver["team_id"])}
            for entry in parts:
                lap = self.fastest_lap(entry)
                result[sessions[entry["session_id"]]["type"]] = (
                    format_timedelta(interval(lap["time"])) if lap and lap["time"] else "")
            rows.append(result)
        return sorted(rows, key=lambda row: int(row["position"]))

    def laps(self, year: int, number: int) -> list[dict]:
        """ListLapSerializer: the race's laps by (number, position), grouped by number."""
        entries = {e["id"]: e for e in self.entries(self.session(self.round(year, number), "R"))}
        laps = sorted((lap for lap in self.rows("lap") if lap["session_entry_id"] in entries),
                      key=lambda lap: (int(lap["number"]), int(lap["position"])))
        grouped: list[dict] = []
        for lap in laps:
            if not grouped or grouped[-1]["number"] != lap["number"]:
                grouped.append({"number": lap["number"], "Timings": []})
            grouped[-1]["Timings"].append({
                "driverId": self.driver_of(entries[lap["session_entry_id"]])["driverId"],
                "position": lap["position"],
                "time": format_timedelta(interval(lap["time"]))})
        return grouped

    def driver_of(self, entry: dict) -> dict:
        round_entry = self.get("roundentry", entry["round_entry_id"])
        return self.driver(self.get("teamdriver", round_entry["team_driver_id"])["driver_id"])

    def pit_stops(self, year: int, number: int) -> list[dict]:
        """ListPitStopSerializer: the race's stops ordered by local_timestamp."""
        entries = {e["id"]: e for e in self.entries(self.session(self.round(year, number), "R"))}
        stops = sorted((s for s in self.rows("pitstop") if s["session_entry_id"] in entries),
                       key=lambda s: s["local_timestamp"])
        return [{"driverId": self.driver_of(entries[s["session_entry_id"]])["driverId"],
                 "lap": self.get("lap", s["lap_id"])["number"], "stop": s["number"],
                 "time": s["local_timestamp"],
                 "duration": str(interval(s["duration"])).lstrip("0:")[:-3]}
                for s in stops]

    def standings(self, year: int, number: int, table: str) -> list[dict]:
        """The standings views: rows of that year linked to the round, by position."""
        round_id = self.round(year, number)["id"]
        rows = sorted((r for r in self.rows(table)
                       if r["year"] == str(year) and r["round_id"] == round_id),
                      key=lambda r: (r["position"] == "", int(r["position"] or 0)))
        shown = []
        for row in rows:
            position_text = ({"101": "D", "102": "E"}.get(row["adjustment_type"])
                             or ("-" if row["is_eligible"] != "t" else row["position"]))
            standing = {"position": row["position"], "positionText": position_text,
                        "points": points_text(row["points"]), "wins": row["win_count"]}
            if table == "driverchampionship":
                standing["Driver"] = self.driver(row["driver_id"])
                standing["Constructors"] = self.constructors(row["driver_id"], year, number)
            else:
                standing["Constructor"] = self.team(row["team_id"])
            shown.append({key: value for key, value in standing.items() if value})
        return shown

    def constructors(self, driver_id: str, year: int, number: int) -> list[dict]:
        """The driver's teams of the season with a round entry in a round numbered <= the
        round, in the order of their first such round."""
        season_id = next(s["id"] for s in self.rows("season") if s["year"] == str(year))
        first: dict[str, int] = {}
        for team_driver in self.rows("teamdriver"):
            if team_driver["driver_id"] != driver_id or team_driver["season_id"] != season_id:
                continue
            for round_entry in self.rows("roundentry"):
                if round_entry["team_driver_id"] != team_driver["id"]:
                    continue
                round_number = int(self.get("round", round_entry["round_id"])["number"])
                if round_number <= number:
                    team = team_driver["team_id"]
                    first[team] = min(first.get(team, round_number), round_number)
        return [self.team(team) for team in sorted(first, key=first.get)]

    def round_lists(self, year: int, number: int) -> dict[str, list[dict]]:
        return {"results": self.results(year, number, "R"),
                "sprint": self.results(year, number, "SR"),
                "qualifying": self.qualifying(year, number),
                "laps": self.laps(year, number), "pit_stops": self.pit_stops(year, number),
                "driver_standings": self.standings(year, number, "driverchampionship"),
                "constructor_standings": self.standings(year, number, "teamchampionship")}


def test_the_dump_serializes_back_into_each_rounds_answers(rounds, tables):
    api = JolpicaApi(tables)
    for rnd in rounds:
        assert api.race(rnd.year, rnd.number) == rnd.race
        served = api.round_lists(rnd.year, rnd.number)
        for name in LISTS:
            assert served[name] == getattr(rnd, name), (rnd.year, rnd.number, name)


def test_a_dump_without_extra_columns_holds_the_same_rows(rounds):
    """A dump without the extra columns holds the same rows."""
    plain = read_dump(dump_zip(rounds, extra_columns=False))
    api = JolpicaApi(plain)
    bahrain = rounds[0]
    assert api.round_lists(2023, 1)["results"] == bahrain.results


# --- FastF1's Ergast interface reads the served answers ------------------------------------

ERGAST_METHODS = {"results": ("get_race_results", "Results"),
                  "sprint": ("get_sprint_results", "SprintResults"),
                  "qualifying": ("get_qualifying_results", "QualifyingResults"),
                  "laps": ("get_lap_times", "Laps"), "pit_stops": ("get_pit_stops", "PitStops"),
                  "driver_standings": ("get_driver_standings", "DriverStandings"),
                  "constructor_standings": ("get_constructor_standings",
                                            "ConstructorStandings")}


def every_page(first) -> list:
    pages = [first]
    while True:
        try:
            pages.append(pages[-1].get_next_result_page())
        except ValueError:
            return pages


def merged_rows(pages: list, key: str, header: dict | None) -> list[dict]:
    """The rows of every page; a lap split over two pages joined again; every Race
    header equal to ``header``."""
    rows: list[dict] = []
    for page in pages:
        for item in page:
            if header is not None:
                assert {k: v for k, v in item.items() if k != key} == header
            for row in item[key]:
                if key == "Laps" and rows and rows[-1]["number"] == row["number"]:
                    rows[-1] = {**rows[-1], "Timings": rows[-1]["Timings"] + row["Timings"]}
                else:
                    rows.append(row)
    return rows


def test_fastf1_ergast_reads_the_same_rows_page_by_page(rounds):
    from fastf1.ergast import Ergast

    responses = api_responses(rounds)
    read: dict = {}
    with scratch_fastf1_cache(), unthrottled(), serving(responses) as replay:
        ergast = Ergast(result_type="raw", auto_cast=False, limit=100)
        for rnd in rounds:
            for name, (method, key) in ERGAST_METHODS.items():
                pages = every_page(getattr(ergast, method)(season=rnd.year, round=rnd.number))
                header = None if "standings" in name else rnd.race
                read[rnd.year, rnd.number, name] = (pages, merged_rows(pages, key, header))
        schedules = {year: every_page(ergast.get_race_schedule(season=year))
                     for year in {rnd.year for rnd in rounds}}
    requested = [normalise_url(url) for url in replay.requested]
    assert set(requested) <= set(responses), set(requested) - set(responses)
    assert set(requested) == set(responses)   # every answer made is one FastF1 asks for
    for rnd in rounds:
        for name in ERGAST_METHODS:
            pages, rows = read[rnd.year, rnd.number, name]
            assert rows == getattr(rnd, name), (rnd.year, rnd.number, name)
            if name == "laps":
                timings = sum(len(lap["Timings"]) for lap in rnd.laps)
                assert len(pages) == max(1, -(-timings // 100))
                assert all(page.total_results == timings for page in pages)
    bahrain_laps = read[2023, 1, "laps"][0]
    assert any(page[0]["Laps"][0]["number"] == previous[0]["Laps"][-1]["number"]
               for previous, page in itertools.pairwise(bahrain_laps))   # a lap split
    assert read[2023, 4, "results"][0][0].total_results == 0
    for year, pages in schedules.items():
        races = [race for page in pages for race in page]
        made = sorted((rnd for rnd in rounds if rnd.year == year), key=lambda r: r.number)
        assert [{k: race[k] for k in rnd.race} for race, rnd in zip(races, made)] == [
            rnd.race for rnd in made]
        assert len(races) == len(made)
    assert "FirstPractice" in schedules[2023][0][0] and "SprintShootout" in (
        schedules[2023][0][1])
    assert schedule_url(1979) in responses
