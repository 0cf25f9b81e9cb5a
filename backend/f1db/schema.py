"""Schema revisions through Alembic: where the database stands and how to bring it up to date."""

from __future__ import annotations

import io
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from .config import BACKEND_DIR
from .db import Database
from .errors import SchemaError
from .models import Base

ALEMBIC_INI = BACKEND_DIR / "alembic.ini"       # also what the `alembic` command reads


@dataclass(frozen=True)
class SchemaState:
    current: str | None      # revision stored in the database (None: never migrated)
    head: str                # newest revision this code knows
    has_tables: bool         # any of our tables exist

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables


def alembic_config(database: Database | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    if database is not None:
        config.attributes["database"] = database
    return config


def schema_state(database: Database) -> SchemaState:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        existing = set(inspect(connection).get_table_names())
    return SchemaState(current=current, head=head,
                       has_tables=bool(existing & set(Base.metadata.tables)))


def upgrade(database: Database) -> tuple[str | None, str]:
    """Migrate to the newest revision; returns (revision before, revision after)."""
    before = schema_state(database)
    if before.current is None and before.has_tables:
        raise SchemaError("The database has F1 tables but no Alembic revision (made by another "
                          "tool?): drop them or use an empty database, then run migrate_db.py")
    command.upgrade(alembic_config(database), "head")
    return before.current, schema_state(database).head


def upgrade_sql(dialect_url: str) -> str:
    """The DDL that ``upgrade`` would run on an empty database of this dialect (for DBAs)."""
    output = io.StringIO()
    config = alembic_config()
    config.attributes["offline_url"] = dialect_url
    config.attributes["sql_output"] = output
    command.upgrade(config, "head", sql=True)
    return output.getvalue()


def require_current_schema(database: Database, *, create_if_empty: bool = True) -> SchemaState:
    """Make sure the schema matches this code before loading.

    An empty database is created on the spot so that ``python populate_db.py`` works with
    no set-up; a database with older revisions is left to ``migrate_db.py``, so upgrades of
    a shared database stay a deliberate step.
    """
    state = schema_state(database)
    if state.up_to_date:
        return state
    if state.empty and create_if_empty:
        upgrade(database)
        return schema_state(database)
    if state.current is None:
        raise SchemaError("The database has F1 tables that Alembic does not manage: use an "
                          "empty database, or drop those tables and run migrate_db.py")
    if state.current not in _known_revisions():
        raise SchemaError(f"The database schema (revision {state.current}) is newer than this "
                          f"code: update the project (git pull) before loading")
    raise SchemaError(f"The database schema is behind (revision {state.current}, newest "
                      f"{state.head}): run python migrate_db.py first")


def _known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
