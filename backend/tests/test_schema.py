"""Alembic revisions: they build exactly the models' schema; migrating is idempotent."""

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import inspect, text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.errors import SchemaError
from f1db.ledger import read_ledger
from f1db.models import Base
from f1db.records import SessionKey
from f1db import schema
from f1db.dialects import dialect_named
from f1db.schema import (CREATION_SCRIPTS, alembic_config, creation_script, head_revision,
                         require_current_schema, schema_state, upgrade, upgrade_sql)
from support.database import models_differences, postgres_schema_snapshot
from support.scratch_postgres import scratch_postgres_database

REGENERATE = ("python backend/migrate_db.py --sql --database-url {dialect}:// > "
              "backend/migrations/head/{dialect}.sql")


@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        yield db


def test_migrations_build_the_models_schema(database):
    upgrade(database)
    with database.engine.connect() as connection:
        assert models_differences(connection) == []
        has_budget_table = inspect(connection).has_table("request_budget")
    assert has_budget_table == (database.dialect == "postgresql")


def test_upgrade_twice_changes_nothing(database):
    assert upgrade(database)[0] is None
    state = schema_state(database)
    assert state.up_to_date
    assert upgrade(database) == (state.head, state.head)


def test_an_empty_database_is_created_on_first_use(database):
    assert schema_state(database).empty
    assert require_current_schema(database).up_to_date


def test_a_database_behind_is_left_to_migrate_db_which_keeps_its_rows(database):
    """A real two-revision history: a ledger written by revision 0001 (a status column per
    table) is refused by the loader, then migrated with every status carried over."""
    command.upgrade(alembic_config(database), "0001")
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO sessions (year, round_number, session_type, event_name, "
            "fastf1_version, results_status, laps_status, session_status_status, "
            "loaded_at_utc, updated_at_utc) VALUES (2021, 14, 'Practice 2', 'Italian Grand "
            "Prix', '3.9.0', 'loaded', 'missing', 'partial', '2026-11-01 10:00:00', "
            "'2026-11-02 10:00:00')"))
    state = schema_state(database)
    assert (state.current, state.up_to_date) == ("0001", False)
    with pytest.raises(SchemaError, match=r"behind \(revision 0001.*run python migrate_db.py"):
        require_current_schema(database)

    assert upgrade(database) == ("0001", state.head)
    with database.engine.connect() as connection:
        ledger = read_ledger(connection, 2021)
        differences = models_differences(connection)
    assert differences == []
    entry = ledger[SessionKey(2021, 14, "Practice 2")]
    assert entry.statuses == {"results": "loaded", "laps": "missing", "session_status": "partial"}
    assert entry.updated_at_utc == dt.datetime(2026, 11, 2, 10)
    assert require_current_schema(database).up_to_date


def test_a_database_ahead_of_the_code_is_refused(database):
    upgrade(database)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
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
    assert "CREATE TABLE session_parts" in ddl
    assert "PRIMARY KEY (year, round_number, session_type, driver_number, sample_index)" in ddl


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_the_creation_script_is_what_migrate_db_prints(dialect):
    """An empty database is created from migrations/head/<dialect>.sql where the dialect
    says so: the file must be exactly the revisions' DDL, so a new revision means a new
    file."""
    path = CREATION_SCRIPTS / f"{dialect}.sql"
    if not dialect_named(dialect).creates_from_script:
        assert not path.exists(), f"{path.name} is never read: remove it"
        return
    assert path.read_text(encoding="utf-8") == upgrade_sql(f"{dialect}://"), (
        f"{path.name} is not what the revisions create: {REGENERATE.format(dialect=dialect)}")
    assert creation_script(dialect) is not None


def test_an_empty_postgresql_database_is_created_by_the_script_exactly_as_by_the_revisions(
        postgres_url, monkeypatch):
    """The one-step creation (no Alembic) and the revisions, one by one, make two schemas
    PostgreSQL's catalog cannot tell apart: columns, constraints, indexes and their
    fillfactor, views, owners, grants and the stamp."""
    from alembic import command as alembic_command

    with scratch_postgres_database("f1db_test") as replayed_url:
        with open_database(resolve_database(replayed_url)) as replayed:
            alembic_command.upgrade(alembic_config(replayed), "head")
            with replayed.engine.connect() as connection:
                expected = postgres_schema_snapshot(connection)

    def no_alembic(*_args, **_kwargs):
        raise AssertionError("the empty database was migrated revision by revision")

    monkeypatch.setattr(alembic_command, "upgrade", no_alembic)
    with open_database(resolve_database(postgres_url)) as created:
        assert require_current_schema(created).up_to_date
        with created.engine.connect() as connection:
            assert postgres_schema_snapshot(connection) == expected
            assert models_differences(connection) == []


def test_a_creation_script_behind_the_revisions_is_not_used(postgres_url, tmp_path,
                                                             monkeypatch):
    """A revision added without a new script: the empty database replays the revisions
    (the test above then fails until the script is written again)."""
    written = upgrade_sql("postgresql://")
    head = head_revision()
    older = written.replace(f"version_num='{head}'", "version_num='older'")
    (tmp_path / "postgresql.sql").write_text(older, encoding="utf-8")
    monkeypatch.setattr(schema, "CREATION_SCRIPTS", tmp_path)
    assert creation_script("postgresql") is None
    with open_database(resolve_database(postgres_url)) as database:
        assert require_current_schema(database).current == head
        with database.engine.connect() as connection:
            assert models_differences(connection) == []
