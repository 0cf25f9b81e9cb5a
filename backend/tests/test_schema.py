"""Alembic revisions: they build exactly the models' schema; migrating is idempotent."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.errors import SchemaError
from f1db.models import Base
from f1db.schema import require_current_schema, schema_state, upgrade, upgrade_sql


@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        yield db


def test_migrations_build_the_models_schema(database):
    upgrade(database)
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_twice_changes_nothing(database):
    assert upgrade(database)[0] is None
    state = schema_state(database)
    assert state.up_to_date
    assert upgrade(database) == (state.head, state.head)


def test_an_empty_database_is_created_on_first_use(database):
    assert schema_state(database).empty
    assert require_current_schema(database).up_to_date


def test_a_database_behind_is_left_to_migrate_db(database):
    upgrade(database)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(SchemaError, match="newer than this code"):
        require_current_schema(database)


def test_tables_without_alembic_are_not_touched(database):
    Base.metadata.tables["weather"].create(database.engine)
    with pytest.raises(SchemaError, match="Alembic does not manage"):
        require_current_schema(database)
    with pytest.raises(SchemaError, match="no Alembic revision"):
        upgrade(database)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_sql_output_for_dbas(dialect):
    ddl = upgrade_sql(f"{dialect}://")
    assert "CREATE TABLE telemetry" in ddl and "CREATE TABLE sessions" in ddl
    assert "PRIMARY KEY (year, round_number, session_type, driver_number, sample_index)" in ddl
