"""``--jobs N``: sessions loaded by worker processes, one summary, one log, and the same
guarantees as one process: each session stored once with FastF1's rows, a stop rolls back
and exits with the signal's code, a kill of the parent or of a worker loses nothing stored
and doubles nothing, and a rerun completes the rest.

Real processes (replay_child.py: FastF1 online, answered by the recordings); the workers
are forked from the run, so they are answered by the same replay and pause at the same
points (each worker pauses once, at its own first such point). On SQLite a worker paused inside
its write holds the file's write lock, so the other waits for it instead of pausing: the
tests wait for the first pause. The pause point is ``ledger`` (a session's rows written,
not committed): the run itself writes the calendar before it starts the workers.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from support.child_processes import (BAKU_ARGS, BAKU_SHOOTOUT, BAKU_SPRINT, BAKU_TABLES,
                                     assert_clean_exit, assert_stored_as_fastf1,
                                     ledger_session_count, run_child, session_entries,
                                     start_child)
from support.entry_scripts import assert_one_line_error, populate

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

BAKU = [BAKU_SHOOTOUT, BAKU_SPRINT]
JOBS = ("--jobs", "2")


def worker_pids(pause_file) -> list[int]:
    """The pids of the workers that reached their pause point (replay_child's lines)."""
    text = pause_file.read_text() if pause_file.is_file() else ""
    return [int(pid) for pid in re.findall(r"pid=(\d+)", text)]


def wait_for_pauses(child, count: int, timeout: float = 90) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(pids := worker_pids(child.pause_file)) < count:
        assert time.monotonic() < deadline, child.collect().describe()
        assert child.process.poll() is None, child.collect().describe()
        time.sleep(0.02)
    return pids


def children_of(pid: int) -> list[int]:
    """The processes ``pid`` started (its workers), from Linux's /proc."""
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def wait_gone(pids: list[int], timeout: float = 60) -> None:
    """Every one of ``pids`` has exited (a zombie of an exited parent is reaped by init)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while _alive(pid):
            assert time.monotonic() < deadline, f"worker {pid} outlived its run"
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_two_workers_store_each_session_once_with_one_summary_and_one_log(database_url,
                                                                          tmp_path,
                                                                          recorded_cache):
    result = run_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url)
    assert_clean_exit(result)
    # One summary, in schedule order whichever worker finished first.
    assert [entry["session_type"] for entry in result.summary["sessions"]] == [
        s.name for s in BAKU]
    assert [entry["outcome"] for entry in result.summary["sessions"]] == ["loaded"] * 2
    assert result.summary["fastf1_loads"] == 2
    # The workers' requests are counted: as many as one process makes for the same work.
    one_process = run_child(tmp_path, *BAKU_ARGS, "--database-url",
                            f"sqlite:///{tmp_path / 'one-process.db'}")
    assert_clean_exit(one_process)
    assert result.summary["requests"] == one_process.summary["requests"] > 0
    assert result.stdout.count("Summary for") == 1, result.describe()
    log = (result.folder / "populate.log").read_text()
    assert "Loading 2 sessions with 2 worker processes" in log
    for recorded in BAKU:      # each worker's lines reach the one log file and the console
        assert f"Loaded 2023 Azerbaijan Grand Prix {recorded.name}:" in log
        assert f"Loaded 2023 Azerbaijan Grand Prix {recorded.name}:" in result.output
    assert_stored_as_fastf1(database_url, recorded_cache, BAKU, BAKU_TABLES)

    rerun = run_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url,
                      cache_dir=result.folder / "fastf1-cache")
    assert_clean_exit(rerun)
    assert rerun.summary["fastf1_loads"] == 0 and rerun.summary["sessions_skipped"] == 2
    assert_stored_as_fastf1(database_url, recorded_cache, BAKU, BAKU_TABLES)


def test_sigterm_to_the_run_stops_every_worker_and_rolls_back(database_url, tmp_path,
                                                              recorded_cache):
    """A worker paused with its rows written, not committed, the other loading or
    waiting; SIGTERM reaches only the run (as a platform sends it): the run passes it on,
    each worker rolls back, one summary, 143."""
    with start_child(tmp_path, *BAKU_ARGS, *JOBS, "--quiet", "--database-url", database_url,
                     pause_at="ledger") as child:
        wait_for_pauses(child, 1)
        pids = children_of(child.pid)
        assert len(pids) == 2
        child.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        result = child.finish(timeout=90)
    # Well before the 30 s after which a worker that ignored the stop would be killed.
    assert time.monotonic() - sent < 15
    assert_clean_exit(result, code=143)
    wait_gone(pids)
    assert result.summary["stopped"] == "SIGTERM" and result.summary["exit_code"] == 143
    assert result.summary["sessions_loaded"] == 0 and result.summary["sessions_failed"] == 0
    assert result.stderr.count("Summary for") == 1
    assert ledger_session_count(database_url) == 0

    rerun = run_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url,
                      cache_dir=child.folder / "fastf1-cache")
    assert_clean_exit(rerun)
    assert_stored_as_fastf1(database_url, recorded_cache, BAKU, BAKU_TABLES)


def test_kill_9_of_the_run_stops_its_workers_and_a_rerun_stores_each_once(database_url,
                                                                          tmp_path,
                                                                          recorded_cache):
    """kill -9 of the run while a worker has its rows written, not committed: the workers
    do not load on alone (they are stopped with it and roll back); the rerun stores each
    session once."""
    with start_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url,
                     pause_at="ledger") as child:
        wait_for_pauses(child, 1)
        pids = children_of(child.pid)
        assert len(pids) == 2
        child.kill()
    wait_gone(pids)
    assert ledger_session_count(database_url) == 0

    rerun = run_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url,
                      cache_dir=child.folder / "fastf1-cache")
    assert_clean_exit(rerun)
    assert rerun.summary["sessions_loaded"] == 2
    assert_stored_as_fastf1(database_url, recorded_cache, BAKU, BAKU_TABLES)


def test_a_worker_killed_fails_its_session_and_the_other_goes_on(database_url, tmp_path,
                                                                 recorded_cache):
    """One worker killed -9 (an out-of-memory kill) with its rows written, not committed:
    its session fails saying so, rolled back; the other worker's session is stored; exit
    1; a rerun loads the failed one."""
    worker_ended_alone(signal.SIGKILL, "was killed by SIGKILL", database_url, tmp_path,
                       recorded_cache)


def test_a_worker_stopped_alone_fails_its_session_and_the_other_goes_on(sqlite_url, tmp_path,
                                                                        recorded_cache):
    """SIGTERM to one worker only (not to the run): it rolls its session back and ends;
    that session fails saying so, the other is stored, exit 1. On SQLite, where the
    worker writes in its main thread; on PostgreSQL the write runs behind in its writer
    thread, which a stop lets finish (as in one process)."""
    worker_ended_alone(signal.SIGTERM, "was stopped by a signal sent to it alone",
                       sqlite_url, tmp_path, recorded_cache)


def worker_ended_alone(signal_number, words, database_url, tmp_path, recorded_cache):
    with start_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url,
                     pause_at="ledger", pause_seconds=4) as child:
        victim = wait_for_pauses(child, 1)[0]
        os.kill(victim, signal_number)
        result = child.finish(timeout=90)
    assert_clean_exit(result, code=1)
    entries = session_entries(result.summary)
    outcomes = sorted(entry["outcome"] for entry in entries.values())
    assert outcomes == ["failed", "loaded"], result.summary
    failed = next(entry for entry in entries.values() if entry["outcome"] == "failed")
    assert f"its worker process {words} while loading it" in failed["reason"]
    assert ledger_session_count(database_url) == 1

    rerun = run_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url,
                      cache_dir=child.folder / "fastf1-cache")
    assert_clean_exit(rerun)
    assert rerun.summary["sessions_loaded"] == 1 and rerun.summary["sessions_skipped"] == 1
    assert_stored_as_fastf1(database_url, recorded_cache, BAKU, BAKU_TABLES)


@pytest.mark.parametrize("args, words", [
    (("--watch",), "--watch loads each session as it ends"),
    (("--history",), "--jobs loads FastF1 sessions in worker processes"),
], ids=["watch", "history"])
def test_jobs_with_a_mode_that_loads_one_at_a_time_is_one_usage_line(args, words, tmp_path):
    result = populate(tmp_path, *JOBS, *args)
    assert words in assert_one_line_error(result)


DEFERRED = """
import os, signal, sys
from f1db.errors import Interrupted
from f1db.signals import deferred, interruptible, stop_on_signals

steps = []
with stop_on_signals():
    try:
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("after the signal, inside deferred")
            with deferred():
                steps.append("nested")
            steps.append("after the nested block")
    except Interrupted as stop:
        steps.append(f"raised at the end: {stop.signal_name}")
print(steps)
"""

INTERRUPTIBLE = """
import os, signal, time
from f1db.errors import Interrupted
from f1db.signals import deferred, interruptible, stop_on_signals

steps = []
with stop_on_signals():
    try:
        with deferred():
            steps.append("deferred")
            with interruptible():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
                steps.append("not reached")
    except Interrupted as stop:
        steps.append(f"raised in the window: {stop.signal_name}")
print(steps)
"""


@pytest.mark.parametrize("code, steps", [
    (DEFERRED, ["after the signal, inside deferred", "nested", "after the nested block",
                "raised at the end: SIGTERM"]),
    (INTERRUPTIBLE, ["deferred", "raised in the window: SIGINT"]),
], ids=["deferred", "interruptible"])
def test_a_stop_is_raised_only_where_the_relay_allows(code, steps):
    """The relay's rule (signals.deferred): a stop never cuts a step in two; it is raised
    when the block ends, or at once in a wait marked interruptible. In a child process:
    a stop marks this process's signal state for good."""
    import subprocess
    import sys

    from support.entry_scripts import BACKEND

    result = subprocess.run([sys.executable, "-c", code], cwd=BACKEND, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(steps)


def test_a_spent_budget_in_a_worker_ends_the_run_with_exit_3(sqlite_url, tmp_path):
    """``--no-wait`` and a budget too small for both sessions: the worker that finds it
    spent ends the run as one process would (exit 3, the summary saying when to resume), no
    request over the cap is made, and every request a worker made, also the one that was
    stopped by the spent budget, is counted in the summary."""
    from f1db.sources.budget import RequestBudget
    from f1db.sources.fastf1_source import BUDGET_FILE

    result = run_child(tmp_path, *BAKU_ARGS, *JOBS, "--requests-per-hour", "12", "--no-wait",
                       "--database-url", sqlite_url)
    assert_clean_exit(result, code=3)
    assert result.summary["aborted"].startswith("The hour's request budget is spent")
    assert "Resume: run the same command again" in result.stdout
    usage = RequestBudget(result.folder / "fastf1-cache" / BUDGET_FILE,
                          requests_per_hour=12).usage()["any"]
    assert usage.used <= usage.cap == 11
    assert result.summary["requests"] == usage.used
