"""PostgreSQL (pg8000, also behind the Cloud SQL connector): binary COPY, advisory locks.

* Rows: one ``COPY ... FROM STDIN WITH (FORMAT binary)`` per table and session, its
  stream built by pg_copy.py, sent through pg8000's cursor (which asks for each message
  once the previous one is sent).
* Locks: transaction-level advisory locks (``pg_advisory_xact_lock``) on 64-bit keys from
  one stable hash of a name (:func:`lock_key`): a session's claim, the rows several
  workers write (an event's circuit, a season's calendar) and the schema migration. They
  need no privilege, end with the transaction (commit, rollback, or the connection dying
  with its process) and work behind transaction-pooling proxies, unlike session-level
  advisory locks.
* Roles: a loader may lack privileges the database owner has (docs/OPERATIONS.md,
  "Least privilege"); what it lacks is found before any work and named with its grant.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
from typing import Iterator, Sequence

from sqlalchemy import Column, Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from ..errors import LEAST_PRIVILEGE_DOCS, PermissionProblem, SchemaError, WriteError, first_line
from ..records import SessionKey
from .base import Claim, Dialect, on_every_connection, still_locked_message
from .columns import OnRows
from .pg_copy import COPY_ABORT, PreparedCopy, copy_messages, prepare_copy, prepared_messages
from .sqlstate import (BINARY_MISMATCH_CODES, LOCK_NOT_AVAILABLE, REFUSED_ROW_CLASSES,
                       sqlstate)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 30
TABLE_PRIVILEGES = {"read": ("SELECT",), "write": ("SELECT", "INSERT", "UPDATE", "DELETE")}


def lock_key(name: str) -> int:
    """The advisory lock key of ``name``: a stable signed 64-bit number (Python's hash()
    differs between processes). Advisory locks belong to one database, so the same name
    in two databases on one server never collides."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def session_lock_key(key: SessionKey) -> int:
    """The advisory lock key of a session's claim."""
    return lock_key(f"f1db session {key.year} {key.round_number} {key.session_type}")


def named_lock_name(label: str) -> str:
    return f"f1db {label}"


SCHEMA_LOCK_NAME = "f1db: schema migration"


def is_driver_error(error: BaseException) -> bool:
    """pg8000's own exceptions (they arrive unwrapped by SQLAlchemy from inside COPY)."""
    return type(error).__module__.startswith("pg8000")


def is_dropped_connection(error: BaseException) -> bool:
    """pg8000 reports a dropped socket as InterfaceError("network error" / "connection is
    closed"), and a socket it could not write as one wrapping an OSError."""
    text = str(error).lower()
    return type(error).__name__ == "InterfaceError" and (
        "network error" in text or "closed" in text or isinstance(error.__cause__, OSError))


class _PostgresClaim(Claim):
    """A claim is an open transaction holding the session's advisory lock: the ledger is
    read and the rows written in it, so the lock ends with the write's commit."""

    def __init__(self, connection: Connection):
        self.connection = connection

    @contextlib.contextmanager
    def reading(self):
        yield self.connection

    @contextlib.contextmanager
    def writing(self):
        yield self.connection


class _AbortOnError:
    """pg8000's COPY stream, ending the COPY cleanly when building the data fails.

    pg8000 has no way to send CopyFail: an exception out of its stream leaves the
    connection mid-COPY and unusable (the rollback then fails as a network error, which
    would be retried as transient). Instead, the exception is kept and a row the server
    must refuse is sent, so the server ends the COPY with an error and the transaction
    can roll back; :func:`copy_into` then raises the kept exception.
    """

    def __init__(self, messages: Iterator[bytes]):
        self.messages = messages
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.messages
        except GeneratorExit:
            raise
        except BaseException as error:   # also a stop signal (errors.Interrupted)
            self.error = error
            yield COPY_ABORT


