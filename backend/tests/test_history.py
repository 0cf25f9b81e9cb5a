"""Jolpica's history (1950 on) in the history tables: from its CSV dump and from its API,
the same rows; every table equal to the Ergast JSON it came from; reruns add nothing; a
corrected round replaced; a damaged, wrong or changed dump is one line and stores nothing.

The rounds are support/synthetic_jolpica_dump.py's: recorded Jolpica answers where they
exist (race results, qualifying, sprint, the first page of a race's lap times), the rest
SYNTHETIC (made in Jolpica's exact formats: the other lap times, pit stops, standings, a
1979 race); the CSV dump is made from them in the dump's exact format. The API is served
by the replay transport; FastF1 runs online against it.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import signal
import subprocess
import sys
import time
import zipfile

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import create_engine, text

from f1db.errors import UsageError
from f1db.history_rows import parse_time
from f1db.models import HISTORY_TABLES
from f1db.populator import DatabasePopulator
from f1db.sources import jolpica_dump
from support.fastf1_replay import FaultRule, Faults, normalise_url, serving
from support.synthetic_jolpica_dump import api_responses, dump_zip, made_rounds
from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled

pytestmark = pytest.mark.slow
TODAY = dt.date(2026, 12, 5)
LEDGER_COLUMNS = ("source", "dump_date", "stored_at_utc")
DUMP_DATE = dt.date(2026, 11, 20)
DUMP_BYTES_URL = "https://files.jolpi.ca/dumps/jolpica-f1-csv-2026-11-20.zip"
JOLPICA = "https://api.jolpi.ca/ergast/f1"


@pytest.fixture(scope="module")
def rounds(recordings):
    return made_rounds(recordings)


@pytest.fixture
def dump_path(rounds, tmp_path):
    path = tmp_path / "jolpica-f1-csv-2026-11-20.zip"
    path.write_bytes(dump_zip(rounds))
    return path


def years_of(rounds) -> tuple[int, ...]:
    return tuple(sorted({int(r.race["season"]) for r in rounds}))


def load(database_url, tmp_path, source="dump", *, years=None, responses=None, faults=None,
         offline=False, **options):
    """One history run; (summary, URLs requested)."""
    populator = DatabasePopulator(years or 2023, database_url=database_url,
                                  cache_dir=tmp_path / "fastf1-cache", offline=offline)
    (tmp_path / "fastf1-cache").mkdir(exist_ok=True)
    with restoring_fastf1_cache(), unthrottled(), serving(responses or {}, faults) as replay:
        try:
            summary = populator.load_history(source, all_seasons=years is None and
                                             source == "dump", today=TODAY, **options)
        finally:
            populator.close()
    return summary, list(replay.requested)


def history(database_url) -> dict[str, pd.DataFrame]:
    """Every history table, rows sorted by key, the ledger columns left out."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = {}
            for name in HISTORY_TABLES:
                frame = pd.read_sql(text(f"SELECT * FROM {name}"), connection)
                frame = frame.drop(columns=[c for c in LEDGER_COLUMNS + ("digest",)
                                            if c in frame.columns])
                tables[name] = frame.sort_values(list(frame.columns[:4])).reset_index(
                    drop=True)
            return tables
    finally:
        engine.dispose()


def wipe_history(database_url) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            for name in HISTORY_TABLES:
                connection.execute(text(f"DELETE FROM {name}"))
    finally:
        engine.dispose()


# --- the two ways in ---------------------------------------------------------------------

def test_the_dump_and_the_api_give_identical_tables(rounds, dump_path, database_url,
                                                    tmp_path):
    summary, requested = load(database_url, tmp_path, dump_file=dump_path)
    assert summary.exit_code == 0, summary.render()
    assert requested == []                               # a local dump: no request at all
    assert len(summary.new) == len(rounds)
    from_dump = history(database_url)
    wipe_history(database_url)

    summary, requested = load(database_url, tmp_path, "api", years=years_of(rounds),
                              responses=api_responses(rounds))
    assert summary.exit_code == 0, summary.render()
    assert len(summary.new) == len(rounds)
    from_api = history(database_url)
    for name in HISTORY_TABLES:
        assert len(from_dump[name]) or name in ("history_pit_stops",), name
        assert_frame_equal(from_dump[name], from_api[name], check_dtype=False, obj=name)
    assert all("api.jolpi.ca/ergast/f1/" in url for url in requested)


