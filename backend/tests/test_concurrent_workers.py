"""Three workers at once on one plan and one PostgreSQL database: each session loaded once.

Parallel tasks of a backfill (Cloud Run Job tasks, Kubernetes pods, a second terminal)
overlap. Each worker takes a per-session lock before FastF1 is called and re-reads the
ledger once it holds it; sessions another worker holds or finished are skipped and said so.
"""

from __future__ import annotations

import shutil

import pytest

from support.child_processes import (BAKU_SHOOTOUT, BAKU_SPRINT, BAKU_TABLES, RecordedSession,
                                     assert_clean_exit, assert_stored_as_fastf1, session_entries,
                                     start_child)
from support.entry_scripts import MIGRATE, run_script, script_env
from support.fastf1_replay import load_recordings, replaying
from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

BAKU_QUALIFYING = RecordedSession(2023, "Azerbaijan Grand Prix", "Q", "Qualifying")
SESSIONS = [BAKU_QUALIFYING, BAKU_SHOOTOUT, BAKU_SPRINT]      # schedule order
PLAN = ("--year", "2023", "--event", "Azerbaijan", "--session", "Q", "--session", "SS",
        "--session", "S", "--tables", ",".join(BAKU_TABLES))
WORKERS = 3
SKIP_REASONS = ("held by another worker", "already stored")


@pytest.fixture(scope="module")
def reference_cache(recorded_cache, tmp_path_factory):
    """The recorded cache plus 2023 Baku qualifying, loaded by FastF1 from the recordings:
    the frames the workers' rows are compared with."""
    import fastf1

    cache = tmp_path_factory.mktemp("reference") / "fastf1-cache"
    shutil.copytree(recorded_cache, cache)
    with restoring_fastf1_cache(), unthrottled():
        fastf1.Cache.configure(cache_dir=str(cache))
        with replaying(load_recordings()):
            fastf1.get_session(2023, BAKU_QUALIFYING.event, BAKU_QUALIFYING.identifier).load(
                telemetry=False)
    return cache


def test_three_workers_on_one_plan_load_each_session_once(postgres_url, tmp_path,
                                                          reference_cache):
    migrated = run_script(MIGRATE, "--database-url", postgres_url, cwd=tmp_path,
                          env=script_env())
    assert migrated.returncode == 0, migrated.stderr

    children = [start_child(tmp_path, *PLAN, "--database-url", postgres_url)
                for _ in range(WORKERS)]
    try:
        results = [child.finish(timeout=240) for child in children]
    finally:
        for child in children:
            child.kill()
    for result in results:
        assert_clean_exit(result)

    assert sum(result.summary["fastf1_loads"] for result in results) == len(SESSIONS)
    for recorded in SESSIONS:
        outcomes = [session_entries(result.summary)[recorded.name] for result in results]
        loaded = [entry for entry in outcomes if entry["outcome"] == "loaded"]
        assert len(loaded) == 1, (recorded.name, outcomes)
        for entry in outcomes:
            if entry["outcome"] != "loaded":
                assert entry["outcome"] == "skipped", entry
                assert any(words in entry["reason"] for words in SKIP_REASONS), entry
    assert_stored_as_fastf1(postgres_url, reference_cache, SESSIONS, BAKU_TABLES)
