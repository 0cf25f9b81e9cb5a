"""One request budget per PostgreSQL database: every process and task writing to the same
database shares FastF1's hourly limits, exactly, whatever machine it runs on.

Real PostgreSQL, real processes; a fast clock where an hour must pass. The budget's rules
(caps, sliding hour, waits) are test_request_budget.py's; here: that they hold when the
log is the database's table, under concurrency, after a dropped connection, for a role
that may not write it, and end to end through the populator.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, inspect, text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.errors import RequestBudgetSpent
from f1db.schema import head_revision, schema_state, upgrade
from f1db.sources.budget import HOUR, FileRequestLog, RequestBudget
from f1db.sources.budget_db import TABLE, DatabaseRequestLog, SharedOrLocalLog
from f1db.sources.fastf1_source import BUDGET_FILE
from support.database import run_populator
from support.entry_scripts import BACKEND as BACKEND_DIR
from support.fastf1_replay import serving
from support.synthetic_jolpica import standings_responses
from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled

LIVE = "https://livetiming.formula1.com/static/2021/Index.json"
JOLPICA = "https://api.jolpi.ca/ergast/f1/2021/results.json"
T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = T0):
        self.now = now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def engine(postgres_url):
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


def database_budget(engine, clock=None, **options) -> RequestBudget:
    log = DatabaseRequestLog(engine, database="the test database", clock=clock)
    return RequestBudget(log, clock=clock, **options)


def logged_requests(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar()


def test_the_database_log_keeps_the_caps_and_the_sliding_hour(engine):
    clock = FakeClock()
    budget = database_budget(engine, clock, requests_per_hour=5)      # caps 4 and 1
    assert not inspect(engine).has_table(TABLE)        # a database without the schema yet
    for _ in range(3):
        assert budget.try_take(LIVE) == 0.0
        clock.now += 10
    assert budget.try_take(JOLPICA) == 0.0
    assert budget.try_take(JOLPICA) == HOUR            # Jolpica's 1 was just made
    assert budget.try_take(LIVE) == HOUR - 30          # the one at T0 frees at T0 + 3600
    assert logged_requests(engine) == 4                # refusals record nothing
    clock.now = T0 + HOUR
    assert budget.try_take(LIVE) == 0.0
    assert logged_requests(engine) == 4                # the one at T0 was forgotten
    assert budget.usage()["any"].used == 4
    with pytest.raises(RequestBudgetSpent):
        budget.ensure_room(2, 0, wait=False)


def test_the_schema_migration_and_the_budget_make_the_same_table(postgres_url, engine):
    """The budget may create its table before the schema exists (the schedules are read
    first); the migration then finds it and the schema is current, and the other way
    round."""
    database_budget(engine).try_take(LIVE)
    with open_database(resolve_database(postgres_url)) as database:
        upgrade(database)
        assert schema_state(database).current == head_revision()
    assert logged_requests(engine) == 1                # the migration kept the row
    columns = {column["name"]: str(column["type"]) for column in inspect(engine).get_columns(
        TABLE)}
    assert columns == {"at": "DOUBLE PRECISION", "jolpica": "BOOLEAN"}


def test_the_servers_clock_is_the_window_of_every_machine(engine):
    """Without a fake clock the times are the server's, whatever this machine's says."""
    budget = database_budget(engine)
    assert budget.try_take(LIVE) == 0.0
    with engine.connect() as connection:
        at, server_now = connection.execute(text(
            f"SELECT at, extract(epoch FROM clock_timestamp()) FROM {TABLE}")).one()
    assert 0 <= float(server_now) - at < 60


def test_a_dropped_connection_is_retried_and_counted_once(engine, postgres_url):
    clock = FakeClock()
    log = DatabaseRequestLog(engine, database="the test database", clock=clock,
                             sleep=lambda seconds: None)
    budget = RequestBudget(log, clock=clock)
    assert budget.try_take(LIVE) == 0.0
    database = engine.url.database
    with create_engine(postgres_url.rsplit("/", 1)[0] + "/test").connect() as admin:
        killed = admin.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": database}).scalar()
    assert killed >= 1                                 # the budget's pooled connection
    assert budget.try_take(LIVE) == 0.0                # a new connection, the same log
    assert logged_requests(engine) == 2


def test_a_connection_dropped_inside_a_decision_runs_it_again_and_counts_once(engine):
    """The server ends the budget's connection in the middle of a decision (its backend
    terminated, as by a failover): the transaction is gone with it, the decision runs again
    on a new connection, and the request is recorded once."""
    clock = FakeClock()
    log = DatabaseRequestLog(engine, database="the test database", clock=clock,
                             sleep=lambda seconds: None)
    attempts = []

    def take(logged):
        attempts.append(logged.now(clock))
        logged.record(logged.now(clock), False)
        if len(attempts) == 1:
            logged._connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return "granted"

    assert log.decide(take) == "granted"
    assert len(attempts) == 2
    assert logged_requests(engine) == 1


@pytest.mark.slow
def test_a_role_that_may_not_write_the_table_falls_back_to_the_file(engine, postgres_url,
                                                                    tmp_path, caplog):
    """A read-only role (a plan run as the reader): one warning, then the machine's file."""
    role = f"budget_reader_{os.getpid()}"
    with engine.begin() as connection:
        database_budget(engine).usage()                # the table exists, owned by postgres
        connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text(f"GRANT SELECT ON {TABLE} TO {role}"))
    reader = create_engine(postgres_url.replace("postgres@", f"{role}@"))
    try:
        clock = FakeClock()
        local = FileRequestLog(tmp_path / BUDGET_FILE)
        log = SharedOrLocalLog(DatabaseRequestLog(reader, database="the test database",
                                                  clock=clock), local)
        budget = RequestBudget(log, clock=clock)
        with caplog.at_level(logging.WARNING, logger="f1db"):
            assert budget.try_take(LIVE) == 0.0
            assert budget.try_take(LIVE) == 0.0
        warnings = [record.getMessage() for record in caplog.records
                    if record.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].startswith("The request budget is not shared with other tasks: "
                                      f"this role may not write the table {TABLE}")
        assert f"grant the role SELECT, INSERT, DELETE on {TABLE}" in warnings[0]
        assert RequestBudget(local, clock=clock).usage()["any"].used == 2
        assert logged_requests(engine) == 0
    finally:
        reader.dispose()
        with engine.begin() as connection:
            connection.execute(text(f"REVOKE ALL ON {TABLE} FROM {role}"))
            connection.execute(text(f"DROP ROLE {role}"))


