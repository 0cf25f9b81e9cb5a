"""Shared fixtures: no network, real SQLite/PostgreSQL databases, an offline FastF1 cache,
and a database the entry scripts filled.

Tests never reach the internet: FastF1 data comes from responses recorded in
``../shared/fastf1-recorded`` (plus synthetic telemetry), replayed once into a FastF1 cache
that the code under test then reads in offline mode. Each session-scoped fixture is
built once per run, whichever modules use it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

from support.database import row_counts
from support.entry_scripts import ITALY_FP2, REPO, offline, run_script, sqlite_url_of
from support.fastf1_replay import load_recordings, recordings_available
from support.recorded import RECORDED_SESSIONS, RECORDED_TELEMETRY
from support.scratch_postgres import PostgresUnavailable, scratch_postgres_database
from support.synthetic_telemetry import add_session_telemetry, samples_per_driver

# --- the quick loop -----------------------------------------------------------------------
# `pytest -m "not slow"` runs in under a minute: it leaves out every test that loads a
# FastF1 session, runs an entry script or child process, or builds a database from
# recordings. A test is slow when its module says so (``pytestmark``), when it is marked
# itself, or when it uses one of these fixtures (each loads FastF1 sessions or runs scripts).
SLOW_FIXTURES = {"recorded_cache", "cli_cache", "populated", "populated_copy",
                 "bad_input_runs", "rehearsal_cache", "image_files", "reference_cache",
                 "edited_caches", "offline_fastf1", "fastf1_scratch", "cache_copy",
                 "read_back_cache", "read_back_database"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# --- network guard ------------------------------------------------------------------------

class NetworkGuard:
    """Refuses connections to anything but loopback and unix sockets; remembers attempts.

    Attempts are remembered because FastF1 catches and logs most exceptions while loading,
    which would hide the refusal; the per-test fixture fails the test on any attempt.
    """

    def __init__(self):
        self.attempts: list[str] = []

    def check(self, host, port) -> None:
        if _is_loopback(host):
            return
        where = f"{host}:{port}"
        self.attempts.append(where)
        raise RuntimeError(f"test tried to reach the network: {where}")


def _is_loopback(host) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port) means this machine
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]").split("%")[0].lower()
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="session", autouse=True)
def _network_guard():
    """Patch the socket layer once for the whole run, session-scoped fixtures included."""
    guard = NetworkGuard()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create_connection, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address[0], address[1])
        return real_connect(sock, address)

    def connect_ex(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address[0], address[1])
        return real_connect_ex(sock, address)

    def create_connection(address, *args, **kwargs):
        guard.check(address[0], address[1])
        return real_create_connection(address, *args, **kwargs)

    def getaddrinfo(host, port, *args, **kwargs):
        guard.check(host, port)
        return real_getaddrinfo(host, port, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "create_connection", create_connection)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield guard


@pytest.fixture(autouse=True)
def no_network(_network_guard):
    """Fail the test if anything tried to leave the machine, even if the error was caught.

    A test that provokes an attempt on purpose clears ``no_network.attempts`` afterwards.
    """
    yield _network_guard
    attempts, _network_guard.attempts = _network_guard.attempts, []
    if attempts:
        pytest.fail("test tried to reach the network (the error may have been caught "
                    "and logged): " + ", ".join(attempts))


# --- databases ----------------------------------------------------------------------------

@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return "sqlite:///" + str(tmp_path / "f1.db")


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database per test, force-dropped afterwards (open sessions too)."""
    try:
        with scratch_postgres_database("f1db_test") as url:
            yield url
    except PostgresUnavailable as error:
        if os.environ.get("F1DB_REQUIRE_POSTGRES"):   # set by .ci/run: CI must not skip
            pytest.fail(str(error))
        pytest.skip(str(error))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """Runs the test once per supported database."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param]
    return request.getfixturevalue(fixture)


# --- FastF1 -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def recordings() -> dict:
    """The recorded live timing and Jolpica answers (URL -> response); a test that uses
    them is skipped, saying why, where ../shared/fastf1-recorded is absent. Copy before
    changing."""
    if not recordings_available():
        pytest.skip("../shared/fastf1-recorded is absent: recorded FastF1 sessions "
                    "cannot be loaded")
    return load_recordings()


@pytest.fixture(scope="session")
def recorded_telemetry() -> dict:
    """What synthetic telemetry `recorded_cache` holds, with the rows per driver and stream."""
    return {**RECORDED_TELEMETRY, "samples_per_driver": samples_per_driver(
        RECORDED_TELEMETRY["seconds"], RECORDED_TELEMETRY["hz"])}


@pytest.fixture(scope="session")
def recorded_cache(tmp_path_factory) -> Path:
    """A FastF1 cache directory holding RECORDED_SESSIONS, their years' schedules, their
    circuit layouts where recorded (2021 Monza: synthetic_circuits.py) and the synthetic
    standings of RECORDED_STANDINGS.

    Built once per run by letting FastF1 load each session from the replayed recordings,
    so the cache has exactly what a real download would leave. Use it with
    ``fastf1.Cache.configure(cache_dir=...)`` and ``fastf1.Cache.offline_mode(True)``.
    FastF1's cache configuration and log level are put back afterwards.
    """
    if not recordings_available():
        pytest.skip("../shared/fastf1-recorded is absent: recorded FastF1 sessions "
                    "cannot be loaded")
    from support.recorded_cache import build_recorded_cache

    return build_recorded_cache(
        tmp_path_factory.mktemp("fastf1-cache"),
        lambda responses: add_session_telemetry(responses, **RECORDED_TELEMETRY))


@pytest.fixture
def engine(database_url):
    """An engine on ``database_url``, to read what a test stored; disposed afterwards."""
    from sqlalchemy import create_engine

    from f1db.config import normalise_url

    engine = create_engine(normalise_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def empty_cache_dir(tmp_path) -> Path:
    directory = tmp_path / "empty-fastf1-cache"
    directory.mkdir()
    return directory


# --- the entry scripts --------------------------------------------------------------------

@pytest.fixture(scope="session")
def cli_cache(recorded_cache, tmp_path_factory) -> Path:
    """A copy of the recorded cache for the entry scripts: FastF1 adds folders to the cache
    it reads for sessions it did not find, and `recorded_cache` stays as it was built."""
    copy = tmp_path_factory.mktemp("cli") / "fastf1-cache"
    shutil.copytree(recorded_cache, copy)
    return copy


@pytest.fixture(scope="session")
def populated(cli_cache, tmp_path_factory) -> dict:
    """2021 Italian FP2 (every table) in SQLite, loaded once by populate_db.py run from the
    repository root. Keys: ``path`` and ``url`` of the database, ``counts`` (rows in every
    table) and ``result`` (the finished process). Tests change only copies of it."""
    folder = tmp_path_factory.mktemp("populated")
    path = folder / "f1.db"
    result = run_script("backend/populate_db.py", *ITALY_FP2, *offline(cli_cache),
                        "--database-url", sqlite_url_of(path),
                        "--log-file", folder / "populate.log", cwd=REPO)
    assert result.returncode == 0, result.stderr
    counts = row_counts(sqlite_url_of(path))
    # Every table but the failures and the standings (a race's, not a practice's).
    assert all(n for table, n in counts.items()
               if table not in ("session_failures", "driver_standings",
                                "constructor_standings")), counts
    return {"path": path, "url": sqlite_url_of(path), "counts": counts, "result": result}


@pytest.fixture
def populated_copy(populated, tmp_path) -> Path:
    """A private copy of the populated database (the file is closed: WAL is checkpointed)."""
    copy = tmp_path / "populated.db"
    shutil.copyfile(populated["path"], copy)
    return copy


# --- the read side ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def read_back_cache(tmp_path_factory) -> Path:
    """A FastF1 cache of every recorded session, two of them with synthetic telemetry over
    the whole session (support/read_back.py): the reference the read side is compared with."""
    if not recordings_available():
        pytest.skip("../shared/fastf1-recorded is absent: recorded FastF1 sessions "
                    "cannot be loaded")
    from support.read_back import build_read_back_cache

    return build_read_back_cache(tmp_path_factory.mktemp("read-back-cache"))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def read_back_database(request, read_back_cache, tmp_path_factory) -> str:
    """Every session of ``read_back_cache`` stored once per run and database (URL); the
    read tests only read it (they check that nothing changes)."""
    from support.database import populate_offline

    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = "sqlite:///" + str(tmp_path_factory.mktemp("read-back") / "f1.db")
        else:
            try:
                url = stack.enter_context(scratch_postgres_database("f1db_read"))
            except PostgresUnavailable as error:
                if os.environ.get("F1DB_REQUIRE_POSTGRES"):
                    pytest.fail(str(error))
                pytest.skip(str(error))
        for year, event, session in RECORDED_SESSIONS:
            summary = populate_offline(url, read_back_cache, year, event, session)
            assert summary.sessions_failed == 0, summary.sessions
        yield url
