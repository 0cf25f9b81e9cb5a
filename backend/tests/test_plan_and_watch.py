"""populate_db.py --plan (reads, never loads or writes) and --watch (polls until SIGTERM)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from support.database import ALL_TABLES, connected, row_counts, stored_sessions
from support.entry_scripts import ITALY_FP2, POPULATE, offline, populate, script_env, sqlite_url_of

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

TWO_EVENTS = ("--year", "2021", "--event", "Italian Grand Prix", "--event", "Mexico City",
              "--session", "FP2", "--session", "Q", "--no-telemetry")


def _table_contents(url: str) -> dict[str, list]:
    with connected(url) as connection:
        return {table: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{table}"'))))
                for table in ALL_TABLES}


def _half_loaded(populated_copy) -> str:
    """The populated database with weather marked missing and a failure remembered."""
    url = sqlite_url_of(populated_copy)
    with connected(url) as connection:
        connection.execute(text("UPDATE session_parts SET status = 'missing', reason = "
                                "'FastF1 returned no rows' WHERE table_name = 'weather'"))
        connection.execute(text(
            "INSERT INTO session_failures VALUES (2021, 18, 'Qualifying', 'Mexico City Grand "
            "Prix', 'FastF1 failed to load: ValueError: bad data', 2, '2026-11-20 10:00:00')"))
        connection.commit()
    return url


def test_plan_reports_each_session_and_changes_nothing(cli_cache, populated_copy, tmp_path):
    url = _half_loaded(populated_copy)
    before = _table_contents(url)
    summary_json = tmp_path / "plan.json"
    result = populate(tmp_path, *TWO_EVENTS, *offline(cli_cache), "--database-url", url,
                      "--plan", "--summary-json", summary_json)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert _table_contents(url) == before                    # nothing written
    summary = json.loads(summary_json.read_text())
    assert summary["fastf1_loads"] == 0 and summary["requests"] == 0
    by_session = {(e["year"], e["event"], e["session_type"]): e for e in summary["sessions"]}
    assert {e["outcome"] for e in summary["sessions"]} == {"planned"}
    fp2 = by_session[(2021, "Italian Grand Prix", "Practice 2")]
    # offline, over a cache that has not changed since the gap was recorded: not retried
    assert fp2["state"] == "missing" and "weather not in the offline FastF1 cache" in fp2["reason"]
    failed = by_session[(2021, "Mexico City Grand Prix", "Qualifying")]
    assert failed["state"] == "failed" and "failed 2x" in failed["reason"]
    assert "bad data" in failed["reason"]
    assert by_session[(2021, "Italian Grand Prix", "Qualifying")]["state"] == "new"
    assert len(summary["sessions"]) == summary["sessions_planned"] == 4
    # the printed plan: per event, each session's state, and what the rest needs
    assert "Plan for 2021" in result.stdout and "2021 Mexico City Grand Prix" in result.stdout
    assert "4 sessions to load" in result.stdout or "sessions to load" in result.stdout


def test_plan_on_an_empty_database_creates_nothing(cli_cache, tmp_path):
    url = sqlite_url_of(tmp_path / "empty.db")
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", url, "--plan")
    assert result.returncode == 0, result.stderr
    assert "new" in result.stdout
    with connected(url) as connection:
        assert connection.execute(text("SELECT count(*) FROM sqlite_master WHERE type = "
                                       "'table'")).scalar() == 0


def test_plan_and_watch_together_are_refused(cli_cache, tmp_path):
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--plan", "--watch")
    assert result.returncode == 2 and "contradict" in result.stderr


def test_watch_loads_once_polls_then_stops_cleanly_on_sigterm(cli_cache, database_url, tmp_path):
    summary_json, log_file = tmp_path / "watch.json", tmp_path / "watch.log"
    command = [sys.executable, str(POPULATE), *ITALY_FP2, *offline(cli_cache), "--tables",
               "results,laps", "--database-url", database_url, "--watch",
               "--poll-interval", "1", "--summary-json", str(summary_json),
               "--log-file", str(log_file)]
    child = subprocess.Popen(command, cwd=tmp_path, env=script_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            polls = log_file.read_text().count("Watch poll") if log_file.exists() else 0
            if polls >= 1:
                break
            time.sleep(0.2)
        assert polls >= 1, log_file.read_text() if log_file.exists() else "no log"
        child.send_signal(signal.SIGTERM)          # while it waits a minute for the next poll
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 143, stderr
    assert "Traceback" not in stdout + stderr
    summary = json.loads(summary_json.read_text())
    assert summary["stopped"] == "SIGTERM" and summary["exit_code"] == 143
    assert "Watch poll 1: 1 loaded" in log_file.read_text()
    assert stored_sessions(database_url) == [(2021, "Italian Grand Prix", "Practice 2")]
    assert row_counts(database_url)["laps"] > 0


class PollClock:
    """A clock whose sleeps pass at once, counted (the watch's waits between polls)."""

    def __init__(self):
        self.now, self.slept = 1_700_000_000.0, []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_watch_polls_at_its_interval_and_loads_only_what_is_new(cli_cache, sqlite_url, caplog):
    from f1db.populator import DatabasePopulator

    clock = PollClock()
    populator = DatabasePopulator(2021, database_url=sqlite_url, events=("Italian",),
                                  sessions=("FP2",), tables=("results", "laps"), offline=True,
                                  cache_dir=cli_cache, clock=clock)
    with caplog.at_level("INFO", logger="f1db"):
        try:
            summary = populator.watch(poll_seconds=600, polls=3)
        finally:
            populator.close()
    assert clock.slept == [600, 600]                          # between the three polls
    assert "Watch poll 1: 1 loaded" in caplog.text and "Watch poll 3: 0 loaded" in caplog.text
    assert summary.sessions_skipped == 1 and summary.exit_code == 0
    assert stored_sessions(sqlite_url) == [(2021, "Italian Grand Prix", "Practice 2")]