def copy_into(connection: Connection, table: Table, columns: Sequence[Column],
              messages: Iterator[bytes]) -> int:
    """Send ``messages`` (a binary COPY stream for ``columns``) into ``table``; the rows
    the server stored."""
    names = ", ".join(f'"{column.name}"' for column in columns)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN WITH (FORMAT binary)'
    stream = _AbortOnError(messages)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, stream=stream)
    except BaseException as error:
        if stream.error is not None:
            raise stream.error from None
        if sqlstate(error) in BINARY_MISMATCH_CODES:
            raise WriteError(f"{table.name}: the database could not read the rows as its "
                             f"column types ({first_line(error)}): the table differs from "
                             f"the models (run migrate_db.py)") from None
        raise
    finally:
        cursor.close()
    if stream.error is not None:         # cannot happen: the server refuses COPY_ABORT
        raise stream.error
    return cursor.rowcount


def _no_delay(dbapi_connection, _record):
    """Turn Nagle's algorithm off on pg8000's socket (pg8000 leaves it on): otherwise the
    last small packet of a statement or a short COPY can wait for the server's delayed ACK,
    about 40 ms each time, a good part of a session's small tables. A Unix socket has no
    such option (and needs none)."""
    sock = getattr(dbapi_connection, "_usock", None)
    with contextlib.suppress(AttributeError, OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _read_only_session(dbapi_connection) -> None:
    """Every transaction of a reader's connection is READ ONLY: PostgreSQL refuses a write
    (SQLSTATE 25006) even from a role that could make it."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def tune_connections(engine: Engine) -> Engine:
    """What every PostgreSQL engine gets, the Cloud SQL connector's included."""
    event.listen(engine, "connect", _no_delay)
    return engine


class PostgreSQL(Dialect):
    name = "postgresql"
    # The write is mostly the server's work (COPY parsing, index upkeep) in its own process:
    # it overlaps FastF1's load of the next session on another core.
    writes_behind = True
    reads_in_parallel = True
    shares_request_budget = True
    creates_from_script = True

    def create_engine(self, url, *, parameter=None, write=True):
        return tune_connections(create_engine(url, pool_pre_ping=True, connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS}))

    def server_time(self, connection):
        return float(connection.execute(
            text("SELECT extract(epoch FROM clock_timestamp())")).scalar())

    def read_only(self, engine):
        return on_every_connection(engine, _read_only_session)

    def write_rows(self, connection, table, columns, chunks, on_rows: OnRows):
        return copy_into(connection, table, columns,
                         copy_messages(chunks, table, columns, on_rows))

    def prepare_rows(self, table, frames) -> PreparedCopy:
        return prepare_copy(table, frames)

    def write_prepared(self, connection, table, prepared: PreparedCopy, on_rows: OnRows):
        if not sum(prepared.rows):
            return 0
        return copy_into(connection, table, [table.c[name] for name in prepared.columns],
                         prepared_messages(prepared, on_rows))

    def is_refusal(self, error):
        return sqlstate(error)[:2] in REFUSED_ROW_CLASSES

    def upsert(self, table):
        return postgresql.insert(table)

    def table_columns(self, connection):
        """From the catalog, not information_schema, which hides what the role may not read."""
        found: dict[str, set[str]] = {}
        for table, column in connection.execute(text(
                "SELECT c.relname, a.attname FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v') "
                "AND a.attnum > 0 AND NOT a.attisdropped")):
            found.setdefault(table, set()).add(column)
        return found

    # -- transactions and locks ------------------------------------------------------------

    def begin_writing(self, connection, lock=None):
        connection.begin()
        if lock is not None:
            self.wait_for_lock(connection, lock)

    def wait_for_lock(self, connection, label):
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": lock_key(named_lock_name(label))})

    @contextlib.contextmanager
    def claim_session(self, engine, key):
        with engine.connect() as connection, connection.begin():
            held = connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                      {"key": session_lock_key(key)}).scalar()
            yield _PostgresClaim(connection) if held else None

    @contextlib.contextmanager
    def schema_lock(self, engine, describe, timeout):
        """``pg_advisory_xact_lock`` in the transaction that then runs the revisions:
        PostgreSQL's DDL is transactional, so the schema appears all at once, with the
        lock's release."""
        key = {"key": lock_key(SCHEMA_LOCK_NAME)}
        with engine.connect() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                      key).scalar():
                log.info("Another run is creating or upgrading the schema of %s: waiting for "
                         "it (at most %.0f s)", describe, timeout)
                connection.execute(text(f"SET LOCAL lock_timeout = '{int(timeout * 1000)}ms'"))
                try:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
                except DBAPIError as error:
                    if sqlstate(error) != LOCK_NOT_AVAILABLE:
                        raise
                    raise SchemaError(still_locked_message(describe, timeout)) from None
                connection.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
            yield connection
            connection.commit()           # ends the transaction, and the lock with it

    # -- roles -----------------------------------------------------------------------------

    def may_not_create_tables(self, connection):
        role, schema, can_create = connection.execute(text(
            "SELECT current_user, coalesce(current_schema(), 'public'), "
            "coalesce(has_schema_privilege(coalesce(current_schema(), 'public'), "
            "'CREATE'), false)")).one()
        return None if can_create else (quoted_role(connection, role), schema)

    def require_privileges(self, engine, tables, access):
        """One line naming the first table (or id sequence) the role may not use, and the
        grant that closes the gap, instead of a failure halfway through a load."""
        needed = TABLE_PRIVILEGES[access]
        names = sorted(table.name for table in tables)
        values = ", ".join(f"(:t{i})" for i in range(len(names)))
        checks = ", ".join(f"coalesce(has_table_privilege(to_regclass(name), '{privilege}'), "
                           f"true)" for privilege in needed)
        with engine.connect() as connection:
            role, schema = connection.execute(text(
                "SELECT current_user, coalesce(current_schema(), 'public')")).one()
            role = quoted_role(connection, role)
            rows = connection.execute(text(f"SELECT name, {checks} FROM (VALUES {values}) "
                                           f"AS t(name)"),
                                      {f"t{i}": name for i, name in enumerate(names)}).all()
            sequences = _sequences_without_usage(connection, tables, needed)
        refused = [(row[0], [p for p, ok in zip(needed, row[1:]) if not ok]) for row in rows]
        refused = [(table, missing) for table, missing in refused if missing]
        grant_tables = (f"have the owner GRANT {', '.join(TABLE_PRIVILEGES['write'])} ON ALL "
                        f"TABLES IN SCHEMA {schema} TO {role}")
        if refused:
            table, missing = refused[0]
            verb = "read" if "SELECT" in missing else "write"
            more = f" (and {len(refused) - 1} more tables)" if len(refused) > 1 else ""
            raise PermissionProblem(f"Role {role} may not {verb} table {table}{more}: "
                                    f"{grant_tables} ({LEAST_PRIVILEGE_DOCS})")
        if sequences:
            raise PermissionProblem(f"Role {role} may not use sequence {sequences[0]}: have "
                                    f"the owner GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "
                                    f"{schema} TO {role} ({LEAST_PRIVILEGE_DOCS})")


def _sequences_without_usage(connection: Connection, tables: Sequence[Table],
                             needed: tuple[str, ...]) -> list[str]:
    """Sequences of the tables' autoincrement columns this role may not draw from
    (writers only)."""
    if "INSERT" not in needed:
        return []
    missing = []
    for table in tables:
        if table.autoincrement_column is None:
            continue
        sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {
            "t": table.name, "c": table.autoincrement_column.name}).scalar()
        if sequence and not connection.execute(text(
                "SELECT has_sequence_privilege(:s, 'USAGE')"), {"s": sequence}).scalar():
            missing.append(sequence)
    return missing


def quoted_role(connection: Connection, role: str) -> str:
    """A role name as it must be written in a GRANT (IAM users hold '@' and '.')."""
    return connection.dialect.identifier_preparer.quote(role)
