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
    entries = session_entries(result.summary)
    assert [entries[s.name]["outcome"] for s in BAKU] == ["loaded", "loaded"], result.summary
    assert result.summary["fastf1_loads"] == 2
    assert result.summary["requests"] > 0        # the workers' requests are counted
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
        result = child.finish(timeout=90)
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
    """One worker killed -9 with its rows written, not committed (an out-of-memory kill):
    its session fails saying so, rolled back; the other worker's session is stored; exit
    1; a rerun loads the failed one."""
    with start_child(tmp_path, *BAKU_ARGS, *JOBS, "--database-url", database_url,
                     pause_at="ledger", pause_seconds=4) as child:
        victim = wait_for_pauses(child, 1)[0]
        os.kill(victim, signal.SIGKILL)
        result = child.finish(timeout=90)
    assert_clean_exit(result, code=1)
    entries = session_entries(result.summary)
    outcomes = sorted(entry["outcome"] for entry in entries.values())
    assert outcomes == ["failed", "loaded"], result.summary
    failed = next(entry for entry in entries.values() if entry["outcome"] == "failed")
    assert "its worker process was killed by SIGKILL while loading it" in failed["reason"]
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
