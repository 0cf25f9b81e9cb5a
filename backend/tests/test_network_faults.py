"""Transient HTTP faults during a load, in a real populate_db.py process served by the replay.

A fault that passes (a reset, a timeout, HTTP 503 or 429 from live timing or Jolpica) rolls
the session back and retries it: the run ends with exactly FastF1's rows. One that keeps
happening past ``--retries`` fails that session with a one-line reason naming the fault,
stores nothing of it, and a later run without the fault loads it.

FastF1 catches most errors of the pages it loads and logs them (a page that failed shows up
as a missing part, or as results without Jolpica's columns), so only the loader's own
record of the faults during a load can tell a complete load from a damaged one; comparing
every table with FastF1's frames checks that it did.
"""

from __future__ import annotations

import pytest

from support.child_processes import (ITALY_ARGS, ITALY_FP2, ITALY_TABLES, assert_clean_exit,
                                     assert_stored_as_fastf1, fact_row_total, ledger_session_count,
                                     run_child, session_entries)
from support.fastf1_replay import normalise_url

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

TIMING_DATA = ("https://livetiming.formula1.com/static/2021/2021-09-12_Italian_Grand_Prix/"
               "2021-09-11_Practice_2/TimingData.jsonStream")
JOLPICA_RESULTS = "https://api.jolpi.ca/ergast/f1/2021/14/results.json"   # round 14: Monza
FAST_RETRIES = ("--retries", "3", "--retry-wait", "0")
# How a one-line reason names each fault.
FAULT_WORDS = {"reset": ("reset",), "timeout": ("timed out", "timeout"), "503": ("503",),
               "429": ("429",)}


@pytest.mark.parametrize("kind", ["reset", "timeout", "503", "429"])
def test_a_fault_that_passes_is_retried_and_the_session_stored_whole(kind, tmp_path, sqlite_url,
                                                                    recorded_cache):
    faults = [{"url": TIMING_DATA, "kind": kind, "times": 2},
              {"url": JOLPICA_RESULTS, "kind": kind, "times": 1}]
    result = run_child(tmp_path, *ITALY_ARGS, *FAST_RETRIES, "--database-url", sqlite_url,
                       faults=faults)
    assert_clean_exit(result)
    # Every planned fault was met: the loader came back for the page until it passed.
    assert result.report["faults_injected"] == {normalise_url(TIMING_DATA): {kind: 2},
                                                normalise_url(JOLPICA_RESULTS): {kind: 1}}
    entry = session_entries(result.summary)["Practice 2"]
    assert entry["outcome"] == "loaded", result.summary
    assert entry["attempts"] > 1, entry
    assert result.summary["exit_code"] == 0 and result.summary["sessions_failed"] == 0
    assert_stored_as_fastf1(sqlite_url, recorded_cache, [ITALY_FP2], ITALY_TABLES)


@pytest.mark.parametrize("kind", ["timeout", "503"])
def test_a_fault_that_outlasts_the_retries_fails_the_session_and_a_rerun_loads_it(
        kind, tmp_path, sqlite_url, recorded_cache):
    retries = 2
    result = run_child(tmp_path, *ITALY_ARGS, "--retries", str(retries), "--retry-wait", "0",
                       "--database-url", sqlite_url,
                       faults=[{"url": TIMING_DATA, "kind": kind, "times": 10}])
    assert_clean_exit(result, code=1)
    entry = session_entries(result.summary)["Practice 2"]
    assert entry["outcome"] == "failed" and entry["attempts"] == retries + 1, entry
    reason = entry["reason"]
    assert "\n" not in reason and "Traceback" not in reason and "{'" not in reason, reason
    assert any(word in reason.lower() for word in FAULT_WORDS[kind]), reason
    # Each attempt met the fault once; nothing of the session was stored.
    assert result.report["faults_injected"] == {normalise_url(TIMING_DATA): {kind: retries + 1}}
    assert result.summary["exit_code"] == 1 and result.summary["sessions_loaded"] == 0
    assert ledger_session_count(sqlite_url) == 0 and fact_row_total(sqlite_url) == 0
    # The one-line reason is on the console too.
    assert any(reason in line for line in result.output.splitlines()), result.describe()

    rerun = run_child(tmp_path, *ITALY_ARGS, *FAST_RETRIES, "--database-url", sqlite_url)
    assert_clean_exit(rerun)
    assert session_entries(rerun.summary)["Practice 2"]["outcome"] == "loaded"
    assert rerun.summary["fastf1_loads"] == 1
    assert_stored_as_fastf1(sqlite_url, recorded_cache, [ITALY_FP2], ITALY_TABLES)
