"""populate_db.py's run summary (printed and --summary-json), a rerun that loads nothing,
and a session FastF1 cannot give."""

from __future__ import annotations

import json
import re

import pytest

from f1db.models import TABLE_NAMES
from support.database import row_counts, stored_sessions
from support.entry_scripts import (ITALY_FP2, ITALY_FP2_STORED, ITALY_QUALIFYING, offline, populate,
                                   sqlite_url_of)

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions


def test_summary_json_and_rerun_that_loads_nothing(cli_cache, database_url, tmp_path):
    """The JSON summary is what cron jobs read; a rerun of a complete session is free."""
    first_json, rerun_json = tmp_path / "first.json", tmp_path / "rerun.json"
    first = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", database_url,
                     "--summary-json", first_json)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first_json.read_text())
    for key in ("sessions_planned", "sessions_loaded", "sessions_skipped", "sessions_failed",
                "fastf1_loads", "rows_inserted", "missing", "failures", "duration_seconds"):
        assert key in summary, key
    assert (summary["sessions_planned"], summary["sessions_loaded"], summary["sessions_skipped"],
            summary["sessions_failed"], summary["fastf1_loads"]) == (1, 1, 0, 0, 1)
    assert summary["missing"] == [] and summary["failures"] == []
    assert summary["duration_seconds"] > 0
    assert set(summary["rows_inserted"]) == set(TABLE_NAMES)
    counts = row_counts(database_url)
    assert summary["rows_inserted"] == {t: counts[t] for t in TABLE_NAMES}
    # Every table of a practice session has rows; the standings come with a race only.
    race_only = {"driver_standings", "constructor_standings"}
    assert all(n for t, n in summary["rows_inserted"].items() if t not in race_only), \
        summary["rows_inserted"]
    assert not any(summary["rows_inserted"][t] for t in race_only)
    # The printed table is on stdout, with every written table's row count.
    assert "Summary for 2021" in first.stdout and "1 loaded" in first.stdout
    for table, rows in summary["rows_inserted"].items():
        if rows:
            assert re.search(rf"{table}\s+{rows:,}\b", first.stdout), (table, first.stdout)

    rerun = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", database_url,
                     "--summary-json", rerun_json)
    assert rerun.returncode == 0, rerun.stderr
    again = json.loads(rerun_json.read_text())
    assert again["fastf1_loads"] == 0
    assert (again["sessions_skipped"], again["sessions_loaded"]) == (1, 0)
    assert set(again["rows_inserted"].values()) == {0}
    assert row_counts(database_url) == counts


def test_session_missing_from_cache_fails_with_a_reason(cli_cache, populated, populated_copy,
                                                        tmp_path):
    """In the schedule but not in the offline cache: exit 1, a FAILED line, nothing stored
    but the failure's reason (session_failures, for --plan)."""
    summary_path = tmp_path / "summary.json"
    url = sqlite_url_of(populated_copy)
    result = populate(tmp_path, *ITALY_QUALIFYING, *offline(cli_cache), "--database-url", url,
                      "--summary-json", summary_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "Italian Grand Prix Qualifying" in failed[0], result.stdout
    assert failed[0].split(":", 2)[-1].strip(), "the FAILED line gives no reason"
    summary = json.loads(summary_path.read_text())
    assert summary["sessions_failed"] == 1 and len(summary["failures"]) == 1
    assert "\n" not in summary["failures"][0]["reason"]
    assert row_counts(url) == {**populated["counts"], "session_failures": 1}
    assert stored_sessions(url) == [ITALY_FP2_STORED]


def test_a_run_that_cannot_run_never_leaves_an_earlier_success_in_place(cli_cache, tmp_path):
    """A cron job reads the summary file: after a failed run it must say the run failed,
    not what the run before it said."""
    summary_path = tmp_path / "last_run.json"
    url = sqlite_url_of(tmp_path / "f1.db")
    ok = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", url,
                  "--tables", "results", "--summary-json", summary_path)
    assert ok.returncode == 0 and json.loads(summary_path.read_text())["exit_code"] == 0

    for bad in (["--database-url", "postgresql://postgres@127.0.0.1:5999/x"],   # unreachable
                ["--database-url", url, "--event", "Narnia"],                  # not in 2021
                ["--database-url", url, "--no-such-flag"]):                    # argparse's
        failed = populate(tmp_path, "--year", "2021", *offline(cli_cache), *bad,
                          "--summary-json", summary_path)
        line = failed.stderr.strip().splitlines()[-1]
        summary = json.loads(summary_path.read_text())
        assert failed.returncode == 2 and summary["exit_code"] == 2, summary
        assert summary["error"] == line and summary["sessions"] == []
    assert not list(tmp_path.glob(".last_run.json.*"))      # no temporary file left behind
