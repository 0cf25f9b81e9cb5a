"""A loader role that may read and write the tables but create nothing (docs/OPERATIONS.md,
"Least privilege"), on the local PostgreSQL with real roles.

The roles, the database and the grants are made by running the SQL the documentation
gives, word for word (with unique names), the owner's part as the owner itself, which is
not a superuser: so the documented grants are proven, not restated.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.errors import PermissionProblem, SchemaError
from f1db.schema import alembic_config, require_current_schema, schema_state, upgrade
from support.database import row_counts
from support.entry_scripts import (ITALY_FP2, MIGRATE, REPO, assert_one_line_error, offline,
                                   populate, run_script)
from support.scratch_postgres import POSTGRES

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

GRANTS_DOCS = (REPO / "docs" / "OPERATIONS.md",)
DOC_NAMES = {"owner": "f1_owner", "loader": "f1_loader", "reader": "f1_reader",
             "database": "f1_data", "owner_password": "owner-password",
             "loader_password": "loader-password", "reader_password": "reader-password"}


def documented_sql() -> tuple[list[str], list[str]]:
    """The administrator's and the owner's statements, from the "Least privilege" section
    (docs/OPERATIONS.md)."""
    for path in GRANTS_DOCS:
        section = re.search(r"^##+ Least privilege\n(.*?)(?=^## |\Z)", path.read_text(),
                            re.S | re.M)
        blocks = re.findall(r"```sql\n(.*?)```", section.group(1), re.S) if section else []
        if len(blocks) >= 2:
            return statements(blocks[0]), statements(blocks[1])
    raise AssertionError(f"no 'Least privilege' section with two sql blocks in {GRANTS_DOCS}")


def documented_reader_sql() -> tuple[list[str], list[str]]:
    """The reader's statements (the section's third sql block): the administrator's
    CREATE ROLE, then the owner's grants."""
    section = re.search(r"^##+ Least privilege\n(.*?)(?=^## |\Z)", GRANTS_DOCS[0].read_text(),
                        re.S | re.M)
    block = statements(re.findall(r"```sql\n(.*?)```", section.group(1), re.S)[2])
    return ([sql for sql in block if sql.startswith("CREATE ROLE")],
            [sql for sql in block if not sql.startswith("CREATE ROLE")])


def statements(block: str) -> list[str]:
    lines = [line.split("--")[0] for line in block.splitlines()]
    return [" ".join(part.split()) for part in "\n".join(lines).split(";") if part.strip()]


@dataclass
class Roles:
    """The documented set-up with unique names: ``names`` maps the documentation's names
    (f1_owner, f1_loader, f1_data, the passwords) to this test's."""

    names: dict[str, str]

    def url(self, who: str) -> str:
        return (f"postgresql://{self.names[who]}:{self.names[who + '_password']}"
                f"@127.0.0.1:5432/{self.names['database']}")

    @property
    def loader(self) -> str:
        return self.names["loader"]

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.names["owner_password"], self.names["loader_password"],
                self.names["reader_password"])

    def localise(self, statement: str) -> str:
        for key, documented in DOC_NAMES.items():
            statement = re.sub(rf"\b{re.escape(documented)}\b", self.names[key], statement)
        return statement

    def run(self, who: str, *sql: str) -> None:
        """Statements as the administrator ("admin", in the database) or "owner"/"loader"."""
        import pg8000.native

        user = POSTGRES["user"] if who == "admin" else self.names[who]
        connection = pg8000.native.Connection(user=user, host=POSTGRES["host"],
                                              port=POSTGRES["port"],
                                              database=self.names["database"],
                                              password=None if who == "admin"
                                              else self.names[who + "_password"])
        try:
            for statement in sql:
                connection.run(self.localise(statement))
        finally:
            connection.close()

    def grant_as_documented(self) -> None:
        self.run("owner", *documented_sql()[1])


