"""Opening the database: SQLAlchemy engines for SQLite, PostgreSQL (pg8000) and Cloud SQL."""

from __future__ import annotations

import contextlib
import logging
import socket
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .config import DatabaseTarget
from .errors import ConfigError, first_line

log = logging.getLogger(__name__)

# How long a SQLite write waits while another run writes (a race with telemetry takes
# seconds to write); after that the session is retried with backoff.
SQLITE_BUSY_SECONDS = 120


class Database:
    """An engine plus whatever must be closed with it (the Cloud SQL connector)."""

    def __init__(self, engine: Engine, target: DatabaseTarget, connector=None):
        self.engine = engine
        self.target = target
        self._connector = connector

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        return self.target.describe()

    def close(self) -> None:
        self.engine.dispose()
        if self._connector is not None:
            self._connector.close()
            self._connector = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_database(target: DatabaseTarget, *, check: bool = True,
                  must_exist: bool = False) -> Database:
    """Build the engine and, with ``check``, prove the server answers (without writing).

    ``must_exist``: refuse to create a new SQLite file (for read-only tools).
    """
    if must_exist and target.url is not None and target.url.get_backend_name() == "sqlite":
        if not Path(target.url.database).expanduser().is_file():
            raise ConfigError(f"No SQLite database at {target.url.database}: run "
                              f"populate_db.py or migrate_db.py first",
                              parameter=target.parameter)
    if target.cloud_sql:
        database = _open_cloud_sql(target)
    else:
        database = Database(_create_url_engine(target), target)
    if check:
        try:
            check_connection(database)
        except ConfigError:
            database.close()
            raise
    return database


def check_connection(database: Database) -> None:
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        raise ConfigError(f"Cannot connect to {database.describe()}: {first_line(error)}. "
                          f"Check that the server runs and the URL or .env settings "
                          f"are right.", parameter=database.target.parameter) from None


def _create_url_engine(target: DatabaseTarget) -> Engine:
    url = target.url
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"Cannot create the SQLite file {url.database}: folder {folder} "
                              f"does not exist", parameter=target.parameter)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, connect_args={"timeout": 30})
    event.listen(engine, "connect", _no_delay)
    return engine


def _no_delay(dbapi_connection, _record):
    """Turn Nagle's algorithm off on pg8000's socket (pg8000 leaves it on): otherwise the
    last small packet of a statement or a short COPY can wait for the server's delayed ACK,
    about 40 ms each time, a good part of a session's small tables. A Unix socket has no
    such option (and needs none)."""
    sock = getattr(dbapi_connection, "_usock", None)
    with contextlib.suppress(AttributeError, OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets dashboards read while a load writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _open_cloud_sql(target: DatabaseTarget) -> Database:
    from google.cloud.sql.connector import Connector, IPTypes

    settings = target.cloud_sql
    connector = Connector(ip_type=IPTypes.PRIVATE if settings.private_ip else IPTypes.PUBLIC,
                          enable_iam_auth=settings.iam_auth, refresh_strategy="lazy")

    def connect():
        return connector.connect(settings.instance_connection_name, "pg8000",
                                 user=settings.user, password=settings.password,
                                 db=settings.database)

    # The connector's sockets have no keepalive: ping before use, the loader retries drops.
    engine = create_engine("postgresql+pg8000://", creator=connect, pool_pre_ping=True)
    event.listen(engine, "connect", _no_delay)
    return Database(engine, target, connector)
