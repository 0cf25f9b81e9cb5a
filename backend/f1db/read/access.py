"""Opening a database to read from: read-only, no migration, no lock, one-line errors.

A reader needs SELECT and nothing else (docs/OPERATIONS.md, "Least privilege"): the
database is opened read-only (SQLite connections with ``query_only``, a file the
process may not write in ``mode=ro``; PostgreSQL sessions whose every transaction is READ
ONLY), its schema must stand at the revision this code reads
(an older one is the loader's to migrate, never the reader's), and no advisory lock, claim
or ledger row is ever taken. What goes wrong (no server, a wrong password, a schema
behind, a missing privilege) is one of the library's errors, one line, no password.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..config import resolve_database
from ..db import Database, open_database
from ..dialects import Dialect, dialect_of
from ..errors import ConfigError, F1DBError, SchemaError, first_line
from ..schema import (packing_unfinished, require_intact_schema, require_privileges,
                      schema_state)


class StoredData:
    """An open, read-only database of stored sessions: open once with
    :func:`open_stored`, pass to every ``f1db.read`` function, close when done (or use
    ``with``). Every function also takes a database URL and opens one itself."""

    def __init__(self, database: Database):
        self.database = database
        self.dialect: Dialect = dialect_of(database.engine)
        self.dialect.read_only(database.engine)

    @property
    def engine(self):
        return self.database.engine

    def describe(self) -> str:
        return self.database.describe()

    @contextlib.contextmanager
    def reading(self, what: str) -> Iterator[Connection]:
        """A connection for one read; a database fault on the way (no server, a dropped
        connection, a refused statement) is one line naming ``what`` was being read."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except F1DBError:
            raise
        except (SQLAlchemyError, OSError) as error:
            raise ConfigError(f"Reading {what} from {self.describe()} failed: "
                              f"{first_line(error)}") from None

    def close(self) -> None:
        self.database.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_stored(database: str | StoredData | None = None) -> StoredData:
    """Open ``database`` (a URL; None: ``DATABASE_URL`` / Cloud SQL settings / the default
    SQLite file, as populate_db.py picks it) for reading, and check that it can be read."""
    if isinstance(database, StoredData):
        return database
    target = resolve_database(database)
    opened = open_database(target, must_exist=True, write=False)
    stored = StoredData(opened)
    try:
        _require_readable(opened)
    except BaseException:
        stored.close()
        raise
    return stored


def _require_readable(database: Database) -> None:
    state = schema_state(database)
    if state.empty:
        raise SchemaError(f"{database.describe()} holds no stored sessions (no f1db tables): "
                          f"store some first with python populate_db.py")
    if state.packing_left:
        raise SchemaError(packing_unfinished(state))
    if not state.up_to_date:
        raise SchemaError(f"The schema of {database.describe()} is at revision "
                          f"{state.current or 'none'} and this reader reads {state.head}: "
                          f"have the loader's role run python migrate_db.py (or read with "
                          f"the f1db version that wrote it)")
    require_intact_schema(database, state)
    require_privileges(database, "read")


@contextlib.contextmanager
def opened(database: str | StoredData | None) -> Iterator[StoredData]:
    """``database`` open for reading; closed afterwards if it was opened here."""
    stored = open_stored(database)
    try:
        yield stored
    finally:
        if stored is not database:
            stored.close()
