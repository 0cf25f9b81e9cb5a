"""The three entry scripts run as a user runs them: in a subprocess, from a shell.

Every subprocess gets a proxy that leads nowhere (``http://127.0.0.1:9``), so a real HTTP
request fails fast even though subprocesses escape the in-process network guard, and an
environment without database or F1 account settings. populate_db.py always gets
``--log-file`` in tmp_path (its default log file is inside the repository) and loads from
a copy of the recorded FastF1 cache, offline unless a test says otherwise.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from f1db.config import normalise_url
from f1db.models import TABLE_NAMES, Base

BACKEND = Path(__file__).resolve().parents[1]
REPO = BACKEND.parent
POPULATE, MIGRATE, SMOKE = (BACKEND / name for name in
                            ("populate_db.py", "migrate_db.py", "test_backend.py"))
ALL_TABLES = ("sessions", *TABLE_NAMES)
ITALY_FP2 = ("--year", "2021", "--event", "Italian Grand Prix", "--session", "FP2")
# In the schedule but not in the recorded cache. Not the race: the cache holds Ergast's race
# results (FastF1 reads them for practice sessions), so the race would load partially.
ITALY_QUALIFYING = ("--year", "2021", "--event", "Italian Grand Prix", "--session", "Q")
DEAD_PROXY = "http://127.0.0.1:9"
SCRUBBED = ("DATABASE_URL", "INSTANCE_CONNECTION_NAME", "F1_USERNAME", "F1_PASSWORD",
            "FASTF1_CACHE_DIR", "FASTF1_CACHE")
SECRET = "TopSecret123"


# --- running the scripts ------------------------------------------------------------------

def script_env(**extra: str) -> dict[str, str]:
    """This environment minus database/F1 settings, plus a proxy that refuses everything."""
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env.update({name: DEAD_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                                              "https_proxy")})
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


def run_script(script, *args, cwd: Path, env: dict | None = None, timeout: float = 120,
               **popen) -> subprocess.CompletedProcess:
    command = [sys.executable, str(script), *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env or script_env(), capture_output=not popen,
                          text=True, timeout=timeout, **popen)


def populate(tmp_path: Path, *args, log_file: Path | None = None, cwd: Path | None = None,
             **options) -> subprocess.CompletedProcess:
    """populate_db.py with its log file in tmp_path, run from tmp_path by default."""
    log_file = log_file or tmp_path / "populate.log"
    return run_script(POPULATE, *args, "--log-file", log_file, cwd=cwd or tmp_path, **options)


def offline(cache: Path) -> tuple[str, ...]:
    return ("--offline", "--cache-dir", str(cache))


def sqlite_url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def row_counts(url: str) -> dict[str, int]:
    """Rows in every table of the data contract (sessions included)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            return {name: connection.execute(select(func.count()).select_from(
                Base.metadata.tables[name])).scalar_one() for name in ALL_TABLES}
    finally:
        engine.dispose()


