"""The database engines: what differs between PostgreSQL and SQLite, one module each.

``dialect_of(engine_or_connection)`` answers with the engine's :class:`Dialect`
(base.py lists its questions); postgresql.py and sqlite.py answer them, pg_copy.py
encodes PostgreSQL's binary COPY stream, columns.py holds what both row writers share,
sqlstate.py names PostgreSQL's error codes once.
"""

from __future__ import annotations

from functools import cache

from .base import Claim, Dialect

__all__ = ["Claim", "Dialect", "dialect_named", "dialect_of"]


@cache
def dialect_named(name: str) -> Dialect:
    """The dialect of SQLAlchemy's backend name (``postgresql``, ``sqlite``)."""
    if name == "postgresql":
        from .postgresql import PostgreSQL

        return PostgreSQL()
    if name == "sqlite":
        from .sqlite import SQLite

        return SQLite()
    raise ValueError(f"no f1db dialect for the {name!r} database (config refuses it earlier)")


def dialect_of(bind) -> Dialect:
    """The dialect of an Engine or Connection (anything with SQLAlchemy's ``.dialect``)."""
    return dialect_named(bind.dialect.name)
