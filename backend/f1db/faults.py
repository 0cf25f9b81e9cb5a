"""Which faults pass and which do not: the classes that decide retry or fail.

A session either stores whole or not at all (one transaction), so any fault may simply be
retried; but retrying what cannot pass wastes the rate-limited FastF1 budget and hides the
cause. Transient: a dropped or reset connection, a timeout, the server shutting down or
out of connections, a serialization failure or deadlock, a SQLite file locked by another
writer. Permanent: everything else (a value that does not fit, a duplicate key, a
permission the role lacks, a schema mismatch). Errors arrive wrapped by SQLAlchemy
(``DBAPIError.orig``) or raw from the driver (COPY and the SQLite loader talk to the
driver directly), so both shapes are read here.
"""

from __future__ import annotations

import socket

from sqlalchemy.exc import SQLAlchemyError

from .dialects import postgresql, sqlite
from .dialects.sqlstate import INSUFFICIENT_PRIVILEGE, driver_error, is_transient_code, sqlstate
from .errors import (LEAST_PRIVILEGE_DOCS, F1DBError, PermissionProblem, TransientError,
                     first_line)


def is_database_error(error: BaseException) -> bool:
    """An error of the database or its driver: wrapped by SQLAlchemy, or raw from sqlite3,
    the socket, or pg8000 (whose own exceptions arrive unwrapped from inside COPY)."""
    return (isinstance(error, (SQLAlchemyError, OSError)) or sqlite.is_driver_error(error)
            or postgresql.is_driver_error(error))


def as_f1db_error(error: BaseException) -> F1DBError:
    """A database error as the library's own: TransientError (retried), PermissionProblem,
    or a plain F1DBError (permanent), each with PostgreSQL's message."""
    if is_transient(error):
        return TransientError(f"database connection problem: {describe(error)}")
    if is_permission_denied(error):
        return PermissionProblem(f"the database role may not do this: {describe(error)} "
                                 f"({LEAST_PRIVILEGE_DOCS})")
    return F1DBError(f"database error: {describe(error)}")


def is_permission_denied(error: BaseException) -> bool:
    return sqlstate(error) == INSUFFICIENT_PRIVILEGE


def is_transient(error: BaseException) -> bool:
    """True when a new attempt of the same work may succeed."""
    if getattr(error, "connection_invalidated", False):   # SQLAlchemy saw the socket go
        return True
    raw = driver_error(error)
    code = sqlstate(raw)
    if code:
        return is_transient_code(code)
    if sqlite.is_driver_error(raw):
        return sqlite.is_busy(raw)
    if isinstance(raw, (ConnectionError, TimeoutError, socket.timeout, BrokenPipeError)):
        return True
    return postgresql.is_dropped_connection(raw)


def describe(error: BaseException) -> str:
    """One line for the summary: PostgreSQL's message, or the error's first line."""
    raw = driver_error(error)
    if sqlite.is_busy(raw):
        return f"{first_line(raw)} (another run is writing to the SQLite file)"
    return first_line(raw)
