"""Two or three first runs at once on an empty database create the schema once, and all
of them go on: on SQLite and on PostgreSQL, with real processes.

The library tests start their processes together (each waits at a start line until all
are ready) so that every one of them finds the database empty; without the schema lock
they fail (``table alembic_version already exists``, or PostgreSQL's duplicate key on
``pg_type``), checked by running them against the code before the lock.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.errors import SchemaError
from f1db.schema import schema_lock, schema_state
from support.database import models_differences
from support.entry_scripts import BACKEND, offline, script_env

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

# A process that opens the database, says it is ready, waits for the start signal (a file),
# then makes sure the schema is current, as populate_db.py does before loading.
CHILD = textwrap.dedent("""
    import json, logging, sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from f1db.config import resolve_database
    from f1db.db import open_database
    from f1db.schema import require_current_schema

    for name in ("f1db.schema", "f1db.dialects"):     # only the schema and its locks
        schema_log = logging.getLogger(name)
        schema_log.addHandler(logging.StreamHandler(sys.stderr))
        schema_log.setLevel(logging.INFO)
    url, ready, start = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    with open_database(resolve_database(url)) as database:
        ready.touch()
        while not start.exists():
            time.sleep(0.005)
        state = require_current_schema(database)
    print(json.dumps({"current": state.current, "up_to_date": state.up_to_date}))
""")


def start_children(url: str, folder: Path, count: int) -> list[subprocess.Popen]:
    """``count`` CHILD processes, released together once all of them are connected."""
    start = folder / "start"
    readies = [folder / f"ready-{n}" for n in range(count)]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(BACKEND), url, str(ready),
                                  str(start)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=script_env())
                for ready in readies]
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready in readies):
        assert time.monotonic() < deadline, "the children never got ready"
        assert all(child.poll() is None for child in children), [
            child.communicate() for child in children]
        time.sleep(0.01)
    start.touch()
    return children


def assert_schema_made_once(url: str) -> None:
    """At the newest revision, exactly the models' tables, one alembic_version row."""
    with open_database(resolve_database(url)) as database:
        assert schema_state(database).up_to_date
        with database.engine.connect() as connection:
            assert models_differences(connection) == []
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1, versions


def test_three_processes_on_an_empty_database_create_the_schema_once(database_url, tmp_path):
    children = start_children(database_url, tmp_path, 3)
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (stdout, stderr) in zip(children, outputs):
        assert child.returncode == 0, stderr
        assert "Traceback" not in stderr, stderr
        assert json.loads(stdout)["up_to_date"] is True
    assert_schema_made_once(database_url)


def test_a_run_waits_for_the_one_creating_the_schema_then_finds_it_current(database_url,
                                                                           tmp_path):
    """Deterministic: this process holds the lock (as a first run creating the schema
    would) while a second run starts; that run waits, says so, then finds nothing to do."""
    from f1db.schema import _may_not_create_message_for_populate, _migrate

    with open_database(resolve_database(database_url)) as database:
        with schema_lock(database) as connection:
            [child] = start_children(database_url, tmp_path, 1)
            readable, _, _ = select.select([child.stderr], [], [], 30)
            assert readable, "the second run neither waited nor ended"
            waiting = child.stderr.readline()
            assert "Another run is creating or upgrading the schema" in waiting, (
                waiting + "".join(child.communicate()))
            assert child.poll() is None
            _migrate(database, connection, _may_not_create_message_for_populate, empty=True)
        stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert json.loads(stdout)["up_to_date"] is True
    assert_schema_made_once(database_url)


def test_a_lock_held_too_long_is_one_line(database_url):
    with open_database(resolve_database(database_url)) as holder, \
            open_database(resolve_database(database_url)) as waiter:
        with schema_lock(holder):
            started = time.monotonic()
            with pytest.raises(SchemaError, match=r"^Another run has been creating or "
                                                  r"upgrading the schema of .* for more than "
                                                  r"1 s.*: wait until it ends, then run "
                                                  r"again$"):
                with schema_lock(waiter, timeout=1):
                    pass
            assert 0.9 < time.monotonic() - started < 10
        with schema_lock(waiter, timeout=1):       # released with the holder's block
            pass


def test_two_first_runs_of_populate_db_at_once(database_url, cli_cache, tmp_path):
    """As a user starts them: two populate_db.py on one empty database, each loading its own
    session (two workers on one session is the per-session lock's test)."""
    sessions = [("--year", "2021", "--event", "Italian Grand Prix", "--session", "FP2"),
                ("--year", "2021", "--event", "Mexico City Grand Prix", "--session", "Q")]
    runs = []
    for n, selection in enumerate(sessions):
        log_file = tmp_path / f"run-{n}.log"
        runs.append(subprocess.Popen(
            [sys.executable, str(BACKEND / "populate_db.py"), *selection, "--tables", "results",
             *offline(cli_cache), "--database-url", database_url, "--log-file", str(log_file)],
            cwd=tmp_path, env=script_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    for run in runs:
        stdout, stderr = run.communicate(timeout=180)
        assert run.returncode == 0, stdout + stderr
        assert "Traceback" not in stdout + stderr, stderr
    assert_schema_made_once(database_url)
    with open_database(resolve_database(database_url)) as database:
        with database.engine.connect() as connection:
            stored = connection.execute(text("SELECT session_type FROM sessions "
                                             "ORDER BY session_type")).scalars().all()
    assert stored == ["Practice 2", "Qualifying"]