def stored_sessions(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT year, event_name, session_type FROM sessions ORDER BY id").fetchall()


def assert_one_line_error(result: subprocess.CompletedProcess, script: str = "populate_db.py"):
    """A usage/config error: exit 2, one line on stderr, no traceback."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(("error:", f"{script}: error:")), lines[0]
    assert result.returncode == 2, (result.returncode, result.stderr)


class Terminal:
    """A pseudo-terminal 100 columns wide; the test hands ``slave`` to the child.

    Whatever the child writes to it is collected in ``text``; nothing is ever typed in, so
    a child that reads the terminal blocks (and the test's timeout catches it).
    """

    def __init__(self, columns: int = 100):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:      # EIO once the child and we have closed the slave
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.slave)
        self._reader.join(5)
        os.close(self.master)

    @property
    def text(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")


# --- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cache(recorded_cache, tmp_path_factory) -> Path:
    """A copy of the recorded cache: FastF1 adds folders for sessions it did not find."""
    copy = tmp_path_factory.mktemp("cli") / "fastf1-cache"
    shutil.copytree(recorded_cache, copy)
    return copy


@pytest.fixture(scope="module")
def populated(cache, tmp_path_factory) -> dict:
    """2021 Italian FP2 (every table) in SQLite, loaded once from the repository root."""
    folder = tmp_path_factory.mktemp("populated")
    path = folder / "f1.db"
    result = run_script("backend/populate_db.py", *ITALY_FP2, *offline(cache),
                        "--database-url", sqlite_url_of(path),
                        "--log-file", folder / "populate.log", cwd=REPO)
    assert result.returncode == 0, result.stderr
    counts = row_counts(sqlite_url_of(path))
    assert all(counts.values()), counts
    return {"path": path, "counts": counts, "result": result}


@pytest.fixture
def populated_copy(populated, tmp_path) -> Path:
    """A private copy of the populated database (the file is closed: WAL is checkpointed)."""
    copy = tmp_path / "populated.db"
    shutil.copyfile(populated["path"], copy)
    return copy


# --- 1. --help ----------------------------------------------------------------------------

POPULATE_FLAGS = ("--year", "--max-events", "--event", "--session", "--tables", "--no-telemetry",
                  "--include-testing", "--force", "--offline", "--cache-dir", "--database-url",
                  "--summary-json", "--log-file", "--quiet", "--verbose")


@pytest.mark.parametrize("script, flags", [
    (POPULATE, POPULATE_FLAGS),
    (MIGRATE, ("--database-url", "--sql")),
    (SMOKE, ("--database-url",)),
], ids=["populate_db", "migrate_db", "test_backend"])
def test_help_lists_every_flag(script, flags, tmp_path):
    """--help is the reference a user reads first: it must name every flag and exit 0."""
    result = run_script(script, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    missing = [flag for flag in flags if not re.search(rf"{flag}\b", result.stdout)]
    assert not missing, result.stdout


# --- 2. where it is run from --------------------------------------------------------------

def test_runs_from_repo_root(populated):
    """`python backend/populate_db.py` from the repository root (the populated fixture)."""
    assert populated["result"].returncode == 0, populated["result"].stderr
    assert stored_sessions(populated["path"]) == [(2021, "Italian Grand Prix", "Practice 2")]


def test_runs_from_backend_folder(cache, tmp_path):
    """`cd backend && python populate_db.py`: the script finds its package from there too."""
    path = tmp_path / "f1.db"
    result = run_script("populate_db.py", *ITALY_FP2, *offline(cache), "--no-telemetry",
                        "--database-url", sqlite_url_of(path),
                        "--log-file", tmp_path / "populate.log", cwd=BACKEND)
    assert result.returncode == 0, result.stderr
    assert stored_sessions(path) == [(2021, "Italian Grand Prix", "Practice 2")]


# --- 3. summary -----------------------------------------------------------------------------

def test_summary_json_and_rerun_that_loads_nothing(cache, database_url, tmp_path):
    """The JSON summary is what cron jobs read; a rerun of a complete session is free."""
    first_json, rerun_json = tmp_path / "first.json", tmp_path / "rerun.json"
    first = populate(tmp_path, *ITALY_FP2, *offline(cache), "--database-url", database_url,
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
    assert all(summary["rows_inserted"].values()), summary["rows_inserted"]
    # The printed table is on stdout, with every table's row count.
    assert "Summary for 2021" in first.stdout and "1 loaded" in first.stdout
    for table, rows in summary["rows_inserted"].items():
        assert re.search(rf"{table}\s+{rows:,}\b", first.stdout), (table, first.stdout)

    rerun = populate(tmp_path, *ITALY_FP2, *offline(cache), "--database-url", database_url,
                     "--summary-json", rerun_json)
    assert rerun.returncode == 0, rerun.stderr
    again = json.loads(rerun_json.read_text())
    assert again["fastf1_loads"] == 0
    assert (again["sessions_skipped"], again["sessions_loaded"]) == (1, 0)
    assert set(again["rows_inserted"].values()) == {0}
    assert row_counts(database_url) == counts


# --- 4. bad input -------------------------------------------------------------------------

# Arguments refused while the command line is read; each runs against a copy of the
# populated database, which must not change.
BAD_ARGUMENTS = {
    "year-not-a-number": ["--year", "abc"],
    "year-before-1950": ["--year", "1800"],
    "unknown-session": ["--year", "2021", "--session", "XX"],
    "negative-max-events": ["--max-events", "-1"],
    "unknown-table": ["--tables", "foo"],
    "quiet-and-verbose": ["--quiet", "--verbose"],
    "unknown-flag": ["--no-such-flag"],
    "summary-folder-missing": ["--summary-json", "/nonexistent-dir/s.json"],
}
# Selections refused only once FastF1's schedule or cache has been read: these also run
# against a fresh SQLite path, which must not appear ({empty} is an empty folder).
BAD_SELECTIONS = {
    "unknown-event": ["--year", "2021", "--event", "Narnia"],
    "no-such-round": ["--year", "2021", "--event", "99"],
    "no-sprint-that-weekend": ["--year", "2021", "--event", "Mexico City", "--session", "S"],
    "season-not-in-cache": ["--year", "2019"],
    "empty-cache-offline": ["--year", "2021", "--offline", "--cache-dir", "{empty}"],
}
# Database URLs that must be refused, with a valid selection that would otherwise load.
BAD_DATABASE_URLS = {
    "mysql": "mysql://u@h/db",
    "not-a-url": "not a url",
    "unreachable-postgres": "postgresql://postgres@127.0.0.1:5999/x",
    "sqlite-folder-missing": "sqlite:////nonexistent-dir/x.db",
}


@pytest.fixture(scope="module")
def bad_input_runs(cache, populated, tmp_path_factory) -> dict:
    """Every bad-input run, a few at a time (each is mostly Python start-up).

    Returns {(case, target): (result, folder)}; target "populated" (a copy of the populated
    database at folder/f1.db), "fresh" (no file at folder/f1.db) or "url" (its own URL).
    """
    cases = [(case, "populated", args) for case, args in {**BAD_ARGUMENTS,
                                                            **BAD_SELECTIONS}.items()]
    cases += [(case, "fresh", args) for case, args in BAD_SELECTIONS.items()]
    cases += [(case, "url", [*ITALY_FP2, "--database-url", url])
              for case, url in BAD_DATABASE_URLS.items()]
    jobs = {}
    for case, target, args in cases:
        folder = tmp_path_factory.mktemp(f"bad-{case}-{target}")
        (folder / "empty").mkdir()
        args = [arg.replace("{empty}", str(folder / "empty")) for arg in args]
        if "--cache-dir" not in args:
            args += offline(cache)
        if target == "populated":
            shutil.copyfile(populated["path"], folder / "f1.db")
        if "--database-url" not in args:
            args += ["--database-url", sqlite_url_of(folder / "f1.db")]
        jobs[(case, target)] = (folder, args)

    def run(key):
        folder, args = jobs[key]
        return key, (populate(folder, *args, timeout=60), folder)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        return dict(pool.map(run, jobs))


@pytest.mark.parametrize("case", [*BAD_ARGUMENTS, *BAD_SELECTIONS])
def test_bad_input_is_one_line_and_changes_nothing(case, bad_input_runs, populated):
    """A typo must cost one readable line, never a traceback or a touched database."""
    result, folder = bad_input_runs[(case, "populated")]
    assert_one_line_error(result)
    assert row_counts(sqlite_url_of(folder / "f1.db")) == populated["counts"]


@pytest.mark.parametrize("case", BAD_SELECTIONS)
def test_bad_selection_creates_no_database(case, bad_input_runs):
    """The selection is checked before the database is opened, so no empty file is left."""
    result, folder = bad_input_runs[(case, "fresh")]
    assert_one_line_error(result)
    assert not (folder / "f1.db").exists(), "a refused run created the database file"


@pytest.mark.parametrize("case", BAD_DATABASE_URLS)
def test_bad_database_urls_are_one_line(case, bad_input_runs):
    """Unsupported, malformed or unreachable databases: one line saying what to fix."""
    result, _ = bad_input_runs[(case, "url")]
    assert_one_line_error(result)
    assert not Path("/nonexistent-dir").exists()


# --- 5. a session FastF1 cannot give ------------------------------------------------------

def test_session_missing_from_cache_fails_with_a_reason(cache, populated, populated_copy,
                                                        tmp_path):
    """In the schedule but not in the offline cache: exit 1, a FAILED line, nothing stored."""
    summary_path = tmp_path / "summary.json"
    result = populate(tmp_path, *ITALY_QUALIFYING, *offline(cache),
                      "--database-url", sqlite_url_of(populated_copy),
                      "--summary-json", summary_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "Italian Grand Prix Qualifying" in failed[0], result.stdout
    assert failed[0].split(":", 2)[-1].strip(), "the FAILED line gives no reason"
    summary = json.loads(summary_path.read_text())
    assert summary["sessions_failed"] == 1 and len(summary["failures"]) == 1
    assert "\n" not in summary["failures"][0]["reason"]
    assert row_counts(sqlite_url_of(populated_copy)) == populated["counts"]
    assert stored_sessions(populated_copy) == [(2021, "Italian Grand Prix", "Practice 2")]


# --- 6. secrets ---------------------------------------------------------------------------

def test_password_in_unreachable_database_url_is_never_shown(cache, tmp_path):
    """A failed connection reports the server, not the password from DATABASE_URL."""
    log_file = tmp_path / "populate.log"
    env = script_env(DATABASE_URL=f"postgresql://postgres:{SECRET}@127.0.0.1:5999/x")
    result = populate(tmp_path, *ITALY_FP2, *offline(cache), log_file=log_file, env=env)
    assert_one_line_error(result)
    assert "127.0.0.1:5999" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert SECRET not in (log_file.read_text() if log_file.exists() else "")


def test_password_never_shown_during_a_successful_load(cache, postgres_url, tmp_path):
    """Logs and summaries get shared; the password of a real server must not be in them."""
    name = postgres_url.rsplit("/", 1)[1]
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/{name}"   # trust auth ignores it
    log_file, summary_path = tmp_path / "populate.log", tmp_path / "summary.json"
    result = populate(tmp_path, *ITALY_FP2, *offline(cache), "--database-url", url,
                      "--summary-json", summary_path, log_file=log_file)
    assert result.returncode == 0, result.stderr
    assert row_counts(postgres_url)["sessions"] == 1
    assert "***" in result.stdout
    for text in (result.stdout, result.stderr, log_file.read_text(), summary_path.read_text()):
        assert SECRET not in text


# --- 7. .env ------------------------------------------------------------------------------

def test_dotenv_in_current_folder_names_the_database(cache, tmp_path):
    """Users keep DATABASE_URL in .env; with no flag, that database is created and filled."""
    from_env = tmp_path / "fromenv.db"
    (tmp_path / ".env").write_text(f"DATABASE_URL={sqlite_url_of(from_env)}\n")
    result = populate(tmp_path, *ITALY_FP2, *offline(cache), "--tables", "results")
    assert result.returncode == 0, result.stderr
    assert row_counts(sqlite_url_of(from_env))["results"] == 20


def test_database_url_flag_beats_dotenv(cache, tmp_path):
    """The flag is the most specific setting: .env's database is not even created."""
    from_env, from_flag = tmp_path / "fromenv.db", tmp_path / "fromflag.db"
    (tmp_path / ".env").write_text(f"DATABASE_URL={sqlite_url_of(from_env)}\n")
    result = populate(tmp_path, *ITALY_FP2, *offline(cache), "--tables", "results",
                      "--database-url", sqlite_url_of(from_flag))
    assert result.returncode == 0, result.stderr
    assert row_counts(sqlite_url_of(from_flag))["results"] == 20
    assert not from_env.exists()


# --- 8. migrate_db.py ---------------------------------------------------------------------

def test_migrate_twice(database_url, tmp_path):
    """The first run creates the schema, the second sees nothing to do; both exit 0."""
    first = run_script(MIGRATE, "--database-url", database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "migrated" in first.stdout
    second = run_script(MIGRATE, "--database-url", database_url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout and "nothing to do" in second.stdout
    assert row_counts(database_url) == dict.fromkeys(ALL_TABLES, 0)


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/never.db",
                                 "postgresql://postgres@127.0.0.1:5999/unreachable"],
                         ids=["sqlite", "postgresql"])
def test_migrate_sql_prints_ddl_without_connecting(url, tmp_path):
    """--sql is for DBAs who run the DDL themselves: no file made, no server contacted."""
    result = run_script(MIGRATE, "--sql", "--database-url", url.format(tmp=tmp_path),
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for table in ALL_TABLES:
        assert re.search(rf"CREATE TABLE {table} \(", result.stdout), table
    assert not (tmp_path / "never.db").exists()


# --- 9. test_backend.py -------------------------------------------------------------------

def test_smoke_check_lists_tables_and_leaves_no_row(populated, populated_copy, tmp_path):
    """The smoke check writes probe rows to prove duplicates fail; none may stay behind."""
    url = sqlite_url_of(populated_copy)
    result = run_script(SMOKE, "--database-url", url, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for table, rows in populated["counts"].items():
        assert re.search(rf"table {table}\s+{rows:,} rows", result.stdout), table
        assert f"duplicate rejected in {table}" in result.stdout, table
    assert row_counts(url) == populated["counts"]


def test_smoke_check_of_unmigrated_database_says_run_migrate(tmp_path):
    """An empty database file is a set-up step away from working: say which step."""
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    result = run_script(SMOKE, "--database-url", sqlite_url_of(path), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "migrate_db.py" in result.stdout


def test_smoke_check_of_missing_sqlite_file_is_one_line(tmp_path):
    """A mistyped path must not create an empty database that then 'fails' the check."""
    path = tmp_path / "nope.db"
    result = run_script(SMOKE, "--database-url", sqlite_url_of(path), cwd=tmp_path)
    assert_one_line_error(result, "test_backend.py")
    assert not path.exists()


# --- 10. the F1 account prompt ------------------------------------------------------------

def test_never_prompts_for_f1_account_on_a_terminal(recorded_cache, tmp_path):
    """FastF1 asks for an F1 login when stdin is a terminal; a batch run must not wait on it.

    Online mode, a session not in the cache, no credentials: FastF1 goes to the network
    (the dead proxy fails it at once) and would prompt if it could read the terminal.
    """
    cache = tmp_path / "fastf1-cache"
    shutil.copytree(recorded_cache, cache)   # online mode may write to the cache
    with Terminal() as terminal:
        result = populate(tmp_path, *ITALY_QUALIFYING, "--cache-dir", cache,
                          "--database-url", sqlite_url_of(tmp_path / "f1.db"),
                          stdin=terminal.slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True, timeout=120)
    output = result.stdout + result.stderr + terminal.text
    assert "F1 account email" not in output
    assert "Traceback" not in output
    assert result.returncode == 1, output
    assert "FAILED" in result.stdout


# --- 11. --quiet --------------------------------------------------------------------------

@pytest.mark.parametrize("quiet", [False, True], ids=["default", "quiet"])
def test_quiet_prints_no_progress_and_summary_on_stderr(quiet, cache, tmp_path):
    """--quiet is for cron: no bars, nothing on stdout; without it a terminal gets bars."""
    with Terminal() as terminal:
        result = populate(tmp_path, *ITALY_FP2, *offline(cache), "--tables", "results",
                          "--database-url", sqlite_url_of(tmp_path / "f1.db"),
                          *(["--quiet"] if quiet else []),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=terminal.slave, start_new_session=True, timeout=120)
    assert result.returncode == 0, terminal.text
    progress_bar = re.compile(r"\d+%\|")
    if quiet:
        assert result.stdout == ""
        assert "Summary for 2021" in terminal.text
        assert not progress_bar.search(terminal.text), terminal.text
        assert "Populating" not in terminal.text       # INFO lines are off too
    else:   # the control: the same terminal does show bars, so the check above means something
        assert "Summary for 2021" in result.stdout
        assert progress_bar.search(terminal.text), terminal.text
