"""Starting, pausing, signalling and checking populate_db.py children served by the replay.

The parent side of ``replay_child.py``: ``start_child`` runs it in a real process (its own
FastF1 cache, log, summary JSON and replay report in a fresh folder), ``wait_paused``
waits for its pause line, ``kill``/``send_signal`` end it, ``finish`` collects the exit
code, output, summary and report. ``assert_stored_as_fastf1`` then checks what a database
holds against FastF1's own frames of the recorded sessions.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sqlalchemy import create_engine, func, inspect, select

from f1db.config import normalise_url
from f1db.models import TABLE_NAMES, Base, StoredSession
from support import replay_child
from support.entry_scripts import script_env
# The end-to-end comparison of a stored session with FastF1's frames (one definition).
from support.fastf1_comparison import assert_table_matches, fastf1_frame, stored_rows
from support.replay_child import (ENV_FAULTS, ENV_PAUSE_AT, ENV_PAUSE_FILE, ENV_PAUSE_SECONDS,
                                  ENV_REPORT, ENV_TELEMETRY, PAUSED_PREFIX, check_pause_point)

REPLAY_CHILD = Path(replay_child.__file__).resolve()
_run_numbers = itertools.count(1)


@dataclass(frozen=True)
class RecordedSession:
    """A session of the recordings: how the CLI selects it and how FastF1 names it."""

    year: int
    event: str            # FastF1's event name
    identifier: str       # as given to --session
    name: str             # FastF1's Session.name, the ledger's session_type


ITALY_FP2 = RecordedSession(2021, "Italian Grand Prix", "FP2", "Practice 2")
BAKU_SHOOTOUT = RecordedSession(2023, "Azerbaijan Grand Prix", "SS", "Sprint Shootout")
BAKU_SPRINT = RecordedSession(2023, "Azerbaijan Grand Prix", "S", "Sprint")

# 2021 Italian GP FP2 without telemetry: complete in the recordings, one Session.load.
ITALY_ARGS = ("--year", "2021", "--event", "Monza", "--session", "FP2", "--no-telemetry")
ITALY_TABLES = tuple(t for t in TABLE_NAMES if t not in ("telemetry", "positions"))
# Two sessions of one run, both complete for these tables (the recordings of Baku 2023
# have no weather, and no messages for the Sprint): the Sprint Shootout, then the Sprint.
BAKU_TABLES = ("results", "laps", "session_status", "track_status")
BAKU_ARGS = ("--year", "2023", "--event", "Azerbaijan", "--session", "SS", "--session", "S",
             "--tables", ",".join(BAKU_TABLES))


@dataclass
class ChildResult:
    returncode: int | None        # None: still running (a look at a paused child)
    stdout: str
    stderr: str
    summary: dict | None          # --summary-json, when written
    report: dict | None           # the replay's report (requests, faults injected)
    folder: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        """For assertion messages: exit code and the end of both streams."""
        return (f"exit {self.returncode}\n--- stdout ---\n{self.stdout[-3000:]}\n"
                f"--- stderr ---\n{self.stderr[-3000:]}")


class ReplayChild:
    """A running replay_child.py; use as a context manager so it never outlives the test."""

    def __init__(self, process: subprocess.Popen, folder: Path):
        self.process = process
        self.folder = folder
        self.pause_file = folder / "paused.txt"
        self.report_file = folder / "report.json"
        self.summary_file = folder / "summary.json"
        self.log_file = folder / "populate.log"

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_paused(self, timeout: float = 90) -> str:
        """Wait for the child's pause line and return it; fail if it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pause_file.is_file():
                lines = [line for line in self.pause_file.read_text().splitlines()
                         if line.startswith(PAUSED_PREFIX)]
                if lines:
                    return lines[0]
            if self.process.poll() is not None:
                raise AssertionError(f"the child ended before pausing\n"
                                     f"{self.collect().describe()}")
            time.sleep(0.02)
        self.kill()
        raise AssertionError(f"the child did not pause within {timeout} s\n"
                             f"{self.collect().describe()}")

    def send_signal(self, signal_number: int) -> None:
        self.process.send_signal(signal_number)

    def kill(self) -> None:
        """kill -9 (if it is still running) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def finish(self, timeout: float = 180) -> ChildResult:
        """Wait for the exit (killing it after ``timeout``) and collect what it left."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the child ran longer than {timeout} s\n"
                                 f"{self.collect().describe()}") from None
        return self.collect()

    def collect(self) -> ChildResult:
        return ChildResult(
            returncode=self.process.poll(),
            stdout=_read(self.folder / "stdout.txt"), stderr=_read(self.folder / "stderr.txt"),
            summary=_read_json(self.summary_file), report=_read_json(self.report_file),
            folder=self.folder)

    def __enter__(self) -> "ReplayChild":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def start_child(workdir: Path, *args: str, faults: Sequence[dict] = (),
                telemetry: bool = False, pause_at: str | None = None,
                pause_seconds: float | None = None, cache_dir: Path | None = None,
                summary_json: bool = True, env: dict | None = None) -> ReplayChild:
    """Start ``replay_child.py args`` in a new folder under ``workdir`` (its working folder).

    The child gets a fresh FastF1 cache (unless ``cache_dir``), ``--log-file``,
    ``--summary-json`` (unless ``summary_json=False``) and a report file there; the
    environment is the entry scripts' (no database or F1 settings, a dead proxy) plus the
    replay's variables. ``args`` carry the rest (``--database-url``, the selection).
    """
    folder = workdir / f"child-{next(_run_numbers)}"
    folder.mkdir(parents=True)
    cache_dir = cache_dir or folder / "fastf1-cache"
    command = [sys.executable, str(REPLAY_CHILD), *map(str, args), "--cache-dir", str(cache_dir),
               "--log-file", str(folder / "populate.log")]
    if summary_json:
        command += ["--summary-json", str(folder / "summary.json")]
    variables = {"PYTHONUNBUFFERED": "1", ENV_REPORT: str(folder / "report.json"),
                 ENV_FAULTS: json.dumps(list(faults)), ENV_TELEMETRY: "1" if telemetry else "0"}
    if pause_at:
        variables.update({ENV_PAUSE_AT: check_pause_point(pause_at),
                          ENV_PAUSE_FILE: str(folder / "paused.txt")})
        if pause_seconds is not None:
            variables[ENV_PAUSE_SECONDS] = str(pause_seconds)
    environment = script_env(**variables, **(env or {}))
    with open(folder / "stdout.txt", "w") as stdout, open(folder / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(command, cwd=folder, env=environment, stdin=subprocess.DEVNULL,
                                   stdout=stdout, stderr=stderr, start_new_session=True)
    return ReplayChild(process, folder)


def run_child(workdir: Path, *args: str, timeout: float = 180, **options) -> ChildResult:
    """``start_child`` and wait for it to end on its own."""
    with start_child(workdir, *args, **options) as child:
        return child.finish(timeout)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --- checks after a run ---------------------------------------------------------------------

def assert_clean_exit(result: ChildResult, code: int = 0) -> None:
    """The exit code wanted, no traceback, and nothing tried to reach the network."""
    assert result.returncode == code, result.describe()
    assert "Traceback" not in result.output, result.describe()
    if result.report is not None:
        assert result.report["network_attempts"] == [], result.report["network_attempts"]


def session_entries(summary: dict) -> dict[str, dict]:
    """The summary JSON's session entries by session type ("Practice 2": {...})."""
    return {entry["session_type"]: entry for entry in summary["sessions"]}


def assert_stored_as_fastf1(database_url: str, reference_cache: Path,
                            sessions: Sequence[RecordedSession], tables: Sequence[str]) -> None:
    """The database holds exactly ``sessions``, each once, with FastF1's rows.

    The ledger has one ``sessions`` row per session and no other; each table of ``tables``
    equals FastF1's frame of the session (rows, keys, every value: FastF1 loaded offline
    from ``reference_cache`` as the run loads it), or holds nothing of it when FastF1 has no
    such data; tables not asked for hold nothing of it.
    """
    engine = create_engine(normalise_url(database_url))
    try:
        ledger = StoredSession.__table__
        with engine.connect() as connection:
            stored = connection.execute(select(ledger.c.year, ledger.c.session_type,
                                               func.count()).group_by(
                ledger.c.year, ledger.c.session_type)).all()
        assert sorted(stored) == sorted((s.year, s.name, 1) for s in sessions), stored
        telemetry = bool({"telemetry", "positions"} & set(tables))
        for recorded in sessions:
            fastf1 = fastf1_reference(reference_cache, recorded, telemetry=telemetry)
            for table in TABLE_NAMES:
                frame = fastf1_frame(fastf1, table) if table in tables else None
                if frame is None:
                    assert stored_rows(engine, table, recorded.year, recorded.name) == [], table
                else:
                    assert_table_matches(engine, table, frame, recorded.year, recorded.name)
    finally:
        engine.dispose()


def fastf1_reference(cache: Path, recorded: RecordedSession, *, telemetry: bool):
    """FastF1's session loaded offline from ``cache`` the way a run loads it: with or
    without telemetry, which changes more than the telemetry tables (without car data
    FastF1 has no ``t0_date``, so laps have no ``LapStartDate``)."""
    import fastf1

    fastf1.Cache.configure(cache_dir=str(cache))
    fastf1.Cache.offline_mode(True)
    session = fastf1.get_session(recorded.year, recorded.event, recorded.identifier)
    session.load(laps=True, telemetry=telemetry, weather=True, messages=True)
    return session


def fact_row_total(database_url: str) -> int:
    """Rows in all fact tables together (0: nothing of any session stored, or no schema)."""
    return sum(_counts(database_url, TABLE_NAMES).values())


def ledger_session_count(database_url: str) -> int:
    """Rows of the ledger's ``sessions`` table (0 when the schema is not there yet)."""
    return _counts(database_url, [StoredSession.__tablename__])[StoredSession.__tablename__]


def _counts(database_url: str, tables: Sequence[str]) -> dict[str, int]:
    """Rows per table; a table not created yet counts 0 (a run killed before creating it)."""
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            existing = set(inspect(connection).get_table_names())
            return {name: connection.execute(select(func.count()).select_from(
                Base.metadata.tables[name])).scalar_one() if name in existing else 0
                for name in tables}
    finally:
        engine.dispose()


def terminate_backends(database_url: str) -> list[int]:
    """``pg_terminate_backend`` every other connection to the URL's database; their pids."""
    import pg8000.native

    from support.scratch_postgres import POSTGRES

    database = database_url.rsplit("/", 1)[1]
    admin = pg8000.native.Connection(**POSTGRES, timeout=10)
    try:
        rows = admin.run("SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = :database AND pid <> pg_backend_pid()",
                         database=database)
    finally:
        admin.close()
    return [pid for pid, _ in rows]

