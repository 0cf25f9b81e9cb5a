#!/usr/bin/env python
"""populate_db.py in a real process, with FastF1 answered from the recordings: the child that
fault, signal and concurrency tests start, pause, kill and rerun.

    PYTHONPATH=backend:backend/tests python backend/tests/support/replay_child.py ARGS...

(ARGS: populate_db.py's arguments.)

FastF1 runs online (give a fresh ``--cache-dir``): every HTTP request of the process is
answered by the replay (``fastf1_replay.serving``), none reaches a socket (a guard refuses
any connection but loopback and reports it). Then populate_db.py runs exactly as its
``__main__`` block does (``f1db.cli.run(main)``), so exit codes, one-line errors and signal
handling are the real ones. FastF1's 0.25 s minimum interval between requests is switched
off (nothing real is called); its per-hour counters stay.

Controlled by environment variables (``child_processes.start_child`` sets them):

F1DB_REPLAY_FAULTS      JSON list of fault rules, ``[{"url": substring, "kind":
                        "reset"|"timeout"|"503"|"429"|"500", "times": N}]``: the first N
                        requests to each matching URL fail that way (fastf1_replay.Faults).
F1DB_REPLAY_TELEMETRY=1 also serve the synthetic car and position data of conftest's
                        RECORDED_TELEMETRY session (2021 Italian Grand Prix FP2).
F1DB_PAUSE_AT           where to pause, once:
                        ``request:N``   before answering the N-th replayed request (the
                                        schedule takes the first ones; then Session.load);
                        ``copy``        inside the first write of fact rows, after its first
                                        chunk went to the database (PostgreSQL: mid-COPY,
                                        after the first COPY message; SQLite: after the
                                        first executemany slice), the transaction open;
                        ``ledger``      just before f1db.ledger.write_ledger: the session's
                                        rows written, not committed;
                        ``committed:N`` right after the N-th session's transaction (one
                                        that wrote the ledger) committed.
F1DB_PAUSE_FILE         the file the child appends ``PAUSED <point> pid=<pid>`` to when it
                        pauses (required with F1DB_PAUSE_AT).
F1DB_PAUSE_SECONDS      pause that long, then go on; without it the child sleeps until a
                        signal ends it (kill -9, SIGTERM, SIGINT).
F1DB_REPLAY_REPORT      JSON file rewritten before each request is answered and at exit:
                        ``requests``, ``served`` (URL -> count), ``faults_injected`` (URL ->
                        kind -> count), ``faults_injected_total``, ``network_attempts``,
                        ``paused`` (the pause point reached, or null). A kill -9 leaves the
                        last one written.

Test code only: the hooks monkeypatch f1db's module attributes (``copy_into``,
``sqlite_rows``, ``write_ledger``, wherever they are bound) and SQLAlchemy's
``DefaultDialect.do_commit``; the production code has no test hook.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import pkgutil
import runpy
import socket
import sys
import time
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[2]
POPULATE = BACKEND_DIR / "populate_db.py"

ENV_FAULTS = "F1DB_REPLAY_FAULTS"
ENV_TELEMETRY = "F1DB_REPLAY_TELEMETRY"
ENV_PAUSE_AT = "F1DB_PAUSE_AT"
ENV_PAUSE_FILE = "F1DB_PAUSE_FILE"
ENV_PAUSE_SECONDS = "F1DB_PAUSE_SECONDS"
ENV_REPORT = "F1DB_REPLAY_REPORT"
PAUSE_KINDS = ("request", "copy", "ledger", "committed")
PAUSED_PREFIX = "PAUSED "


def check_pause_point(point: str) -> str:
    """``point`` if it is one of PAUSE_KINDS (``request`` and ``committed`` with ``:N``)."""
    kind, _, number = point.partition(":")
    numbered = kind in ("request", "committed")
    if kind not in PAUSE_KINDS or numbered != bool(number) or (
            numbered and not (number.isdigit() and int(number) >= 1)):
        raise ValueError(f"{ENV_PAUSE_AT}={point!r}: use request:N, copy, ledger or "
                         f"committed:N (N >= 1)")
    return point


class Pauser:
    """Pauses the process once, at the configured point, and says so in the pause file."""

    def __init__(self, point: str | None, pause_file: str | None, seconds: float | None):
        self.point = check_pause_point(point) if point else None
        if self.point and not pause_file:
            raise ValueError(f"{ENV_PAUSE_AT} needs {ENV_PAUSE_FILE}")
        self.pause_file = pause_file
        self.seconds = seconds
        self.reached_point: str | None = None
        self.on_pause = lambda: None      # e.g. write the report first

    def reached(self, point: str) -> None:
        if point != self.point or self.reached_point is not None:
            return
        self.reached_point = point
        self.on_pause()
        with open(self.pause_file, "a", encoding="utf-8") as file:
            file.write(f"{PAUSED_PREFIX}{point} pid={os.getpid()}\n")
            file.flush()
            os.fsync(file.fileno())
        if self.seconds is not None:
            time.sleep(self.seconds)
            return
        from f1db import signals

        while True:        # short sleeps: a signal handler runs between them
            time.sleep(0.05)
            signals.raise_if_received()    # paused in the writer thread: no handler here


# --- no socket but loopback -------------------------------------------------------------------

def guard_network(attempts: list[str]) -> None:
    """Refuse connections to anything but loopback; remember the attempts for the report.

    Like conftest's guard, for a process the test's guard does not reach (and the replay
    should leave nothing to refuse: an attempt means a request escaped it).
    """
    import ipaddress

    def loopback(host) -> bool:
        if host is None:
            return True
        host = (host.decode() if isinstance(host, bytes) else str(host)).strip("[]").lower()
        if host in ("localhost", "localhost.localdomain"):
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    def check(host, port):
        if not loopback(host):
            attempts.append(f"{host}:{port}")
            raise OSError(f"replay child: no network ({host}:{port})")

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return real_connect(sock, address)

    def connect_ex(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return real_connect_ex(sock, address)

    def getaddrinfo(host, port, *args, **kwargs):
        check(host, port)
        return real_getaddrinfo(host, port, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.getaddrinfo = getaddrinfo


# --- FastF1 -------------------------------------------------------------------------------------

def without_min_interval() -> None:
    """Drop FastF1's 0.25 s minimum interval (nothing real is called); keep the hourly
    counters, which the code under test must cope with."""
    from fastf1.req import _MinIntervalLimitDelay, _SessionWithRateLimiting

    for limiters in _SessionWithRateLimiting._RATE_LIMITS.values():
        limiters[:] = [limiter for limiter in limiters
                       if not isinstance(limiter, _MinIntervalLimitDelay)]


def recorded_responses(telemetry: bool) -> dict:
    from support.fastf1_replay import load_recordings
    from support.recorded import RECORDED_STANDINGS
    from support.synthetic_circuits import monza_2021
    from support.synthetic_jolpica import standings_responses

    responses = load_recordings()
    # What the tests' recorded cache also holds (synthetic, see those modules).
    responses.update(monza_2021(responses))
    for year, round_number in RECORDED_STANDINGS:
        responses.update(standings_responses(responses, year, round_number))
    if not telemetry:
        return responses
    import fastf1

    from support.recorded import RECORDED_TELEMETRY  # the one session the tests' cache has it for
    from support.synthetic_telemetry import add_session_telemetry

    fastf1.set_log_level("ERROR")   # populate_db.py sets logging up itself afterwards
    return add_session_telemetry(responses, **RECORDED_TELEMETRY)


# --- pause hooks in f1db ------------------------------------------------------------------------

def f1db_modules() -> list:
    """Every module of the f1db package, imported, so a hook reaches each binding of a name."""
    import f1db

    for info in pkgutil.walk_packages(f1db.__path__, prefix="f1db."):
        importlib.import_module(info.name)
    return [module for name, module in sys.modules.items()
            if module is not None and (name == "f1db" or name.startswith("f1db."))]


def replace_everywhere(modules: list, original, replacement) -> int:
    """Rebind ``original`` to ``replacement`` in every module that holds it; how many did."""
    count = 0
    for module in modules:
        for name, value in list(vars(module).items()):
            if value is original:
                setattr(module, name, replacement)
                count += 1
    return count


def install_pause_hooks(pauser: Pauser) -> None:
    """The copy, ledger and committed:N points (request:N is the replay's own hook)."""
    if pauser.point is None or pauser.point.startswith("request:"):
        return
    from sqlalchemy.engine.default import DefaultDialect

    import f1db.dialects.postgresql
    import f1db.dialects.sqlite
    import f1db.ledger

    modules = f1db_modules()

    real_copy = f1db.dialects.postgresql.copy_into

    def copy_postgresql(connection, table, columns, messages):
        # The COPY's own stream, whether its messages are built as they go or were
        # prepared before the write (load.PreparedCopy).
        def then_pause():
            for message in messages:
                yield message
                pauser.reached("copy")  # pg8000 asks for the next message: this one is sent
        return real_copy(connection, table, columns, then_pause())

    real_rows = f1db.dialects.sqlite.sqlite_rows

    class RowsThenPause(list):
        def __iter__(self):
            yield from super().__iter__()
            pauser.reached("copy")     # sqlite3 asks past the last row: all executed

    def sqlite_rows(*args, **kwargs):
        return RowsThenPause(real_rows(*args, **kwargs))

    pending: set[int] = set()          # DBAPI connections whose transaction wrote the ledger
    committed = [0]
    real_write_ledger = f1db.ledger.write_ledger

    def write_ledger(connection, *args, **kwargs):
        pauser.reached("ledger")
        result = real_write_ledger(connection, *args, **kwargs)
        pending.add(id(_dbapi(connection.connection)))
        return result

    real_commit, real_rollback = DefaultDialect.do_commit, DefaultDialect.do_rollback

    def do_commit(dialect, dbapi_connection):
        real_commit(dialect, dbapi_connection)
        if id(_dbapi(dbapi_connection)) in pending:
            pending.discard(id(_dbapi(dbapi_connection)))
            committed[0] += 1
            pauser.reached(f"committed:{committed[0]}")

    def do_rollback(dialect, dbapi_connection):
        pending.discard(id(_dbapi(dbapi_connection)))
        real_rollback(dialect, dbapi_connection)

    bound = {"copy": (replace_everywhere(modules, real_copy, copy_postgresql)
                      + replace_everywhere(modules, real_rows, sqlite_rows)),
             "ledger": replace_everywhere(modules, real_write_ledger, write_ledger)}
    bound["committed"] = bound["ledger"]
    DefaultDialect.do_commit, DefaultDialect.do_rollback = do_commit, do_rollback
    kind = pauser.point.partition(":")[0]
    if not bound[kind]:
        raise RuntimeError(f"replay child: no f1db module binds the function that pause point "
                           f"{pauser.point} wraps (f1db.dialects.postgresql.copy_into, "
                           f"f1db.dialects.sqlite.sqlite_rows, f1db.ledger.write_ledger): "
                           f"update replay_child.py")


def _dbapi(connection):
    """The raw DBAPI connection behind SQLAlchemy's pool proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", None) or connection


# --- the report ---------------------------------------------------------------------------------

class Report:
    def __init__(self, path: str | None, attempts: list[str], pauser: Pauser):
        self.path, self.attempts, self.pauser = path, attempts, pauser
        self.replay = None

    def write(self) -> None:
        if not self.path or self.replay is None:
            return
        data = {**self.replay.report(), "network_attempts": list(self.attempts),
                "paused": self.pauser.reached_point}
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=1)
        os.replace(temporary, self.path)


def main(argv: list[str]) -> None:
    # f1db and the test helpers come from PYTHONPATH (entry_scripts.script_env: this
    # checkout's backend/ and backend/tests/).
    from support.fastf1_replay import Faults, serving

    attempts: list[str] = []
    guard_network(attempts)
    env = os.environ
    pauser = Pauser(env.get(ENV_PAUSE_AT) or None, env.get(ENV_PAUSE_FILE),
                    float(env[ENV_PAUSE_SECONDS]) if env.get(ENV_PAUSE_SECONDS) else None)
    faults = Faults.from_json(env.get(ENV_FAULTS))
    responses = recorded_responses(env.get(ENV_TELEMETRY) == "1")
    without_min_interval()
    install_pause_hooks(pauser)
    report = Report(env.get(ENV_REPORT), attempts, pauser)
    pauser.on_pause = report.write

    def before_answer(number: int, url: str) -> None:
        report.write()
        pauser.reached(f"request:{number}")

    atexit.register(report.write)
    with serving(responses, faults, before_answer) as replay:
        report.replay = replay
        sys.argv = [str(POPULATE), *argv]
        runpy.run_path(str(POPULATE), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
