"""Helpers shared by several test modules: what a database holds, and one populator run.

Every reader takes a database URL (an engine is built and disposed for the call) or an
SQLAlchemy engine the test already has.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, func, select, text

from f1db.config import normalise_url
from f1db.models import (LEDGER_MODELS, SCHEDULE_MODELS, TABLE_NAMES, Base, SessionPart,
                         StoredSession)
from f1db.populator import DatabasePopulator
from f1db.summary import RunSummary

LEDGER_TABLES = tuple(model.__tablename__ for model in LEDGER_MODELS)
# Every table of the data contract: the fact tables, then the ledger.
ALL_TABLES = (*TABLE_NAMES, *LEDGER_TABLES)
# FastF1's schedule (``events``, ``event_sessions``), written by every run: not in ALL_TABLES
# (a run that stores no session still writes them).
SCHEDULE_TABLES = tuple(model.__tablename__ for model in SCHEDULE_MODELS)


@contextlib.contextmanager
def connected(database: str | Engine) -> Iterator[Connection]:
    """A connection to ``database``: a URL (its engine disposed afterwards) or an engine."""
    if not isinstance(database, str):
        with database.connect() as connection:
            yield connection
        return
    engine = create_engine(normalise_url(database))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def row_counts(database: str | Engine, tables: tuple[str, ...] = ALL_TABLES) -> dict[str, int]:
    """Rows in every table of ``tables`` (default: the fact tables and the ledger tables)."""
    with connected(database) as connection:
        return {name: connection.execute(select(func.count()).select_from(
            Base.metadata.tables[name])).scalar_one() for name in tables}


def stored_sessions(database: str | Engine) -> list[tuple[int, str, str]]:
    """(year, event name, session type) of each session in the ledger, oldest first."""
    sessions = StoredSession.__table__
    query = select(sessions.c.year, sessions.c.event_name,
                   sessions.c.session_type).order_by(sessions.c.id)
    with connected(database) as connection:
        return [tuple(row) for row in connection.execute(query)]


def ledger_row(database: str | Engine, year: int, session_type: str) -> dict:
    """The session's ``sessions`` row, plus ``statuses``: table -> its ``session_parts`` status."""
    with connected(database) as connection:
        query = select(StoredSession.__table__).where(StoredSession.year == year,
                                                      StoredSession.session_type == session_type)
        row = dict(connection.execute(query).mappings().one())
        parts = connection.execute(select(SessionPart.table_name, SessionPart.status).where(
            SessionPart.year == year, SessionPart.session_type == session_type))
        row["statuses"] = dict(parts.all())
    return row


def run_populator(year: int, **options) -> RunSummary:
    """Build a DatabasePopulator with ``options``, run it once and close it."""
    populator = DatabasePopulator(year, **options)
    try:
        return populator.populate_database()
    finally:
        populator.close()


def populate_offline(database_url: str, cache_dir, year: int, event: str, session: str,
                     **options) -> RunSummary:
    """One run of one recorded session from the FastF1 cache at ``cache_dir``, offline."""
    return run_populator(year, database_url=database_url, events=(event,), sessions=(session,),
                         offline=True, cache_dir=cache_dir, **options)


def fastf1_offline_session(cache_dir, year: int, event: str, session: str, **load_options):
    """FastF1's own session, loaded offline from ``cache_dir`` (the reference a stored
    session is compared with)."""
    import fastf1

    fastf1.Cache.configure(cache_dir=str(cache_dir))
    fastf1.Cache.offline_mode(True)
    loaded = fastf1.get_session(year, event, session)
    loaded.load(**load_options)
    return loaded


def models_differences(connection: Connection) -> list:
    """How the schema differs from the models (alembic's compare_metadata), leaving out the
    request budget's own table on PostgreSQL (sources/budget_db.py; not a model: a SQLite
    target keeps the budget in a file) and ``telemetry``/``positions``: views of the packed
    chunks (revision 0010), whose models shape the rows."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from f1db.models import ROW_VIEWS

    def include_name(name, type_, _parent):
        return not (type_ == "table" and name == "request_budget")

    def include_object(_object, name, type_, _reflected, _compare_to):
        return not (type_ == "table" and name in ROW_VIEWS)

    context = MigrationContext.configure(connection, opts={"include_name": include_name,
                                                           "include_object": include_object})
    return compare_metadata(context, Base.metadata)


# Everything PostgreSQL knows of a schema's objects, each as comparable text: two databases
# with equal snapshots have the same tables, columns, defaults, constraints, indexes (with
# their storage options), views, functions, triggers, owners, grants and Alembic stamp.
_POSTGRES_CATALOG = {
    "columns": "SELECT table_name, column_name, ordinal_position, data_type, udt_name, "
               "character_maximum_length, numeric_precision, is_nullable, column_default "
               "FROM information_schema.columns WHERE table_schema = current_schema()",
    "relations": "SELECT relname, relkind, reloptions::text, pg_get_userbyid(relowner), "
                 "relacl::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                   "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = current_schema()",
    "functions": "SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
                 "WHERE pronamespace = current_schema()::regnamespace",
    "triggers": "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal",
    "stamp": "SELECT version_num FROM alembic_version",
}


def postgres_schema_snapshot(connection: Connection) -> dict[str, list[tuple]]:
    """The catalog of the connection's current schema (``_POSTGRES_CATALOG``), sorted."""
    return {part: sorted(tuple(str(value) for value in row)
                         for row in connection.execute(text(sql)))
            for part, sql in _POSTGRES_CATALOG.items()}
