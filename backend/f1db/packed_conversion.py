"""Packing the samples stored before revision 0010, one session per transaction.

Revision 0010 renames a ``telemetry`` or ``positions`` table that holds rows to
``<table>_unpacked``; this moves them into the chunk tables (packing.py), each session in
its own transaction: its rows read, packed, inserted as chunks and deleted from the old
table together, so a conversion killed at any point loses and doubles nothing, and the
next ``migrate_db.py`` goes on with the sessions left. Two conversions at once take each
session under a named lock and skip one the other has moved. The emptied table is
dropped under the schema lock. Until then loads and reads refuse (schema.py): a session
in the old table is not in the views.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Column, Connection, MetaData, Table, delete, inspect, select, text

from .db import Database
from .dialects import dialect_of
from .dialects.reading import read_frame
from .load import insert_rows, session_filter
from .models import PACKED_TABLES, UNPACKED_TABLES, Base
from .packing import PackedLayout, pack
from .records import SessionKey

log = logging.getLogger(__name__)


def unpacked_tables(connection: Connection) -> list[str]:
    """The row tables revision 0010 left to convert, in table order."""
    existing = set(inspect(connection).get_table_names())
    return [name for name in UNPACKED_TABLES if name in existing]


def convert_unpacked(database: Database, schema_lock) -> int:
    """Pack every session left in the ``*_unpacked`` tables, then drop them (under
    ``schema_lock``, a context manager giving a locked connection); returns the sessions
    packed by this run."""
    engine = database.engine
    dialect = dialect_of(engine)
    with engine.connect() as connection:
        names = unpacked_tables(connection)
    packed = 0
    for name in names:
        view = UNPACKED_TABLES[name]
        old = Table(name, MetaData(), *(Column(column.name, column.type) for column in
                                        Base.metadata.tables[view].columns))
        with engine.connect() as connection:
            keys = [SessionKey(*row) for row in connection.execute(
                select(old.c.year, old.c.round_number, old.c.session_type).distinct()
                .order_by(old.c.year, old.c.round_number, old.c.session_type))]
        layout = PackedLayout(Base.metadata.tables[view], PACKED_TABLES[view])
        for number, key in enumerate(keys, start=1):
            started = time.monotonic()
            with dialect.writing_transaction(engine, f"pack {view} {key}") as connection:
                rows = read_frame(connection, list(old.columns), session_filter(old, key),
                                  [old.c.driver_number, old.c.sample_index])
                if rows.empty:
                    continue                       # another conversion moved it
                insert_rows(connection, layout.chunks, [pack(rows, layout)])
                connection.execute(delete(old).where(*session_filter(old, key)))
            packed += 1
            log.info("Packed %s of %s %s %s (%d of %d): %s samples in %.1f s", view,
                     key.year, key.round_number, key.session_type, number, len(keys),
                     f"{len(rows):,}", time.monotonic() - started)
    if names:
        with schema_lock() as connection:
            for name in unpacked_tables(connection):
                left = connection.execute(text(f"SELECT 1 FROM {name} LIMIT 1")).first()
                if left is None:
                    connection.execute(text(f"DROP TABLE {name}"))
    return packed
