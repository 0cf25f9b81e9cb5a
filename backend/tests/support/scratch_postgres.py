"""Throw-away PostgreSQL databases on the local server, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import uuid

POSTGRES = {"user": "postgres", "host": "127.0.0.1", "port": 5432, "database": "test"}


class PostgresUnavailable(Exception):
    """The local server does not answer (refused, timed out)."""


@contextlib.contextmanager
def scratch_postgres_database(prefix: str = "f1db_test"):
    """Yield the URL of a new, empty database; force-dropped afterwards (open sessions too)."""
    import pg8000.exceptions
    import pg8000.native

    try:
        admin = pg8000.native.Connection(**POSTGRES, timeout=10)
    except (pg8000.exceptions.InterfaceError, OSError) as error:
        raise PostgresUnavailable(f"PostgreSQL is not reachable on 127.0.0.1:5432: "
                                  f"{error}") from None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin.run(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    try:
        yield f"postgresql+pg8000://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = pg8000.native.Connection(**POSTGRES, timeout=10)
        try:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.close()
