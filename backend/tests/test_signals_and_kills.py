"""Stopping a real populate_db.py at the worst moments, then running it again.

kill -9 can come at any moment (an OOM kill, a preempted VM, a Cloud Run task past its
timeout): mid Session.load, mid-COPY, with the rows written but the ledger not, right after
a session committed. The rerun must store every session once with exactly FastF1's rows.
SIGTERM (Cloud Run, Kubernetes) and SIGINT (Ctrl-C) stop cleanly: the session in flight
rolled back, the summary printed and written, exit 143 or 130. A database backend killed
mid-COPY (a Cloud SQL failover, an admin) is a transient fault: retried, no traceback.
"""

from __future__ import annotations

import signal

import pytest

from support.child_processes import (BAKU_ARGS, BAKU_SHOOTOUT, BAKU_SPRINT, BAKU_TABLES, ITALY_ARGS,
                                     ITALY_FP2, ITALY_TABLES, assert_clean_exit,
                                     assert_stored_as_fastf1, fact_row_total, ledger_session_count,
                                     run_child, session_entries, start_child, terminate_backends)

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

ITALY = (ITALY_ARGS, [ITALY_FP2], ITALY_TABLES)
BAKU = (BAKU_ARGS, [BAKU_SHOOTOUT, BAKU_SPRINT], BAKU_TABLES)   # two sessions, one run


@pytest.mark.parametrize("point, plan", [("request:3", ITALY), ("copy", ITALY),
                                         ("ledger", ITALY), ("committed:1", BAKU)],
                         ids=["mid-load", "mid-copy", "before-ledger", "after-first-commit"])
def test_kill_9_then_a_rerun_stores_every_session_once(point, plan, database_url, tmp_path,
                                                       recorded_cache):
    args, sessions, tables = plan
    with start_child(tmp_path, *args, "--database-url", database_url, pause_at=point) as child:
        child.wait_paused()
        child.kill()
    first_stored = 1 if point == "committed:1" else 0
    assert ledger_session_count(database_url) == first_stored

    # The rerun uses the killed run's FastF1 cache, as a real rerun would.
    rerun = run_child(tmp_path, *args, "--database-url", database_url,
                      cache_dir=child.folder / "fastf1-cache")
    assert_clean_exit(rerun)
    entries = session_entries(rerun.summary)
    if point == "committed:1":
        assert entries[BAKU_SHOOTOUT.name]["outcome"] == "skipped", entries
        assert entries[BAKU_SPRINT.name]["outcome"] == "loaded", entries
    else:
        assert entries[ITALY_FP2.name]["outcome"] == "loaded", entries
    assert rerun.summary["fastf1_loads"] == 1
    assert_stored_as_fastf1(database_url, recorded_cache, sessions, tables)


def summary_block(stderr: str) -> list[str]:
    """The last lines of stderr, from the summary's first line on."""
    lines = stderr.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Summary for")]
    assert starts, f"no summary at the end of stderr:\n{stderr[-3000:]}"
    return lines[starts[-1]:]


def test_sigterm_mid_copy_rolls_back_writes_the_summary_and_exits_143(database_url, tmp_path,
                                                                      recorded_cache):
    # --quiet: the summary goes to stderr, where a job's log collector reads it.
    with start_child(tmp_path, *ITALY_ARGS, "--quiet", "--database-url", database_url,
                     pause_at="copy") as child:
        child.wait_paused()
        child.send_signal(signal.SIGTERM)
        result = child.finish(timeout=60)
    assert_clean_exit(result, code=143)
    block = summary_block(result.stderr)
    assert any("stopped" in line.lower() and "SIGTERM" in line for line in block), block
    assert result.summary is not None, "--summary-json not written"
    assert result.summary["stopped"] == "SIGTERM" and result.summary["exit_code"] == 143
    assert result.summary["sessions_loaded"] == 0
    assert ledger_session_count(database_url) == 0 and fact_row_total(database_url) == 0

    rerun = run_child(tmp_path, *ITALY_ARGS, "--database-url", database_url,
                      cache_dir=child.folder / "fastf1-cache")
    assert_clean_exit(rerun)
    assert rerun.summary["stopped"] is None and rerun.summary["fastf1_loads"] == 1
    assert_stored_as_fastf1(database_url, recorded_cache, [ITALY_FP2], ITALY_TABLES)


def test_sigint_mid_load_exits_130_with_the_summary_written(sqlite_url, tmp_path):
    with start_child(tmp_path, *ITALY_ARGS, "--database-url", sqlite_url,
                     pause_at="request:3") as child:
        child.wait_paused()
        child.send_signal(signal.SIGINT)
        result = child.finish(timeout=60)
    assert_clean_exit(result, code=130)
    assert result.summary is not None, "--summary-json not written"
    assert result.summary["stopped"] == "SIGINT" and result.summary["exit_code"] == 130
    assert result.summary["sessions_loaded"] == 0 and fact_row_total(sqlite_url) == 0


def test_the_database_backend_killed_mid_copy_is_retried_without_a_traceback(
        postgres_url, tmp_path, recorded_cache):
    with start_child(tmp_path, *ITALY_ARGS, "--retries", "3", "--retry-wait", "0",
                     "--database-url", postgres_url, pause_at="copy", pause_seconds=3) as child:
        child.wait_paused()
        assert terminate_backends(postgres_url), "the loader had no connection to terminate"
        result = child.finish(timeout=120)
    assert_clean_exit(result)      # no traceback on the console: the log file has them
    entry = session_entries(result.summary)[ITALY_FP2.name]
    assert entry["outcome"] == "loaded", result.summary
    assert "{'" not in result.output       # never pg8000's dict of error fields
    assert_stored_as_fastf1(postgres_url, recorded_cache, [ITALY_FP2], ITALY_TABLES)


GAP_SECONDS = 0.005      # the second signal lands while the first one unwinds


@pytest.mark.parametrize("signals, code, name", [
    ((signal.SIGTERM, signal.SIGTERM), 143, "SIGTERM"),
    ((signal.SIGINT, signal.SIGTERM), 130, "SIGINT"),
    ((signal.SIGHUP,), 129, "SIGHUP"),
], ids=["sigterm-twice", "sigint-then-sigterm", "sighup"])
def test_signals_close_together_still_roll_back_and_write_the_summary(
        signals, code, name, database_url, tmp_path):
    """A second signal 50 ms after the first (Ctrl-C pressed twice, a platform repeating
    SIGTERM) lands while the first one unwinds: it must cut neither the rollback nor the
    summary short. SIGHUP (a closed terminal) stops a run like SIGTERM."""
    import time

    with start_child(tmp_path, *ITALY_ARGS, "--database-url", database_url,
                     pause_at="copy") as child:
        child.wait_paused()
        for number in signals:
            child.send_signal(number)
            time.sleep(GAP_SECONDS)
        result = child.finish(timeout=60)
    assert_clean_exit(result, code=code)
    assert result.summary["stopped"] == name and result.summary["exit_code"] == code
    assert ledger_session_count(database_url) == 0 and fact_row_total(database_url) == 0
