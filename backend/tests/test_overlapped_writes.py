"""The write of session N overlaps FastF1's load of session N+1 (write_behind.py), and a
failure in that write stays with N: N rolled back and recorded (or retried), N+1 stored.

The failures are the database's own: a trigger that refuses N's laps, or one that
terminates the writing backend (``pg_terminate_backend``) once. Both sleep first, so the
write of N is still going on while FastF1 loads N+1, which the recorded timeline checks.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine

from f1db.config import normalise_url, resolve_database
from f1db.db import open_database
from f1db.ledger import read_failures
from f1db.models import stored_table
from f1db.populator import DatabasePopulator
from f1db.run.session_job import SessionJob
from f1db.run.write_behind import WriteBehind
from f1db.schema import require_current_schema
from support.child_processes import BAKU_SHOOTOUT, BAKU_SPRINT, BAKU_TABLES, assert_stored_as_fastf1
from support.database import ALL_TABLES, row_counts, stored_sessions

BAKU = dict(events=("Azerbaijan",), sessions=("SS", "S"), tables=BAKU_TABLES)
SLOW_WRITE_SECONDS = 1.5


class Timeline:
    """(what, session type, start, end) of each FastF1 load and each write of a run, and
    the thread each write ran in."""

    def __init__(self, populator: DatabasePopulator, monkeypatch):
        self.spans: list[tuple[str, str, float, float]] = []
        self.threads: dict[str, str] = {}
        self._lock = threading.Lock()
        fetch, write = populator.source.fetch_session, SessionJob.write

        def timed_fetch(ref, tables):
            return self._time("load", ref.key.session_type, fetch, ref, tables)

        def timed_write(job, fetched):
            self.threads[job.ref.key.session_type] = threading.current_thread().name
            return self._time("write", job.ref.key.session_type, write, job, fetched)

        populator.source.fetch_session = timed_fetch
        monkeypatch.setattr(SessionJob, "write", timed_write)

    def _time(self, what, session_type, function, *args):
        started = time.monotonic()
        try:
            return function(*args)
        finally:
            with self._lock:
                self.spans.append((what, session_type, started, time.monotonic()))

    def span(self, what: str, session_type: str, occurrence: int = 0) -> tuple[float, float]:
        found = [(start, end) for kind, name, start, end in self.spans
                 if kind == what and name == session_type]
        return found[occurrence]


def run_baku(database_url, cache, **options):
    populator = DatabasePopulator(2023, database_url=database_url, offline=True,
                                  cache_dir=cache, **{**BAKU, **options})
    with pytest.MonkeyPatch.context() as monkeypatch:
        timeline = Timeline(populator, monkeypatch)
        try:
            return populator.populate_database(), timeline
        finally:
            populator.close()


def create_schema(database_url: str) -> None:
    """The current schema, as a first run creates it (before the test adds its trigger)."""
    database = open_database(resolve_database(database_url))
    try:
        require_current_schema(database)
    finally:
        database.close()


def execute(database_url: str, *statements: str) -> None:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def refuse_shootout_laps(database_url: str, *, sleep: bool) -> None:
    """The database itself refuses the Sprint Shootout's laps (after a pause on PostgreSQL,
    so that the refused write is still running while the Sprint loads)."""
    if database_url.startswith("sqlite"):
        execute(database_url, """
            CREATE TRIGGER refuse_shootout BEFORE INSERT ON laps
            WHEN NEW.session_type = 'Sprint Shootout'
            BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END""")
        return
    execute(database_url, f"""
        CREATE FUNCTION refuse_shootout() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.session_type = 'Sprint Shootout' THEN
                PERFORM pg_sleep({SLOW_WRITE_SECONDS if sleep else 0});
                RAISE EXCEPTION 'refused by the test trigger' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$""", """
        CREATE TRIGGER refuse_shootout BEFORE INSERT ON laps
        FOR EACH ROW EXECUTE FUNCTION refuse_shootout()""")


def drop_refusal(database_url: str) -> None:
    execute(database_url, "DROP TRIGGER refuse_shootout" + (
        "" if database_url.startswith("sqlite") else " ON laps"))


def test_a_refused_write_of_n_while_n_plus_1_loads_fails_n_alone(recorded_cache,
                                                                  database_url):
    create_schema(database_url)
    refuse_shootout_laps(database_url, sleep=True)

    summary, timeline = run_baku(database_url, recorded_cache)

    outcomes = {entry.session_type: entry for entry in summary.sessions}
    assert outcomes["Sprint Shootout"].outcome == "failed"
    assert "refused by the test trigger" in outcomes["Sprint Shootout"].reason
    assert outcomes["Sprint Shootout"].attempts == 1          # refused: not retried
    assert outcomes["Sprint"].outcome == "loaded"
    assert [s for _, _, s in stored_sessions(database_url)] == ["Sprint"]
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            failures = read_failures(connection, (2023,))
    finally:
        engine.dispose()
    assert [key.session_type for key in failures] == ["Sprint Shootout"]
    if not database_url.startswith("sqlite"):
        # The refused write of N was still going on while FastF1 loaded N+1.
        write_start, write_end = timeline.span("write", "Sprint Shootout")
        load_start, _ = timeline.span("load", "Sprint")
        assert write_start < load_start < write_end, timeline.spans

    drop_refusal(database_url)
    again, _ = run_baku(database_url, recorded_cache)
    assert [(e.session_type, e.outcome) for e in again.sessions] == [
        ("Sprint Shootout", "loaded"), ("Sprint", "skipped")]
    assert again.fastf1_loads == 1


def test_a_connection_killed_while_writing_n_retries_n_and_leaves_n_plus_1_alone(
        recorded_cache, postgres_url):
    create_schema(postgres_url)
    # Once (a sequence is not rolled back): pause, then kill this very backend mid-COPY.
    execute(postgres_url, "CREATE SEQUENCE kill_once", f"""
        CREATE FUNCTION kill_shootout_writer() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.session_type = 'Sprint Shootout' AND nextval('kill_once') = 1 THEN
                PERFORM pg_sleep({SLOW_WRITE_SECONDS});
                PERFORM pg_terminate_backend(pg_backend_pid());
            END IF;
            RETURN NEW;
        END $$""", """
        CREATE TRIGGER kill_shootout_writer BEFORE INSERT ON laps
        FOR EACH ROW EXECUTE FUNCTION kill_shootout_writer()""")

    summary, timeline = run_baku(postgres_url, recorded_cache, retry_wait=0)

    outcomes = {entry.session_type: entry for entry in summary.sessions}
    assert outcomes["Sprint Shootout"].outcome == "loaded"
    assert outcomes["Sprint Shootout"].attempts == 2
    assert outcomes["Sprint"].outcome == "loaded" and outcomes["Sprint"].attempts == 1
    write_start, write_end = timeline.span("write", "Sprint Shootout")
    load_start, _ = timeline.span("load", "Sprint")
    assert write_start < load_start < write_end, timeline.spans
    execute(postgres_url, "DROP TRIGGER kill_shootout_writer ON laps")
    assert_stored_as_fastf1(postgres_url, recorded_cache, [BAKU_SHOOTOUT, BAKU_SPRINT],
                            BAKU_TABLES)


def test_without_overlap_the_same_run_stores_the_same_rows(recorded_cache, postgres_url,
                                                           sqlite_url):
    overlapped, overlapping = run_baku(postgres_url, recorded_cache)
    assert overlapping.threads == {"Sprint Shootout": "f1db-writer", "Sprint": "f1db-writer"}
    for serial_url, options in ((sqlite_url, {}), (postgres_url, {"overlap": False})):
        if serial_url == postgres_url:
            execute(postgres_url, *(f"DELETE FROM {stored_table(table).name}"
                                    for table in ALL_TABLES))
        serial, timeline = run_baku(serial_url, recorded_cache, **options)
        assert [(e.session_type, e.outcome, e.rows_inserted) for e in serial.sessions] == [
            (e.session_type, e.outcome, e.rows_inserted) for e in overlapped.sessions]
        # One session at a time (SQLite always): the Sprint loads after the Shootout's write.
        assert set(timeline.threads.values()) == {"MainThread"}
        assert (timeline.span("write", "Sprint Shootout")[1]
                <= timeline.span("load", "Sprint")[0])
    assert row_counts(sqlite_url) == row_counts(postgres_url)


def test_the_writer_delivers_outcomes_in_the_calling_thread_one_job_at_a_time():
    writer = WriteBehind()
    delivered, running = [], []
    gate = threading.Event()

    def job(name):
        def run():
            running.append(name)
            gate.wait(5)
            if name == "bad":
                raise ValueError("refused")
            return name
        return run

    def done(result, error):
        delivered.append((threading.current_thread() is threading.main_thread(), result,
                          type(error).__name__ if error else None))

    writer.submit(job("first"), done)
    assert delivered == [] and writer.busy
    gate.set()
    writer.submit(job("bad"), done)       # finishes "first" before starting "bad"
    writer.finish()
    assert running == ["first", "bad"]
    assert delivered == [(True, "first", None), (True, None, "ValueError")]
    assert not writer.busy


def test_settle_after_a_stop_delivers_a_committed_write_and_drops_a_rolled_back_one():
    writer = WriteBehind()
    delivered = []
    writer.submit(lambda: "stored", lambda result, error: delivered.append((result, error)))
    writer.settle(5)
    writer.submit(lambda: 1 / 0, lambda result, error: delivered.append((result, error)))
    writer.settle(5)
    assert delivered == [("stored", None)] and not writer.busy


@pytest.fixture(autouse=True)
def _no_leftover_writer_threads():
    yield
    assert not [t for t in threading.enumerate() if t.name == "f1db-writer" and t.is_alive()]
