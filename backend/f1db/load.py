"""Database writes of fact rows: replace one session's rows in one table.

Written once for both databases: how rows travel is the dialect's business (dialects/:
one binary ``COPY ... FROM STDIN`` per table and session on PostgreSQL, executemany in
slices on SQLite). Neither resolves conflicts: the session's old rows are deleted first,
so a duplicate key can only come from FastF1's own frame, and it fails the session on
both databases instead of silently dropping a row. A value that does not fit its
column's integer type is refused on both databases, never wrapped. The caller runs
everything for one session inside one transaction and writes the ledger (ledger.py) last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from typing import Iterable

import pandas as pd
from sqlalchemy import Connection, Table, delete, func, select

from .dialects import dialect_of
from .dialects.columns import OnRows
from .dialects.pg_copy import PreparedCopy
from .dialects.sqlite import sqlite_rows
from .errors import WriteError, first_line
from .models import Base
from .records import SessionKey

Frames = pd.DataFrame | Iterable[pd.DataFrame] | PreparedCopy


def replace_session_rows(connection: Connection, table: Table, key: SessionKey,
                         frames: Frames, *, on_rows: OnRows = None) -> tuple[int, int]:
    """Delete the session's rows in ``table``, then write ``frames``; returns (deleted, inserted).

    ``frames``: one transformed frame or an iterable of them (chunks of the table, each
    with the table's columns in the same order, as ``transform.table_frame`` makes them),
    consumed once and lazily: one COPY on PostgreSQL, one executemany per slice on SQLite.
    ``on_rows(n)`` is called each time n more rows have been handed to the database.

    On a first load nothing is deleted; a retry of a partial table or a forced reload
    replaces the old rows in the same transaction, so readers never see a half-replaced
    session. An exception raised by ``frames`` or ``on_rows`` mid-COPY ends the COPY
    cleanly (the connection stays usable for the rollback) and is then raised unchanged.
    A table of packed samples (``models.PACKED_TABLES``) counts samples, not chunk rows.
    """
    if "packs" in table.info:
        deleted = count_session_rows(connection, table, key)
        connection.execute(delete(table).where(*session_filter(table, key)))
        insert_rows(connection, table, frames, on_rows=on_rows)
        return deleted, count_session_rows(connection, table, key)
    deleted = connection.execute(delete(table).where(*session_filter(table, key))).rowcount
    return deleted, insert_rows(connection, table, frames, on_rows=on_rows)


def insert_rows(connection: Connection, table: Table, frames: Frames, *,
                on_rows: OnRows = None) -> int:
    """Write ``frames`` (as :func:`replace_session_rows` takes them) into ``table``;
    returns the rows inserted. Nothing is deleted first."""
    dialect = dialect_of(connection)
    if isinstance(frames, PreparedCopy):
        with _refusals_as_write_errors(connection, table):
            return dialect.write_prepared(connection, table, frames, on_rows)
    chunks = (chunk for chunk in ([frames] if isinstance(frames, pd.DataFrame) else frames)
              if len(chunk))
    first = next(chunks, None)
    if first is None:
        return 0
    chunks = itertools.chain([first], chunks)
    columns = [table.c[name] for name in first.columns]
    with _refusals_as_write_errors(connection, table):
        return dialect.write_rows(connection, table, columns, chunks, on_rows)


def prepare_rows(connection_or_engine, table: Table, frames: Iterable[pd.DataFrame]
                 ) -> Frames:
    """``frames`` encoded now for a later :func:`replace_session_rows` where the dialect
    can (PostgreSQL's COPY stream, ``PreparedCopy``); otherwise ``frames`` unchanged."""
    prepared = dialect_of(connection_or_engine).prepare_rows(table, frames)
    return frames if prepared is None else prepared


CIRCUIT_TABLES = ("circuit_layouts", "circuit_markers")


def measured_layout_stored(connection: Connection, key: SessionKey) -> bool:
    """Whether the event of ``key`` has a circuit layout whose marker distances were
    measured (``distances_from`` set)."""
    table = Base.metadata.tables["circuit_layouts"]
    return connection.execute(select(table.c.distances_from).where(
        *session_filter(table, key), table.c.distances_from.is_not(None))).first() is not None


def replace_season_schedule(connection: Connection, year: int,
                            frames: dict[str, pd.DataFrame], *, testing: bool) -> bool:
    """Make the season's ``events`` and ``event_sessions`` rows equal ``frames``
    (transform.schedule_tables); returns whether anything had to change.

    Testing events (rounds below 1) are compared and replaced only when ``testing``
    (the schedule was read with them); otherwise stored testing rows stay. Rows that
    already match are not rewritten, so a rerun writes nothing. The caller holds the
    season's lock (claims.wait_for_lock) in this transaction.
    """
    tables = [Base.metadata.tables[name] for name in ("event_sessions", "events")]

    def season_rows(table: Table) -> tuple:
        return (table.c.year == year,) + (() if testing else (table.c.round_number > 0,))

    changed = False
    for table in tables:
        stored = {tuple(_comparable(value) for value in row) for row in connection.execute(
            select(*table.columns).where(*season_rows(table)))}
        wanted = {tuple(_comparable(value) for value in row)
                  for row in sqlite_rows(frames[table.name], list(table.columns))}
        changed = changed or stored != wanted
    if not changed:
        return False
    for table in tables:                         # children first (foreign key)
        connection.execute(delete(table).where(*season_rows(table)))
    for table in reversed(tables):               # parents first
        insert_rows(connection, table, frames[table.name])
    return True


def _comparable(value):
    """A stored value as ``sqlite_rows`` writes it (timestamps and dates as text, flags
    as 0/1), so stored rows and new frames compare equal on both databases."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


@contextlib.contextmanager
def _refusals_as_write_errors(connection: Connection, table: Table):
    """Rows the database refuses become a WriteError; anything else (a lost connection)
    passes unchanged. Both writers talk to the raw driver, so its exceptions arrive here
    unwrapped by SQLAlchemy."""
    try:
        yield
    except Exception as error:
        if not dialect_of(connection).is_refusal(error):
            raise
        raise WriteError(f"{table.name}: the database refused the rows: "
                         f"{first_line(error)}") from None


def count_session_rows(connection: Connection, table: Table, key: SessionKey) -> int:
    """The session's rows in ``table``; its samples in a table of packed samples."""
    counted = (func.coalesce(func.sum(table.c.samples), 0) if "packs" in table.info
               else func.count())
    query = select(counted).select_from(table).where(*session_filter(table, key))
    return int(connection.execute(query).scalar_one())


def session_filter(table: Table, key: SessionKey) -> tuple:
    """The session's rows of ``table``; for a table kept once per event (no
    ``session_type`` column: the circuit, the standings), its event's rows."""
    return tuple(table.c[name] == getattr(key, name)
                 for name in ("year", "round_number", "session_type") if name in table.c)