@pytest.fixture
def roles():
    """Roles and database made by the documentation's administrator statements; dropped
    afterwards (the database first, so no privilege is left to keep a role alive)."""
    import pg8000.exceptions
    import pg8000.native

    suffix = uuid.uuid4().hex[:10]
    names = {"owner": f"f1_owner_{suffix}", "loader": f"f1_loader_{suffix}",
             "reader": f"f1_reader_{suffix}", "database": f"f1_data_{suffix}",
             "owner_password": f"Own3r-{suffix}", "loader_password": f"L0ader-{suffix}",
             "reader_password": f"R3ader-{suffix}"}
    try:
        admin = pg8000.native.Connection(**POSTGRES, timeout=10)
    except (pg8000.exceptions.InterfaceError, OSError) as error:
        if os.environ.get("F1DB_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432: {error}")
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432: {error}")
    made = Roles(names)
    try:
        for statement in documented_sql()[0]:
            admin.run(made.localise(statement))
        yield made
    finally:
        admin.run(f'DROP DATABASE IF EXISTS "{names["database"]}" WITH (FORCE)')
        for role in (names["reader"], names["loader"], names["owner"]):
            admin.run(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


def migrate(roles: Roles, who: str, tmp_path: Path):
    return run_script(MIGRATE, "--database-url", roles.url(who), cwd=tmp_path)


def assert_no_secret(roles: Roles, *texts: str) -> None:
    for secret in roles.secrets:
        for output in texts:
            assert secret not in output


@pytest.fixture
def as_loader(roles):
    """The loader's Database, opened in the test's process."""
    with open_database(resolve_database(roles.url("loader"))) as database:
        yield database


def test_the_documented_grants_let_the_loader_load_but_create_nothing(roles, cli_cache,
                                                                      tmp_path):
    """Grants given after the owner migrated (the ON ALL grants): a whole session, every
    table, loaded by populate_db.py as the loader; the loader may not create a table, nor a
    temporary one."""
    created = migrate(roles, "owner", tmp_path)
    assert created.returncode == 0, created.stderr
    roles.grant_as_documented()
    for statement in ("CREATE TABLE intruder (id integer)",
                      "CREATE TEMP TABLE scratch (id integer)"):
        with pytest.raises(Exception, match="42501"):
            roles.run("loader", statement)

    log_file = tmp_path / "loader.log"
    loaded = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url",
                      roles.url("loader"), log_file=log_file)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "Traceback" not in loaded.stdout + loaded.stderr
    counts = row_counts(roles.url("owner"))
    assert counts["sessions"] == 1 and counts["telemetry"] > 0 and counts["laps"] > 0
    assert_no_secret(roles, loaded.stdout, loaded.stderr, log_file.read_text())

    nothing_to_do = migrate(roles, "loader", tmp_path)        # up to date: needs no privilege
    assert nothing_to_do.returncode == 0, nothing_to_do.stderr
    assert "nothing to do" in nothing_to_do.stdout


def test_populate_as_the_loader_on_an_empty_database_says_the_owner_must_migrate(
        roles, cli_cache, tmp_path):
    """Grants given before the first migration: the default privileges then cover the
    tables the owner creates."""
    roles.grant_as_documented()
    log_file = tmp_path / "loader.log"
    refused = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url",
                       roles.url("loader"), log_file=log_file)
    line = assert_one_line_error(refused)
    assert (f"The database is empty and role {roles.loader} may not create tables in schema "
            f"public: the database owner must run `python migrate_db.py` once") in line
    assert "see docs/OPERATIONS.md, Least privilege" in line
    assert_no_secret(roles, refused.stdout, refused.stderr, log_file.read_text())
    with open_database(resolve_database(roles.url("owner"))) as owner:
        assert schema_state(owner).empty

    created = migrate(roles, "owner", tmp_path)
    assert created.returncode == 0, created.stderr
    with open_database(resolve_database(roles.url("loader"))) as loader:
        assert require_current_schema(loader).up_to_date     # reads and writes every table


def test_migrate_as_the_loader_says_who_must_run_it(roles, tmp_path):
    roles.grant_as_documented()
    refused = migrate(roles, "loader", tmp_path)
    line = assert_one_line_error(refused, "migrate_db.py")
    assert f"Role {roles.loader} may not create tables in schema public" in line
    assert "run `python migrate_db.py` as the database owner" in line
    assert f"GRANT CREATE ON SCHEMA public TO {roles.loader}" in line
    assert_no_secret(roles, refused.stdout, refused.stderr)

    ddl = run_script(MIGRATE, "--sql", "--database-url", roles.url("loader"), cwd=tmp_path)
    assert ddl.returncode == 0, ddl.stderr
    assert "CREATE TABLE sessions" in ddl.stdout
    assert_no_secret(roles, ddl.stdout, ddl.stderr)


def test_a_loader_allowed_to_create_still_cannot_upgrade_the_owners_tables(roles, as_loader):
    """Revision 0002 changes `sessions`, which only its owner may: PostgreSQL's own words
    name the table, and the line says who must run the migration."""
    with open_database(resolve_database(roles.url("owner"))) as owner:
        command.upgrade(alembic_config(owner), "0001")
    roles.grant_as_documented()
    roles.run("owner", "GRANT CREATE ON SCHEMA public TO f1_loader")
    with pytest.raises(SchemaError, match="behind"):
        require_current_schema(as_loader)
    with pytest.raises(PermissionProblem) as refused:
        upgrade(as_loader)
    message = str(refused.value)
    assert message.startswith(f"Role {roles.loader} may not change the schema (")
    assert "sessions" in message and "{'" not in message
    assert "run `python migrate_db.py` as the database owner" in message
    assert schema_state(as_loader).current == "0001"          # rolled back as a whole