# --- several processes ---------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, sys, time
    from sqlalchemy import create_engine
    from f1db.sources.budget import RequestBudget
    from f1db.sources.budget_db import DatabaseRequestLog

    class FastClock:            # an hour passes every second: the window slides all along
        def time(self):
            self.last = time.time() * 3600
            return self.last

    url, mode, go = sys.argv[1], sys.argv[2], sys.argv[3]
    clock = FastClock() if mode == "fast" else None
    engine = create_engine(url)
    budget = RequestBudget(DatabaseRequestLog(engine, database="test", clock=clock),
                           requests_per_hour=20 if mode == "fast" else 50, clock=clock)
    while not os.path.exists(go):
        time.sleep(0.001)
    granted = []
    if mode == "fast":
        end = time.time() + 3
        while time.time() < end:
            if budget.try_take("https://livetiming.formula1.com/x") == 0.0:
                granted.append(repr(clock.last))
    else:
        for i in range(40):
            if budget.try_take("https://api.jolpi.ca/x" if i % 3 == 0 else
                               "https://livetiming.formula1.com/x") == 0.0:
                granted.append("1")
    print(" ".join(granted))
""")


def run_children(url: str, mode: str, tmp_path, count: int = 3) -> list[list[str]]:
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(BACKEND_DIR)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, url, mode, str(go)], env=env,
                                 text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(count)]
    go.touch()
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        outputs.append(out.split())
    return outputs


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["read committed", "repeatable read"])
def test_processes_sharing_a_database_never_exceed_or_lose_a_count(isolation, engine,
                                                                   postgres_url, tmp_path):
    """Three processes, 120 attempts for 49 slots, the server's clock: exactly the cap,
    also where the database's default isolation is repeatable read."""
    with engine.begin() as connection:
        connection.execute(text(f"ALTER DATABASE \"{engine.url.database}\" "
                                f"SET default_transaction_isolation = '{isolation}'"))
    database_budget(engine).usage()
    granted = sum(len(out) for out in run_children(postgres_url, "count", tmp_path))
    usage = database_budget(engine, requests_per_hour=50).usage()
    assert granted == usage["any"].used == logged_requests(engine) == 49
    assert 0 < usage["jolpica"].used <= 19