def test_every_history_table_equals_the_json_it_came_from(rounds, dump_path, database_url,
                                                          tmp_path):
    summary, _ = load(database_url, tmp_path, dump_file=dump_path)
    assert summary.exit_code == 0, summary.render()
    stored = history(database_url)
    expected = expected_tables(rounds)
    assert set(expected) == {"history_results", "history_sprint_results",
                             "history_qualifying", "history_lap_times", "history_pit_stops",
                             "history_driver_standings"}
    for name, frame in expected.items():
        key = list(frame.columns[:4])
        got = stored[name][list(frame.columns)].sort_values(key)
        assert_frame_equal(plain(got), plain(frame.sort_values(key)), check_dtype=False,
                           obj=name)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as plain Python objects, every missing one None, whatever the driver gave."""
    out = frame.reset_index(drop=True).astype(object)
    return out.where(frame.reset_index(drop=True).notna(), None)


def expected_tables(rounds) -> dict[str, pd.DataFrame]:
    """The history tables worked out from the Ergast JSON directly (not through the
    library's mapping): a row per JSON row, values as the JSON writes them."""
    def ms(text):
        value = parse_time(text)
        return None if value is None else int(value / pd.Timedelta(milliseconds=1))

    def num(value, cast=int):
        return None if value in (None, "") else cast(value)

    tables = {"history_results": [], "history_qualifying": [], "history_lap_times": [],
              "history_pit_stops": [], "history_driver_standings": [],
              "history_sprint_results": []}
    for r in rounds:
        year, number = int(r.race["season"]), int(r.race["round"])
        for table, rows in (("history_results", r.results),
                            ("history_sprint_results", r.sprint)):
            for row in rows:
                fastest = row.get("FastestLap", {})
                tables[table].append({
                    "year": year, "round_number": number, "position": int(row["position"]),
                    "position_text": row["positionText"], "driver_id": row["Driver"]["driverId"],
                    "constructor_id": row["Constructor"]["constructorId"],
                    "points": num(row.get("points"), float), "status": row["status"],
                    "time_ms": num(row.get("Time", {}).get("millis")),
                    "fastest_lap_number": num(fastest.get("lap")),
                    "fastest_lap_time_ms": ms(fastest.get("Time", {}).get("time"))})
        for row in r.qualifying:
            tables["history_qualifying"].append({
                "year": year, "round_number": number, "position": int(row["position"]),
                "driver_id": row["Driver"]["driverId"], "q1_ms": ms(row.get("Q1")),
                "q2_ms": ms(row.get("Q2")), "q3_ms": ms(row.get("Q3"))})
        for lap in r.laps:
            for timing in lap["Timings"]:
                tables["history_lap_times"].append({
                    "year": year, "round_number": number, "driver_id": timing["driverId"],
                    "lap_number": int(lap["number"]), "position": int(timing["position"]),
                    "time_ms": ms(timing["time"])})
        for stop in r.pit_stops:
            tables["history_pit_stops"].append({
                "year": year, "round_number": number, "driver_id": stop["driverId"],
                "stop": int(stop["stop"]), "lap_number": int(stop["lap"]),
                "local_time": stop["time"], "duration_ms": ms(stop["duration"])})
        for row in r.driver_standings:
            tables["history_driver_standings"].append({
                "year": year, "round_number": number, "driver_id": row["Driver"]["driverId"],
                "position": num(row.get("position")), "position_text": row["positionText"],
                "points": float(row["points"]), "wins": int(row["wins"]),
                "constructor_ids": json.dumps([c["constructorId"]
                                               for c in row["Constructors"]])})
    return {name: pd.DataFrame(rows) for name, rows in tables.items() if rows}


# --- reruns and corrections ---------------------------------------------------------------

def test_a_rerun_adds_nothing_and_a_corrected_round_is_replaced(rounds, dump_path,
                                                                database_url, tmp_path):
    load(database_url, tmp_path, dump_file=dump_path)
    before = history(database_url)
    summary, _ = load(database_url, tmp_path, dump_file=dump_path)
    assert (summary.new, summary.replaced, summary.unchanged) == ([], [], len(rounds))
    assert sum(summary.rows.values()) == 0
    for name in HISTORY_TABLES:
        assert_frame_equal(history(database_url)[name], before[name], obj=name)

    corrected = [r for r in rounds if r.results][0]
    winner = corrected.results[0]
    original_points = winner["points"]
    winner["points"] = str(float(original_points) + 1).removesuffix(".0")
    try:
        dump_path.write_bytes(dump_zip(rounds))
        summary, _ = load(database_url, tmp_path, dump_file=dump_path)
    finally:
        winner["points"] = original_points
    key = (int(corrected.race["season"]), int(corrected.race["round"]))
    assert summary.replaced == [key] and summary.new == []
    after = history(database_url)
    results = after["history_results"]
    assert len(results) == len(before["history_results"])           # replaced, not doubled
    row = results[(results.year == key[0]) & (results.round_number == key[1])
                  & (results.position == 1)]
    assert float(row.points.iloc[0]) == float(original_points) + 1


# --- downloading the dump -----------------------------------------------------------------

def dump_responses(zip_bytes: bytes, *, sha: str | None = None, size: int | None = None,
                   date: dt.date = DUMP_DATE):
    """Jolpica's manifest and the delayed CSV dump (a redirect to the file), as made here:
    SYNTHETIC (the recordings hold neither)."""
    import hashlib

    manifest = {"dumps": [{"type": "csv", "delayed": True, "date": date.isoformat(),
                           "sha256": sha or hashlib.sha256(zip_bytes).hexdigest(),
                           "size": size if size is not None else len(zip_bytes),
                           "url": jolpica_dump.DELAYED_CSV_URL}]}
    return {
        normalise_url(jolpica_dump.MANIFEST_URL): (
            200, {"Content-Type": "application/json"}, json.dumps(manifest).encode()),
        normalise_url(jolpica_dump.DELAYED_CSV_URL): (
            302, {"Location": DUMP_BYTES_URL}, b""),
        normalise_url(DUMP_BYTES_URL): (200, {"Content-Type": "application/zip"}, zip_bytes),
    }


def test_the_dump_is_downloaded_checked_and_used_once(rounds, database_url, tmp_path):
    zip_bytes = dump_zip(rounds)
    faults = Faults([FaultRule(DUMP_BYTES_URL, "reset", times=1)])
    summary, requested = load(database_url, tmp_path, responses=dump_responses(zip_bytes),
                              faults=faults)
    assert summary.exit_code == 0, summary.render()
    assert summary.downloaded and summary.dump_date == DUMP_DATE
    assert "CC BY-NC-SA 4.0" in summary.render() and "2026-11-20" in summary.render()
    folder = tmp_path / "fastf1-cache" / "jolpica"
    assert [p.name for p in folder.iterdir()] == ["jolpica-f1-csv-2026-11-20.zip"]
    assert requested.count(DUMP_BYTES_URL) == 2           # the reset attempt, then the file
    # the next run finds the same dump already there: the manifest only
    summary, requested = load(database_url, tmp_path, responses=dump_responses(zip_bytes))
    assert not summary.downloaded and requested == [jolpica_dump.MANIFEST_URL]
    assert summary.unchanged == len(rounds)


def test_a_download_that_is_not_the_published_dump_stores_nothing(rounds, database_url,
                                                                  tmp_path):
    zip_bytes = dump_zip(rounds)
    with pytest.raises(jolpica_dump.FetchError) as raised:
        load(database_url, tmp_path, responses=dump_responses(zip_bytes, sha="0" * 64))
    assert "SHA-256" in str(raised.value) and "\n" not in str(raised.value)
    assert not list((tmp_path / "fastf1-cache" / "jolpica").iterdir())   # no partial file
    assert all(frame.empty for frame in history(database_url).values())


def truncated(zip_bytes: bytes) -> bytes:
    return zip_bytes[: len(zip_bytes) * 2 // 3]


def corrupt(zip_bytes: bytes) -> bytes:
    """The lap table's compressed bytes damaged, the zip's directory intact."""
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    info = archive.getinfo("formula_one_lap.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data = bytearray(zip_bytes)
    for i in range(start, start + 40):
        data[i] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("damage,words", [(truncated, "not a readable zip"),
                                          (corrupt, "damaged")])
def test_a_damaged_dump_is_one_line_and_stores_nothing(rounds, database_url, tmp_path,
                                                       damage, words):
    path = tmp_path / "jolpica-f1-csv.zip"
    path.write_bytes(damage(dump_zip(rounds)))
    with pytest.raises(jolpica_dump.DumpError) as raised:
        load(database_url, tmp_path, dump_file=path)
    assert words in str(raised.value) and "\n" not in str(raised.value)
    assert all(frame.empty for frame in history(database_url).values())


def test_a_dump_with_a_renamed_column_says_which(rounds, database_url, tmp_path):
    path = tmp_path / "jolpica-f1-csv.zip"
    path.write_bytes(dump_zip(rounds, rename={("sessionentry", "laps_completed"): "laps_done"}))
    with pytest.raises(jolpica_dump.DumpError) as raised:
        load(database_url, tmp_path, dump_file=path)
    assert "formula_one_sessionentry.csv" in str(raised.value)
    assert "laps_completed" in str(raised.value)
    assert all(frame.empty for frame in history(database_url).values())


# --- the API way --------------------------------------------------------------------------

def test_a_round_before_1994_asks_only_what_jolpica_has_for_its_era(rounds, database_url,
                                                                    tmp_path):
    old = [r for r in rounds if int(r.race["season"]) < 1994]
    assert old, "the made rounds include one before 1994"
    summary, requested = load(database_url, tmp_path, "api", years=years_of(old),
                              responses=api_responses(old))
    assert summary.exit_code == 0, summary.render()
    endpoints = sorted({url.split("?")[0].rsplit("/", 1)[-1] for url in requested})
    assert endpoints == ["constructorStandings.json", "driverStandings.json", "races.json",
                         "results.json"]
    # stored with its results and standings: a rerun asks nothing of the round (the
    # schedule comes from FastF1's HTTP cache, fresh for 10 minutes)
    summary, requested = load(database_url, tmp_path, "api", years=years_of(old),
                              responses=api_responses(old))
    assert summary.unchanged == len(old)
    assert [url for url in requested if "races.json" not in url] == []


# --- the plan -----------------------------------------------------------------------------

def test_the_plan_says_per_season_what_is_stored_and_what_the_api_would_cost(
        rounds, recordings, database_url, tmp_path):
    from f1db.sources.jolpica_api import round_requests

    old = [r for r in rounds if int(r.race["season"]) == 1979]
    responses = {**recordings, **api_responses(old)}
    (tmp_path / "fastf1-cache").mkdir()

    def plan():
        populator = DatabasePopulator(1979, database_url=database_url,
                                      cache_dir=tmp_path / "fastf1-cache")
        with restoring_fastf1_cache(), unthrottled(), serving(responses) as replay:
            try:
                return populator.plan_history(today=TODAY), list(replay.requested)
            finally:
                populator.close()

    report, _ = plan()                       # an empty database: nothing stored, no schema
    [season] = report.seasons
    assert (season.year, season.rounds_run, season.stored) == (1979, 15, 0)
    assert season.requests == 1 + 15 * round_requests(1979)
    assert season.seconds > 0
    text = report.render()
    assert "1979: 15 rounds run, 0 stored, 15 left" in text
    assert "the dump is one download" in text and "CC BY-NC-SA 4.0" in text

    load(database_url, tmp_path, "api", years=(1979,), responses=responses)
    report, requested = plan()
    assert (report.seasons[0].stored, report.seasons[0].left) == (1, 14)
    assert report.to_json()["seasons"][0]["left"] == 14
    assert [url for url in requested if "/1979/1/" in url] == []     # the plan asks no round


# --- as a user runs it --------------------------------------------------------------------

def test_populate_db_history_file_stores_once_and_a_damaged_one_is_one_line(rounds,
                                                                            tmp_path):
    from support.entry_scripts import assert_one_line_error, populate, sqlite_url_of

    dump = tmp_path / "jolpica-f1-csv-2026-11-20.zip"
    dump.write_bytes(dump_zip(rounds))
    url = sqlite_url_of(tmp_path / "f1.db")
    first = populate(tmp_path, "--history-file", dump, "--database-url", url)
    assert first.returncode == 0, first.stderr
    assert f"rounds: {len(rounds)} new, 0 replaced" in first.stdout
    assert "Jolpica's CSV dump 2026-11-20" in first.stdout
    assert "CC BY-NC-SA 4.0" in first.stdout
    again = populate(tmp_path, "--history-file", dump, "--database-url", url)
    assert again.returncode == 0 and f"0 new, 0 replaced (corrected by Jolpica), " \
        f"{len(rounds)} unchanged" in again.stdout

    dump.write_bytes(dump.read_bytes()[:1000])
    broken = populate(tmp_path, "--history-file", dump, "--database-url", url)
    assert broken.returncode == 1
    assert "Traceback" not in broken.stderr and len(broken.stderr.strip().splitlines()) == 1
    assert "not a readable zip" in broken.stderr
    missing = populate(tmp_path, "--history-file", tmp_path / "nope.zip", "--database-url", url)
    assert "does not exist" in assert_one_line_error(missing)


# --- the edges of the dump and the API ------------------------------------------------------

def test_rounds_after_the_dump_was_made_are_left_to_the_api_and_never_emptied(
        rounds, database_url, tmp_path):
    """A dump made on 2023-04-01 cannot hold the race of 2023-04-30; and a round the API
    stored with its results is never replaced by a dump's round without them."""
    bahrain = [r for r in rounds if (r.year, r.number) == (2023, 1)]
    summary, _ = load(database_url, tmp_path, "api", years=(2023,),
                      responses=api_responses(bahrain))
    assert summary.new == [(2023, 1)], summary.render()

    early = tmp_path / "jolpica-f1-csv-2023-04-01.zip"
    results_before = len(bahrain[0].results)
    without = copy.deepcopy(rounds)             # a dump from before Jolpica had the race
    for made in without:
        if (made.year, made.number) == (2023, 1):
            made.results, made.laps, made.pit_stops = [], [], []
    early.write_bytes(dump_zip(without))
    summary, _ = load(database_url, tmp_path, dump_file=early)
    assert summary.exit_code == 0, summary.render()
    assert summary.not_in_dump == 1                      # 2023 round 4 (2023-04-30)
    assert summary.kept == 1                             # 2023 round 1 keeps its results
    assert sorted(summary.new) == [(1979, 1), (2022, 2)]
    stored = history(database_url)
    assert len(stored["history_results"].query("year == 2023")) == results_before
    assert not len(stored["history_races"].query("year == 2023 and round_number == 4"))


def test_a_round_that_does_not_map_is_named_and_the_others_are_stored(rounds, database_url,
                                                                      tmp_path):
    season = [r for r in rounds if r.year == 2023]
    responses = api_responses(season)
    # round 1: a lap count that is not a number; round 4: a sprint entry without position
    bahrain = normalise_url(f"{JOLPICA}/2023/1/results.json?limit=100")
    status, headers, body = responses[bahrain]
    responses[bahrain] = (status, headers, body.replace(b'"laps":"57"', b'"laps":"57 laps"', 1))
    baku = normalise_url(f"{JOLPICA}/2023/4/sprint.json?limit=100")
    status, headers, body = responses[baku]
    responses[baku] = (status, headers, body.replace(b'"position":"20"', b'"position":"None"'))
    summary, _ = load(database_url, tmp_path, "api", years=(2023,), responses=responses)
    assert summary.exit_code == 1
    assert list(summary.failed) == ["2023 round 1"]
    assert "ValueError" in summary.failed["2023 round 1"]
    assert summary.new == [(2023, 4)]
    assert summary.left_out == {"history_sprint_results": 1}
    assert "failed 2023 round 1" in summary.render()
    assert "left out: history_sprint_results 1" in summary.render()


def test_offline_the_dump_downloaded_before_is_used(rounds, database_url, tmp_path):
    with pytest.raises(UsageError, match="no Jolpica dump was downloaded"):
        load(database_url, tmp_path, offline=True)
    load(database_url, tmp_path, responses=dump_responses(dump_zip(rounds)))
    wipe_history(database_url)
    summary, requested = load(database_url, tmp_path, offline=True)
    assert requested == [] and summary.dump_date == DUMP_DATE
    assert len(summary.new) == len(rounds)


# --- killed and stopped -------------------------------------------------------------------

def many_rounds(rounds, seasons: int = 12) -> list:
    """The Bahrain round as every round of ``seasons`` seasons (copies, SYNTHETIC): a dump
    large enough to be stopped midway."""
    bahrain = [r for r in rounds if (r.year, r.number) == (2023, 1)][0]
    made = []
    for year in range(2000, 2000 + seasons):
        for number in range(1, 11):
            copied = copy.deepcopy(bahrain)
            copied.race["season"], copied.race["round"] = str(year), str(number)
            copied.race["date"] = f"{year}-05-{number:02d}"
            made.append(copied)
    return made


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_killed_or_stopped_midway_keeps_whole_rounds_and_the_next_run_completes(
        rounds, database_url, tmp_path, how):
    from support.entry_scripts import POPULATE, script_env

    made = many_rounds(rounds)
    dump = tmp_path / "jolpica-f1-csv-2026-11-20.zip"
    dump.write_bytes(dump_zip(made))
    command = [sys.executable, str(POPULATE), "--history-file", str(dump), "--database-url",
               database_url, "--log-file", str(tmp_path / "log"), "--quiet"]
    process = subprocess.Popen(command, cwd=tmp_path, env=script_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    engine = create_engine(database_url)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            with engine.connect() as connection:
                try:
                    stored = connection.execute(text("SELECT count(*) FROM history_races")
                                                ).scalar()
                except Exception:            # the schema is being created
                    stored = 0
            if stored >= 5:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it could be stopped"
        process.send_signal(how)
        out, err = process.communicate(timeout=60)
        with engine.connect() as connection:
            per_round = connection.execute(text(
                "SELECT r.year, r.round_number, (SELECT count(*) FROM history_results x "
                "WHERE x.year = r.year AND x.round_number = r.round_number), "
                "(SELECT count(*) FROM history_lap_times x WHERE x.year = r.year "
                "AND x.round_number = r.round_number) FROM history_races r")).fetchall()
            orphans = connection.execute(text(
                "SELECT count(*) FROM history_lap_times x WHERE NOT EXISTS (SELECT 1 FROM "
                "history_races r WHERE r.year = x.year AND r.round_number = x.round_number)"
            )).scalar()
    finally:
        engine.dispose()
    assert 5 <= len(per_round) < len(made)
    whole = (len(made[0].results), sum(len(lap["Timings"]) for lap in made[0].laps))
    assert all(tuple(row[2:]) == whole for row in per_round)    # every stored round whole
    assert orphans == 0                                         # and nothing half-stored
    if how == signal.SIGTERM:
        assert process.returncode == 143, err
        assert "Traceback" not in err and "stopped by SIGTERM" in (out + err)
    else:
        assert process.returncode == -signal.SIGKILL

    summary, _ = load(database_url, tmp_path, dump_file=dump)
    assert summary.exit_code == 0, summary.render()
    assert len(summary.new) == len(made) - len(per_round)
    assert summary.unchanged == len(per_round)
    assert len(history(database_url)["history_races"]) == len(made)


def test_two_runs_on_one_database_at_once_store_each_round_once(rounds, database_url,
                                                                 tmp_path):
    from support.entry_scripts import POPULATE, script_env

    made = many_rounds(rounds, seasons=3)
    dump = tmp_path / "jolpica-f1-csv-2026-11-20.zip"
    dump.write_bytes(dump_zip(made))
    command = [sys.executable, str(POPULATE), "--history-file", str(dump), "--database-url",
               database_url, "--log-file", "", "--quiet"]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=script_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=180)
        assert run.returncode == 0, err
    together = history(database_url)
    assert len(together["history_races"]) == len(made)
    wipe_history(database_url)
    load(database_url, tmp_path, dump_file=dump)
    alone = history(database_url)
    for name in HISTORY_TABLES:
        assert_frame_equal(together[name], alone[name], obj=name)


def test_rounds_raced_after_a_downloaded_dump_are_asked_of_the_api(rounds, database_url,
                                                                   tmp_path):
    made_early = dump_zip(rounds)               # as if made on 2023-04-01: round 4 after it
    baku = [r for r in rounds if (r.year, r.number) == (2023, 4)]
    responses = {**dump_responses(made_early, date=dt.date(2023, 4, 1)),
                 **api_responses(baku)}
    summary, requested = load(database_url, tmp_path, years=(2023,), responses=responses)
    assert summary.exit_code == 0, summary.render()
    assert summary.not_in_dump == 1 and summary.api_after_dump
    assert sorted(summary.new) == [(2023, 1), (2023, 4)]
    assert "asked of Jolpica's API" in summary.render()
    assert any("/2023/4/sprint.json" in url for url in requested)
    assert not any("/2023/1/" in url for url in requested)      # round 1 is in the dump
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            sources = dict(connection.execute(text(
                "SELECT round_number, source FROM history_races WHERE year = 2023")).all())
    finally:
        engine.dispose()
    assert sources == {1: "dump", 4: "api"}


# --- read back: race features of the history ------------------------------------------------

def test_race_features_cover_rounds_stored_only_as_history(rounds, dump_path, database_url,
                                                           tmp_path):
    from f1db.read import race_features

    load(database_url, tmp_path, dump_file=dump_path)
    frame = race_features(database_url)
    by = {(r.year, r.number): r for r in rounds}
    assert set(zip(frame.year, frame.round_number, frame.session_type)) == {
        (1979, 1, "Race"), (2022, 2, "Race"), (2023, 1, "Race"), (2023, 4, "Sprint")}

    def row(year, number, session, driver):
        found = frame[(frame.year == year) & (frame.round_number == number)
                      & (frame.session_type == session) & (frame.driver_id == driver)]
        assert len(found) == 1, (year, number, session, driver)
        return found.iloc[0]

    # qualifying of 2022 round 2 from its QualifyingResults
    qualifying = by[(2022, 2)].qualifying
    bests = {q["Driver"]["driverId"]: min(ms for ms in (
        parse_time(q.get(part)) for part in ("Q1", "Q2", "Q3")) if ms is not None)
        for q in qualifying if any(q.get(part) for part in ("Q1", "Q2", "Q3"))}
    pole = min(bests.values())
    for q in qualifying[:5]:
        driver = q["Driver"]["driverId"]
        got = row(2022, 2, "Race", driver)
        assert got.qualifying_position == int(q["position"])
        assert got.qualifying_session_type == "Qualifying"
        assert got.gap_to_pole_ms == (bests[driver] - pole) / pd.Timedelta(milliseconds=1)
    # a 2023 round 1 result: its earlier race is 2022 round 2's; no standings before round 1
    earlier = {r["Driver"]["driverId"]: int(r["position"]) for r in by[(2022, 2)].results}
    for result in by[(2023, 1)].results[:5]:
        driver = result["Driver"]["driverId"]
        got = row(2023, 1, "Race", driver)
        assert got.finishing_position == int(result["position"])
        assert got.classified_position == result["positionText"]
        assert got.grid_position == int(result["grid"])
        assert got.championship_points_before == 0 and pd.isna(got.championship_position_before)
        assert got.races_before == (1 if driver in earlier else 0)
        if driver in earlier:
            assert got.previous_race_position == earlier[driver]
        assert pd.isna(got.air_temp_start) and pd.isna(got.practice_long_run_ms)
    # the 2023 round 4 sprint: the championship after round 1
    after_round_1 = {s["Driver"]["driverId"]: s for s in by[(2023, 1)].driver_standings}
    for result in by[(2023, 4)].sprint[:5]:
        driver = result["Driver"]["driverId"]
        got = row(2023, 4, "Sprint", driver)
        assert got.championship_position_before == int(after_round_1[driver]["position"])
        assert got.championship_points_before == float(after_round_1[driver]["points"])
        assert pd.isna(got.qualifying_position)     # Jolpica has no sprint qualifying


def test_history_race_features_know_nothing_of_the_race_or_later(rounds, dump_path,
                                                                 database_url, tmp_path):
    from f1db.read.features import FEATURE_COLUMNS, race_features_frame

    load(database_url, tmp_path, dump_file=dump_path)
    engine = create_engine(database_url)
    try:
        before = race_features_frame(engine)
        for (year, number, session), rows in before.groupby(
                ["year", "round_number", "session_type"]):
            table = "history_results" if session == "Race" else "history_sprint_results"
            key = {"y": int(year), "r": int(number)}
            with engine.connect() as connection, connection.begin() as transaction:
                changed = connection.execute(text(
                    f"UPDATE {table} SET position = position + 100, position_text = 'X', "
                    f"status = 'changed', points = 99, laps = 1, time_ms = 1 "
                    f"WHERE year = :y AND round_number = :r"), key).rowcount
                assert changed == len(rows)              # the control: the race changed
                for standings in ("history_driver_standings",
                                  "history_constructor_standings"):
                    connection.execute(text(
                        f"UPDATE {standings} SET points = points + 50, position = 1 "
                        f"WHERE year > :y OR (year = :y AND round_number >= :r)"), key)
                after = race_features_frame(connection)
                transaction.rollback()
            mine = (after.year == year) & (after.round_number == number) & (
                after.session_type == session)
            got = after[mine].sort_values("driver_id")[list(FEATURE_COLUMNS)]
            want = rows.sort_values("driver_id")[list(FEATURE_COLUMNS)]
            assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                               obj=f"{year} {number} {session}")
    finally:
        engine.dispose()


def test_history_frames_read_back_equal_the_json_with_one_dtype_per_kind(
        rounds, dump_path, database_url, tmp_path):
    from f1db import read

    load(database_url, tmp_path, dump_file=dump_path)
    for name, frame in expected_tables(rounds).items():
        key = list(frame.columns[:4])
        got = read.history_frame(database_url, name)[list(frame.columns)]
        assert_frame_equal(plain(got), plain(frame.sort_values(key)), check_dtype=False,
                           obj=name)
    laps = read.history_frame(database_url, "history_lap_times", years=2023, rounds=[1])
    assert set(laps.round_number) == {1} and len(laps) == sum(
        len(lap["Timings"]) for r in rounds if (r.year, r.number) == (2023, 1) for lap in r.laps)
    assert str(laps["time_ms"].dtype) == "Int64" and str(laps["position"].dtype) == "Int64"
    races = read.history_frame(database_url, "history_races")
    assert str(races["race_date"].dtype) == "datetime64[ns]"
    assert len(read.history_frame(database_url, "history_drivers"))
    with pytest.raises(UsageError, match="not kept per round"):
        read.history_frame(database_url, "history_drivers", years=2023)
    with pytest.raises(UsageError, match="Unknown history table"):
        read.history_frame(database_url, "history_weather")
