"""Which stored rows a read asks for: the conditions and column lists every reader shares.

Each condition starts with the primary key's leading columns (year, round_number,
session_type, then driver_number for the per-driver tables), so every read is an index
range scan whose cost depends on the rows it returns, not on how many sessions are stored.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, select, tuple_

from ..models import Base
from ..records import SessionKey


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def session_rows(of: Table, key: SessionKey) -> list:
    """``of``'s rows of one session (for a table kept once per event: of its event)."""
    conditions = [of.c.year == key.year, of.c.round_number == key.round_number]
    if "session_type" in of.c:
        conditions.append(of.c.session_type == key.session_type)
    return conditions


def sessions_rows(of: Table, keys: list[SessionKey]) -> list:
    """``of``'s rows of several sessions (or their events), one condition."""
    if "session_type" in of.c:
        return [tuple_(of.c.year, of.c.round_number, of.c.session_type).in_(
            [(key.year, key.round_number, key.session_type) for key in keys])]
    return [tuple_(of.c.year, of.c.round_number).in_(
        sorted({(key.year, key.round_number) for key in keys}))]


def payload(of: Table) -> list[Column]:
    """The table's columns but the session key."""
    return [column for column in of.columns if not column.info.get("session_key")]


def natural_key(of: Table) -> list[Column]:
    """The primary key's columns after the session key (the rows' stored order)."""
    return [column for column in of.primary_key.columns
            if not column.info.get("session_key")]


def first_row(connection, of: Table, key: SessionKey) -> dict | None:
    row = connection.execute(select(of).where(*session_rows(of, key))).mappings().first()
    return None if row is None else dict(row)