@pytest.mark.slow
def test_processes_sharing_a_database_never_hold_more_than_the_cap_in_any_hour(
        engine, postgres_url, tmp_path):
    """Three processes contend while the hour slides (a fast clock): every grant, by any
    of them, has fewer than the cap granted in the hour before it."""
    database_budget(engine).usage()
    grants = [sorted(float(at) for at in out)
              for out in run_children(postgres_url, "fast", tmp_path)]
    assert all(grants), "a process was starved"
    every = sorted(at for each in grants for at in each)
    most, oldest = 0, 0
    for newest, at in enumerate(every):
        while every[oldest] <= at - HOUR:
            oldest += 1
        most = max(most, newest - oldest + 1)
    assert most == 19       # the cap was reached (the test could fail), never exceeded


# --- through the populator ----------------------------------------------------------------

BAHRAIN = (2022, "Bahrain Grand Prix", "R", 1)


@pytest.mark.slow
def test_two_tasks_with_their_own_caches_share_the_databases_budget(recordings, postgres_url,
                                                                    sqlite_url, tmp_path):
    """Two tasks (each its own FastF1 cache, as on two machines) load the standings of one
    race into one PostgreSQL database: the first's requests are in the database, and the
    second, allowed fewer an hour than the first already made, is refused at once
    (``--no-wait``) instead of making more. A SQLite target keeps the file beside the
    cache, as before."""
    year, event, identifier, round_number = BAHRAIN
    responses = {**recordings, **standings_responses(recordings, year, round_number)}
    options = dict(events=(event,), sessions=(identifier,),
                   tables=("driver_standings", "constructor_standings"), retries=0)
    first_cache, second_cache = tmp_path / "task-1", tmp_path / "task-2"
    first_cache.mkdir()
    second_cache.mkdir()
    with restoring_fastf1_cache(), unthrottled(), serving(responses) as replay:
        first = run_populator(year, database_url=postgres_url, cache_dir=first_cache,
                              **options)
        made = len(replay.requested)
        assert first.sessions_loaded == 1 and made == first.requests >= 3
        engine = create_engine(postgres_url)
        try:
            assert logged_requests(engine) == made
        finally:
            engine.dispose()
        assert not (first_cache / BUDGET_FILE).exists()

        second = run_populator(year, database_url=postgres_url, cache_dir=second_cache,
                               requests_per_hour=made, wait_for_budget=False, force=True,
                               **options)
        assert second.abort_exit_code == 3, second.render()
        assert second.aborted.startswith("The hour's request budget is spent")
        assert len(replay.requested) == made             # not one more request

        on_sqlite = run_populator(year, database_url=sqlite_url, cache_dir=second_cache,
                                  **options)
    assert on_sqlite.sessions_loaded == 1
    assert RequestBudget(second_cache / BUDGET_FILE).usage()["any"].used == on_sqlite.requests
