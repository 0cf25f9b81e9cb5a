"""Opening the database: SQLAlchemy engines for SQLite, PostgreSQL (pg8000) and Cloud SQL.

Each engine is built the way its dialect wants it (dialects/: busy timeout and WAL for
SQLite, pre-ping and TCP_NODELAY for PostgreSQL); the Cloud SQL connector supplies
PostgreSQL connections to an engine of its own.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .config import DatabaseTarget
from .errors import ConfigError, first_line

log = logging.getLogger(__name__)


class Database:
    """An engine plus whatever must be closed with it (the Cloud SQL connector)."""

    def __init__(self, engine: Engine, target: DatabaseTarget, connector=None):
        self.engine = engine
        self.target = target
        self._connector = connector

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def read_only(self) -> bool:
        """Opened read-only (a SQLite file this process may not write, for a reader)."""
        return self.engine.url.query.get("mode") == "ro"

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
                  must_exist: bool = False, write: bool = True) -> Database:
    """Build the engine and, with ``check``, prove the server answers (without writing).

    ``must_exist``: refuse to create a new SQLite file (for read-only tools). ``write``:
    the caller will write; a SQLite file it could not write is refused now, in one line,
    while a reader (``write=False``) gets it opened read-only.
    """
    if must_exist and target.url is not None and target.url.get_backend_name() == "sqlite":
        if not Path(target.url.database).expanduser().is_file():
            raise ConfigError(f"No SQLite database at {target.url.database}: run "
                              f"populate_db.py or migrate_db.py first",
                              parameter=target.parameter)
    if target.cloud_sql:
        database = _open_cloud_sql(target)
    else:
        database = Database(_create_url_engine(target, write), target)
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
        if database.dialect == "sqlite":
            raise ConfigError(f"Cannot open the SQLite file {database.target.url.database}: "
                              f"{first_line(error)}: check the file and its folder's "
                              f"permissions", parameter=database.target.parameter) from None
        raise ConfigError(f"Cannot connect to {database.describe()}: {first_line(error)}. "
                          f"Check that the server runs and the URL or .env settings "
                          f"are right.", parameter=database.target.parameter) from None


def _create_url_engine(target: DatabaseTarget, write: bool) -> Engine:
    from .dialects import dialect_named

    return dialect_named(target.url.get_backend_name()).create_engine(
        target.url, parameter=target.parameter, write=write)


def _open_cloud_sql(target: DatabaseTarget) -> Database:
    from google.cloud.sql.connector import Connector, IPTypes

    settings = target.cloud_sql
    connector = Connector(ip_type=IPTypes.PRIVATE if settings.private_ip else IPTypes.PUBLIC,
                          enable_iam_auth=settings.iam_auth, refresh_strategy="lazy")

    def connect():
        return connector.connect(settings.instance_connection_name, "pg8000",
                                 user=settings.user, password=settings.password,
                                 db=settings.database)

    from .dialects.postgresql import tune_connections

    # The connector's sockets have no keepalive: ping before use, the loader retries drops.
    engine = create_engine("postgresql+pg8000://", creator=connect, pool_pre_ping=True)
    return Database(tune_connections(engine), target, connector)
