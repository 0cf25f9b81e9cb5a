"""FastF1's cache folder, as the world leaves it: full, read-only, damaged, or a file.

FastF1 reports none of these: it logs "failed to load" and gives a session with parts
missing, as if live timing had not published them. The run must stop instead, in one line
saying what to do, with exit code 2 and nothing stored as if it were complete; once the
folder is fixed, a rerun stores the whole session, equal to FastF1's frames. The disks are
real: a small tmpfs, filled up or remounted read-only (support/disks.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from f1db.populator import DatabasePopulator
from f1db.sources.cache_health import HTTP_CACHE_FILE, MIN_FREE_BYTES
from f1db.sources.fastf1_source import FastF1Source
from support.child_processes import ITALY_FP2, assert_stored_as_fastf1
from support.database import row_counts, stored_sessions
from support.disks import fill, read_only, small_disk
from support.entry_scripts import ITALY_FP2 as ITALY_ARGS
from support.entry_scripts import assert_one_line_error, populate, sqlite_url_of
from support.synthetic_telemetry import restoring_fastf1_cache

pytestmark = pytest.mark.slow      # loads FastF1 sessions, runs the script

TABLES = ("results", "laps", "telemetry", "positions")


def cache_on_small_disk(cli_cache: Path, disk: Path, *, parsed: bool = True) -> Path:
    """A copy of the recorded cache on ``disk``; without FastF1's parsed copies
    (``parsed=False``) a load must write them, as a first load does."""
    cache = disk / "fastf1-cache"
    shutil.copytree(cli_cache, cache)
    if not parsed:
        for pickle in cache.rglob("*.ff1pkl"):
            pickle.unlink()
    return cache


def disk_megabytes(cli_cache: Path) -> int:
    used = sum(path.stat().st_size for path in cli_cache.rglob("*") if path.is_file())
    return used // 2**20 + MIN_FREE_BYTES // 2**20 + 80


def run_script(tmp_path, cache: Path, database: Path, *extra: str):
    summary = tmp_path / "summary.json"
    result = populate(tmp_path, *ITALY_ARGS, "--offline", "--cache-dir", str(cache),
                      "--database-url", sqlite_url_of(database), "--tables", ",".join(TABLES),
                      "--summary-json", summary, *extra)
    return result, json.loads(summary.read_text())


def nothing_stored(database: Path) -> bool:
    """No session in the database (which may not even have its tables yet)."""
    import sqlite3

    if not database.exists():
        return True
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        return "sessions" not in tables or not connection.execute(
            "SELECT count(*) FROM sessions").fetchone()[0]


def assert_stopped_in_one_line(result, summary: dict, words: str) -> None:
    """Found before the run started: one line, exit 2, and the summary file says why."""
    line = assert_one_line_error(result)
    assert words in line and line.endswith("(see --cache-dir)"), line
    assert summary["exit_code"] == 2 and summary["error"] == line


def test_a_full_disk_before_the_run_stops_it_in_one_line(cli_cache, tmp_path):
    with small_disk(tmp_path / "disk", disk_megabytes(cli_cache)) as disk:
        cache = cache_on_small_disk(cli_cache, disk)
        fill(disk, leave_bytes=MIN_FREE_BYTES // 2)
        result, summary = run_script(tmp_path, cache, tmp_path / "f1.db")
    assert_stopped_in_one_line(result, summary, "MB free")
    assert nothing_stored(tmp_path / "f1.db")


def test_a_read_only_cache_folder_stops_the_run_in_one_line(cli_cache, tmp_path):
    with small_disk(tmp_path / "disk", disk_megabytes(cli_cache)) as disk:
        cache = cache_on_small_disk(cli_cache, disk)
        read_only(disk)
        result, summary = run_script(tmp_path, cache, tmp_path / "f1.db")
        plan = populate(tmp_path, *ITALY_ARGS, "--offline", "--cache-dir", str(cache),
                        "--database-url", sqlite_url_of(tmp_path / "f1.db"), "--plan")
    assert_stopped_in_one_line(result, summary, "cannot be written (Read-only file system)")
    assert plan.returncode == 2 and len(plan.stderr.strip().splitlines()) == 1
    assert "(see --cache-dir)" in plan.stderr and "Traceback" not in plan.stderr


@pytest.mark.parametrize("fault", ["disk-fills", "cache-file-truncated"])
def test_a_cache_that_breaks_during_the_load_stores_nothing_and_a_rerun_stores_it_whole(
        cli_cache, recorded_cache, tmp_path, monkeypatch, fault):
    """The disk fills while FastF1 parses (it writes its parsed copies as it goes), or its
    HTTP cache file is cut short under it: the run stops (exit 2) before the session is
    stored; once the cache is whole again the offline rerun loads the session whole, equal
    to FastF1's frames (never "not in the offline FastF1 cache")."""
    database = sqlite_url_of(tmp_path / "f1.db")
    real_fetch = FastF1Source.fetch_session
    undo: list = []

    def fetch_from_a_breaking_cache(source, ref, tables):
        if fault == "disk-fills":
            filler = fill(source.cache_dir.parent)
            undo.append(filler.unlink)
        else:
            http_cache = source.cache_dir / HTTP_CACHE_FILE
            whole = http_cache.read_bytes()
            http_cache.write_bytes(whole[:len(whole) // 3])
            undo.append(lambda: http_cache.write_bytes(whole))
        return real_fetch(source, ref, tables)

    with small_disk(tmp_path / "disk", disk_megabytes(cli_cache)) as disk, \
            restoring_fastf1_cache():
        cache = cache_on_small_disk(cli_cache, disk, parsed=False)
        monkeypatch.setattr(FastF1Source, "fetch_session", fetch_from_a_breaking_cache)
        first = run_populator(database, cache)
        assert first.exit_code == 2 and first.fastf1_loads == 1, first.render()
        assert any(words in first.aborted for words in ("MB free", "cannot be written",
                                                        "truncated"))
        assert first.sessions_loaded == 0
        assert stored_sessions(database) == [] and sum(row_counts(database).values()) == 0

        monkeypatch.setattr(FastF1Source, "fetch_session", real_fetch)
        undo[0]()
        again = run_populator(database, cache)
    assert again.exit_code == 0 and again.sessions_loaded == 1, again.render()
    assert_stored_as_fastf1(database, recorded_cache, [ITALY_FP2], TABLES)


def run_populator(database: str, cache: Path):
    populator = DatabasePopulator(2021, database_url=database, events=("Monza",),
                                  sessions=("FP2",), tables=TABLES, offline=True,
                                  cache_dir=cache)
    try:
        return populator.populate_database()
    finally:
        populator.close()


@pytest.mark.parametrize("damage, words", [
    ("truncated", "truncated"),
    ("not sqlite", "not an SQLite file"),
], ids=["truncated", "not-sqlite"])
def test_a_damaged_http_cache_file_is_one_line_and_nothing_is_stored(cli_cache, tmp_path,
                                                                      damage, words):
    cache = tmp_path / "fastf1-cache"
    shutil.copytree(cli_cache, cache)
    http_cache = cache / HTTP_CACHE_FILE
    if damage == "truncated":
        with open(http_cache, "r+b") as file:
            file.truncate(http_cache.stat().st_size // 2)
    else:
        http_cache.write_bytes(b"these bytes are no SQLite database" * 100)
    result, summary = run_script(tmp_path, cache, tmp_path / "f1.db")
    assert_stopped_in_one_line(result, summary, words)
    assert "delete it" in summary["error"]
    assert nothing_stored(tmp_path / "f1.db")


def test_a_cache_dir_that_is_a_file_says_so(tmp_path):
    not_a_folder = tmp_path / "cache.txt"
    not_a_folder.write_text("a file")
    result = populate(tmp_path, *ITALY_ARGS, "--cache-dir", str(not_a_folder),
                      "--database-url", sqlite_url_of(tmp_path / "f1.db"), "--plan")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "is a file, not a folder" in line and line.endswith("(see --cache-dir)")
    assert "has no cache" not in line
