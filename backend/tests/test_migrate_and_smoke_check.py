"""migrate_db.py (create, upgrade, --sql) and test_backend.py (the smoke check)."""

from __future__ import annotations

import re
import sqlite3

import pytest

from f1db.models import PACKED_TABLES
from support.database import ALL_TABLES, row_counts
from support.entry_scripts import MIGRATE, SMOKE, assert_one_line_error, run_script, sqlite_url_of

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions


def test_migrate_twice(database_url, tmp_path):
    """The first run creates the schema, the second sees nothing to do; both exit 0."""
    first = run_script(MIGRATE, "--database-url", database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "migrated" in first.stdout
    second = run_script(MIGRATE, "--database-url", database_url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout and "nothing to do" in second.stdout
    assert row_counts(database_url) == dict.fromkeys(ALL_TABLES, 0)


@pytest.mark.parametrize("url, dialect_type", [
    ("sqlite:///{tmp}/never.db", "DATETIME"),
    ("postgresql://postgres@127.0.0.1:5999/unreachable", "TIMESTAMP WITHOUT TIME ZONE"),
], ids=["sqlite", "postgresql"])
def test_migrate_sql_prints_ddl_without_connecting(url, dialect_type, tmp_path):
    """--sql is for DBAs who run the DDL themselves: no file made, no server contacted.

    Nothing listens on port 5999, so an attempt to connect would end the run with exit 2.
    """
    result = run_script(MIGRATE, "--sql", "--database-url", url.format(tmp=tmp_path),
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for table in ALL_TABLES:
        assert re.search(rf"CREATE TABLE {table} \(", result.stdout), table
    assert dialect_type in result.stdout       # the DDL of the URL's database
    assert list(tmp_path.iterdir()) == []      # never.db included: no file at all


def test_smoke_check_lists_tables_and_leaves_no_row(populated, populated_copy, tmp_path):
    """The smoke check writes probe rows to prove duplicates fail; none may stay behind."""
    url = sqlite_url_of(populated_copy)
    result = run_script(SMOKE, "--database-url", url, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for table, rows in populated["counts"].items():
        if table in PACKED_TABLES:          # a view: its chunk table counts the samples
            chunks = PACKED_TABLES[table].name
            assert re.search(rf"table {chunks}\s+[\d,]+ rows \({rows:,} samples\)",
                             result.stdout), table
            assert f"view  {table}" in result.stdout, table
            table = chunks
        else:
            assert re.search(rf"table {table}\s+{rows:,} rows", result.stdout), table
        assert f"duplicate rejected in {table}" in result.stdout, table
    assert row_counts(url) == populated["counts"]


def test_smoke_check_of_unmigrated_database_says_run_migrate(tmp_path):
    """An empty database file is a set-up step away from working: say which step."""
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    result = run_script(SMOKE, "--database-url", sqlite_url_of(path), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "migrate_db.py" in result.stdout


def test_smoke_check_of_missing_sqlite_file_is_one_line(tmp_path):
    """A mistyped path must not create an empty database that then 'fails' the check."""
    path = tmp_path / "nope.db"
    result = run_script(SMOKE, "--database-url", sqlite_url_of(path), cwd=tmp_path)
    assert_one_line_error(result, "test_backend.py")
    assert not path.exists()
