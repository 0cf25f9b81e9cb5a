"""Failures mid-run: nothing half-stored, nothing lost, the right outcome and exit code."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy.exc import OperationalError

import f1db.run.session_job as session_job_module
from support.database import row_counts, run_populator

BAKU = dict(events=("Azerbaijan",), sessions=("SS", "S"))


class FakeClock:
    """time() and sleep() without waiting: sleep moves the time on and reports the wait."""

    def __init__(self, on_sleep=lambda seconds: None):
        self.now, self.on_sleep = 1_800_000_000.0, on_sleep

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.on_sleep(seconds)
        self.now += seconds


def run(database_url, cache, **options):
    """Baku 2023's Sprint Shootout and Sprint, offline from ``cache``, unless ``options`` say
    otherwise."""
    return run_populator(2023, database_url=database_url, offline=True, cache_dir=cache,
                         **{**BAKU, **options})


def fail_loading(monkeypatch, session_name: str, failure) -> None:
    """FastF1's ``Session.load`` calls ``failure()`` for the session named ``session_name``
    and loads every other session as usual."""
    import fastf1

    real_load = fastf1.core.Session.load

    def load(self, *args, **kwargs):
        if self.name == session_name:
            failure()
        return real_load(self, *args, **kwargs)

    monkeypatch.setattr(fastf1.core.Session, "load", load)


def test_a_crash_while_writing_leaves_no_trace_of_that_session(recorded_cache, database_url,
                                                               monkeypatch):
    real = session_job_module.replace_session_rows
    calls = {"n": 0}

    def crash_on_third_table(connection, table, key, frames, **options):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt     # like Ctrl-C in the middle of a session
        return real(connection, table, key, frames, **options)

    monkeypatch.setattr(session_job_module, "replace_session_rows", crash_on_third_table)
    with pytest.raises(KeyboardInterrupt):
        run(database_url, recorded_cache)
    assert set(row_counts(database_url).values()) == {0}     # first session rolled back whole

    monkeypatch.setattr(session_job_module, "replace_session_rows", real)
    summary = run(database_url, recorded_cache)
    assert summary.sessions_loaded == 2 and summary.exit_code == 0


def test_a_dropped_connection_is_retried(recorded_cache, database_url, monkeypatch):
    real = session_job_module.replace_session_rows
    dropped = {"done": False}

    def drop_once(connection, table, key, frames, **options):
        if not dropped["done"]:
            dropped["done"] = True
            raise OperationalError("COPY", {}, Exception("network error"),
                                   connection_invalidated=True)
        return real(connection, table, key, frames, **options)

    monkeypatch.setattr(session_job_module, "replace_session_rows", drop_once)
    summary = run(database_url, recorded_cache, retry_wait=0)
    assert dropped["done"] and summary.sessions_loaded == 2 and summary.sessions_failed == 0
    assert [entry.attempts for entry in summary.sessions] == [2, 1]
    again = run(database_url, recorded_cache)
    assert again.fastf1_loads == 0 and sum(again.rows_inserted.values()) == 0


def test_a_database_that_stays_gone_fails_each_session_after_its_retries(
        recorded_cache, sqlite_url, monkeypatch):
    def always_drop(connection, table, key, frames, **options):
        raise OperationalError("COPY", {}, Exception("network error"),
                               connection_invalidated=True)

    waits = []
    monkeypatch.setattr(session_job_module, "replace_session_rows", always_drop)
    summary = run(sqlite_url, recorded_cache, retries=2, retry_wait=1,
                  clock=FakeClock(on_sleep=waits.append))
    assert summary.sessions_failed == 2 and summary.exit_code == 1 and not summary.aborted
    for entry in summary.failures:
        assert entry.attempts == 3
        assert entry.reason.startswith("gave up after 3 attempts: database connection problem")
    # exponential backoff with full jitter: at most 1 s, then at most 2 s, per session
    assert len(waits) == 4 and all(0 <= w <= 1 for w in waits[::2]) and all(
        0 <= w <= 2 for w in waits[1::2])
    # the failures are remembered for --plan, and forgotten once a run stores the session
    assert row_counts(sqlite_url)["session_failures"] == 2
    monkeypatch.undo()
    assert run(sqlite_url, recorded_cache).sessions_loaded == 2
    assert row_counts(sqlite_url)["session_failures"] == 0


def test_fastf1s_rate_limit_is_waited_out_then_the_run_goes_on(recorded_cache, database_url,
                                                               monkeypatch):
    import fastf1

    raised = {"n": 0}

    def rate_limited_once():
        if not raised["n"]:
            raised["n"] += 1
            raise fastf1.exceptions.RateLimitExceededError("any API: 500 calls/h")

    waits = []
    fail_loading(monkeypatch, "Sprint", rate_limited_once)
    summary = run(database_url, recorded_cache, clock=FakeClock(on_sleep=waits.append))
    assert summary.sessions_loaded == 2 and summary.exit_code == 0
    assert sum(waits) >= 60          # a countdown, not a restart or a failure
    assert [entry.attempts for entry in summary.sessions] == [1, 1]


def test_fastf1_exiting_fails_only_that_session(recorded_cache, sqlite_url, monkeypatch):
    # FastF1's parsed-data cache calls exit() when a re-download fails.
    fail_loading(monkeypatch, "Sprint Shootout", lambda: exit(1))
    summary = run(sqlite_url, recorded_cache)
    assert summary.sessions_failed == 1 and summary.sessions_loaded == 1
    assert "FastF1 gave up" in summary.failures[0].reason
    assert summary.exit_code == 1


def test_a_value_that_does_not_fit_fails_the_session_naming_it(recorded_cache, sqlite_url,
                                                               monkeypatch):
    import fastf1

    real_laps = fastf1.core.Session.laps

    def odd_laps(self):
        laps = pd.DataFrame(real_laps.fget(self))
        laps.loc[laps.index[0], "TyreLife"] = 2.5
        return laps

    monkeypatch.setattr(fastf1.core.Session, "laps", property(odd_laps))
    summary = run(sqlite_url, recorded_cache, sessions=("SS",))
    assert summary.sessions_failed == 1
    assert "laps.tyre_life: value 2.5 is not a whole number" in summary.failures[0].reason
    counts = row_counts(sqlite_url)
    assert counts.pop("session_failures") == 1          # remembered for --plan
    assert set(counts.values()) == {0}


def test_a_failed_reload_of_a_stored_session_keeps_it_and_records_no_failure(
        recorded_cache, database_url, monkeypatch):
    """--force of a stored session that fails (a value the database refuses) keeps the rows
    stored before, and leaves no session_failures row: that table lists sessions that are
    not stored, and --plan would show a stored session as failed."""
    from f1db.errors import WriteError

    first = run(database_url, recorded_cache, tables=("results", "laps"))
    assert first.sessions_loaded == 2
    before = row_counts(database_url)

    def refuse(connection, table, key, frames, **options):
        raise WriteError(f"{table.name}: the database refused the rows: refused on purpose")

    monkeypatch.setattr(session_job_module, "replace_session_rows", refuse)
    forced = run(database_url, recorded_cache, tables=("results", "laps"), force=True)
    assert forced.sessions_failed == 2 and forced.exit_code == 1
    assert {entry.error for entry in forced.sessions} == {"WriteError"}
    assert row_counts(database_url) == before                 # rows kept, no failure row
    assert before["session_failures"] == 0


def test_a_connection_dropped_at_start_up_is_retried(recorded_cache, postgres_url,
                                                     monkeypatch):
    """The database answered, then its backend was terminated before the ledger was read
    (a failover, an admin): a transient fault, retried, not exit 1 without a summary."""
    import f1db.populator as populator_module
    from sqlalchemy import text

    real_read_ledger = populator_module.read_ledger
    terminated = []

    def terminate_then_read(connection, years, **options):
        if not terminated:
            terminated.append(True)
            connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return real_read_ledger(connection, years, **options)

    monkeypatch.setattr(populator_module, "read_ledger", terminate_then_read)
    summary = run(postgres_url, recorded_cache, retry_wait=0, tables=("results",))
    assert terminated and summary.exit_code == 0 and summary.sessions_loaded == 2
    assert not summary.aborted


def test_a_database_that_keeps_failing_at_start_up_ends_the_run_with_a_summary(
        recorded_cache, postgres_url, monkeypatch):
    import f1db.populator as populator_module
    from sqlalchemy import text

    def always_terminate(connection, years, **options):
        connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    monkeypatch.setattr(populator_module, "read_ledger", always_terminate)
    summary = run(postgres_url, recorded_cache, retries=1, retry_wait=0, tables=("results",))
    assert summary.exit_code == 1 and summary.sessions_loaded == 0
    assert "gave up after 2 attempts" in summary.aborted
    assert "database connection problem" in summary.aborted