def test_a_table_without_the_loaders_grant_is_named_before_loading(roles, cli_cache,
                                                                   tmp_path):
    """A grant forgotten on one table (say a table a later revision made as another role):
    refused before FastF1 is called, nothing written."""
    assert migrate(roles, "owner", tmp_path).returncode == 0
    roles.grant_as_documented()
    roles.run("owner", "REVOKE INSERT ON laps FROM f1_loader")
    log_file = tmp_path / "loader.log"
    refused = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url",
                       roles.url("loader"), log_file=log_file)
    line = assert_one_line_error(refused)
    assert line == (f"error: Role {roles.loader} may not write table laps: have the owner "
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "
                    f"{roles.loader} (see docs/OPERATIONS.md, Least privilege)")
    assert_no_secret(roles, refused.stdout, refused.stderr, log_file.read_text())
    assert row_counts(roles.url("owner"))["sessions"] == 0


@pytest.mark.parametrize("revoke, expected", [
    ("REVOKE ALL ON session_parts FROM f1_loader",
     r"may not read table session_parts: have the owner GRANT SELECT, INSERT"),
    ("REVOKE SELECT ON laps, weather FROM f1_loader",
     r"may not read table laps \(and 1 more tables\)"),
    ("REVOKE ALL ON SEQUENCE sessions_id_seq FROM f1_loader",
     r"may not use sequence public.sessions_id_seq: have the owner GRANT USAGE, SELECT ON "
     r"ALL SEQUENCES IN SCHEMA public TO"),
    ("REVOKE SELECT ON alembic_version FROM f1_loader",
     r"may not read where the schema stands \(permission denied for table alembic_version\)"),
], ids=["no-grant-at-all", "two-tables", "sequence", "alembic-version"])
def test_each_missing_privilege_is_one_line(roles, tmp_path, revoke, expected):
    with open_database(resolve_database(roles.url("owner"))) as owner:
        upgrade(owner)
    roles.grant_as_documented()
    roles.run("owner", revoke)
    with open_database(resolve_database(roles.url("loader"))) as loader:
        with pytest.raises(PermissionProblem, match=expected) as refused:
            require_current_schema(loader)
        assert "\n" not in str(refused.value) and "{'" not in str(refused.value)
        if "alembic_version" not in revoke:
            require_current_schema(loader, access=None)      # the schema itself is fine


def test_a_read_only_role_may_read(roles, tmp_path):
    """access="read" (for runs that write nothing) asks only for SELECT."""
    with open_database(resolve_database(roles.url("owner"))) as owner:
        upgrade(owner)
    roles.grant_as_documented()
    roles.run("owner", "REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                       "FROM f1_loader")
    with open_database(resolve_database(roles.url("loader"))) as loader:
        assert require_current_schema(loader, access="read").up_to_date
        with pytest.raises(PermissionProblem, match="may not write table"):
            require_current_schema(loader)


def test_the_documented_reader_role_reads_every_part_and_writes_nothing(roles, cli_cache,
                                                                        tmp_path):
    """The reader's grants, run as documented: load_session, frames across sessions and
    the race features read as the reader equal what the owner reads; a write is refused."""
    import pg8000.native
    from pandas.testing import assert_frame_equal

    import f1db.read as read

    assert migrate(roles, "owner", tmp_path).returncode == 0
    roles.grant_as_documented()
    loaded = run_script("backend/populate_db.py", *ITALY_FP2, *offline(cli_cache),
                        "--database-url", roles.url("loader"), cwd=REPO)
    assert loaded.returncode == 0, loaded.stderr
    administrator, owner = documented_reader_sql()
    admin = pg8000.native.Connection(**POSTGRES, timeout=10)
    try:
        for statement in administrator:
            admin.run(roles.localise(statement))
    finally:
        admin.close()
    roles.run("owner", *owner)

    as_reader = read.load_session(roles.url("reader"), 2021, "Italian Grand Prix", "FP2")
    as_owner = read.load_session(roles.url("owner"), 2021, "Italian Grand Prix", "FP2")
    for part in ("results", "laps", "weather_data", "race_control_messages"):
        assert_frame_equal(getattr(as_reader, part), getattr(as_owner, part))
    assert sorted(as_reader.car_data) == sorted(as_owner.car_data)
    assert_frame_equal(read.read_frame(roles.url("reader"), "stints"),
                       read.read_frame(roles.url("owner"), "stints"))
    read.race_features(roles.url("reader"))
    with pytest.raises(Exception, match="permission denied"):
        roles.run("reader", "DELETE FROM results")
