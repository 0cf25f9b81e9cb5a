"""Revision 0004 on databases that hold rows: telemetry and positions rebuilt narrow, every
value carried over, a value that does not fit refused with nothing changed, grants kept;
and back down to 0003. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, inspect, select, text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.errors import SchemaError
from f1db.models import TELEMETRY_TABLES, Base
from f1db.schema import alembic_config, head_revision, schema_state, upgrade, upgrade_sql
from support.database import models_differences
from support.entry_scripts import MIGRATE, assert_one_line_error, run_script

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

# upgrade() goes to the newest revision, through 0004 (later ones leave these tables be).
HEAD = head_revision()

KEY = ("year", "round_number", "session_type", "driver_number", "sample_index")
STAMP = dt.datetime(2021, 9, 11, 12, 0, 0, 123456)


def telemetry_row(sample, **values):
    row = {"year": 2021, "round_number": 14, "session_type": "Practice 2",
           "driver_number": "44", "sample_index": sample, "date_utc": STAMP,
           "session_time_ms": 3_600_123, "time_ms": 3_600_123, "rpm": 11500.0,
           "speed": 320.0, "n_gear": 8, "throttle": 100.0, "brake": True, "drs": 12,
           "source": "car"}
    return {**row, **values}


def position_row(sample, **values):
    row = {"year": 2021, "round_number": 14, "session_type": "Practice 2",
           "driver_number": "44", "sample_index": sample, "date_utc": STAMP,
           "session_time_ms": 3_600_123, "time_ms": 3_600_123, "status": "OnTrack",
           "x": -1234.0, "y": 5678.0, "z": 120.0, "source": "pos"}
    return {**row, **values}


NULLS = {"date_utc": None, "session_time_ms": None, "time_ms": None, "source": None}
ROWS_0003 = {
    "telemetry": [
        telemetry_row(0),
        telemetry_row(1, rpm=32767.0, speed=-32768.0, n_gear=32767, throttle=-32768.0,
                      drs=-32768, brake=False, session_time_ms=2**31 - 1, time_ms=-2**31),
        telemetry_row(2, rpm=None, speed=None, n_gear=None, throttle=None, brake=None,
                      drs=None, **NULLS),
        telemetry_row(0, driver_number="1", session_type="Race", round_number=15),
    ],
    "positions": [
        position_row(0),
        position_row(1, x=-2147483648.0, y=2147483647.0, z=0.0, status="OffTrack",
                     session_time_ms=2**31 - 1, time_ms=-2**31),
        position_row(2, x=None, y=None, z=None, status=None, **NULLS),
        position_row(0, driver_number="1", session_type="Race", round_number=15),
    ],
}
# The columns revision 0004 turns into integers (from float8 or int4/int8).
NARROWED = {"telemetry": ("session_time_ms", "time_ms", "rpm", "speed", "n_gear",
                          "throttle", "drs"),
            "positions": ("session_time_ms", "time_ms", "x", "y", "z")}


@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        yield db


def at_0003_with_rows(database, rows=ROWS_0003) -> dict[str, list]:
    """The database at revision 0003, ``rows`` written into the tables as 0003 shaped them
    (read back from the database); returns each table's columns as (name, type) in order."""
    command.upgrade(alembic_config(database), "0003")
    with database.engine.begin() as connection:
        for table, table_rows in rows.items():
            connection.execute(reflected(connection, table).insert(), table_rows)
    return columns_of(database)


def reflected(connection, table: str) -> Table:
    return Table(table, MetaData(), autoload_with=connection)


def columns_of(database) -> dict[str, list]:
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        return {table: [(c["name"], str(c["type"])) for c in inspector.get_columns(table)]
                for table in TELEMETRY_TABLES}


def stored(database, table: str) -> list[dict]:
    """The rows of ``table``, typed as the database declares them; through the model where
    ``table`` is a view of packed samples (revision 0010: SQLite views declare no types)."""
    with database.engine.connect() as connection:
        is_view = table in inspect(connection).get_view_names()
        shape = Base.metadata.tables[table] if is_view else reflected(connection, table)
        query = select(shape).order_by(*[shape.c[name] for name in KEY])
        return [dict(row) for row in connection.execute(query).mappings()]


def ordered(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: tuple(row[name] for name in KEY))


def leftovers(database) -> list[str]:
    with database.engine.connect() as connection:
        return [name for name in inspect(connection).get_table_names() if "before" in name]


def test_upgrade_carries_every_row_over_exactly_and_downgrade_restores_0003(database):
    columns_0003 = at_0003_with_rows(database)
    assert upgrade(database) == ("0003", HEAD)

    with database.engine.connect() as connection:
        assert models_differences(connection) == []
    for table in TELEMETRY_TABLES:
        assert [name for name, _ in columns_of(database)[table]] == [
            c.name for c in Base.metadata.tables[table].columns]
        rows = stored(database, table)
        assert rows == ordered(ROWS_0003[table])           # 11500.0 == 11500, and so on
        for row in rows:
            for name in NARROWED[table]:
                assert row[name] is None or type(row[name]) is int, (table, name, row[name])
    assert leftovers(database) == []

    command.downgrade(alembic_config(database), "0003")
    assert columns_of(database) == columns_0003                # 0001's order and types
    for table in TELEMETRY_TABLES:
        rows = stored(database, table)
        assert rows == ordered(ROWS_0003[table])
        assert {type(row["rpm" if table == "telemetry" else "x"]) for row in rows} == {
            float, type(None)}
    assert leftovers(database) == []
    assert upgrade(database) == ("0003", HEAD)               # and up again
    assert stored(database, "positions") == ordered(ROWS_0003["positions"])


@pytest.mark.parametrize("table, column, value, shown, type_range", [
    ("telemetry", "rpm", 32768.0, "32768.0", "-32768..32767"),
    ("telemetry", "throttle", 99.5, "99.5", "-32768..32767"),
    ("telemetry", "n_gear", -32769, "-32769", "-32768..32767"),
    ("telemetry", "speed", float("inf"), "inf", "-32768..32767"),
    ("telemetry", "session_time_ms", 2**31, "2147483648", "-2147483648..2147483647"),
    ("positions", "x", 2147483648.0, "2147483648.0", "-2147483648..2147483647"),
    ("positions", "time_ms", -2**31 - 1, "-2147483649", "-2147483648..2147483647"),
], ids=["rpm-too-big", "fraction", "gear-int4", "infinity", "bigint-ms", "x-too-big",
        "ms-too-small"])
def test_a_stored_value_that_does_not_fit_stops_the_migration_changing_nothing(
        database, table, column, value, shown, type_range):
    maker = telemetry_row if table == "telemetry" else position_row
    rows = {**ROWS_0003, table: [*ROWS_0003[table], maker(7, **{column: value})]}
    columns_0003 = at_0003_with_rows(database, rows)

    with pytest.raises(SchemaError) as refused:
        upgrade(database)
    message = str(refused.value)
    type_name = "smallint" if type_range.startswith("-32768") else "integer"
    assert message.startswith(f"Revision 0004 cannot store {table}.{column} as {type_name}: "
                              f"the value {shown} (year 2021, round 14, Practice 2, driver "
                              f"44, sample 7) is not a whole number in {type_range}; nothing "
                              f"was changed")
    assert "\n" not in message
    assert schema_state(database).current == "0003"
    assert columns_of(database) == columns_0003 and leftovers(database) == []
    for name, table_rows in rows.items():
        assert stored(database, name) == ordered(table_rows)

    with database.engine.begin() as connection:          # fixed: the migration goes through
        connection.execute(text(f"DELETE FROM {table} WHERE sample_index = 7"))
    assert upgrade(database) == ("0003", HEAD)


def test_migrate_db_says_it_in_one_line(database, tmp_path):
    rows = {**ROWS_0003, "telemetry": [*ROWS_0003["telemetry"], telemetry_row(7, rpm=40000.0)]}
    at_0003_with_rows(database, rows)
    url = database.engine.url.render_as_string(hide_password=False)
    line = assert_one_line_error(run_script(MIGRATE, "--database-url", url, cwd=tmp_path),
                                 "migrate_db.py")
    assert line.startswith("error: Revision 0004 cannot store telemetry.rpm as smallint: the "
                           "value 40000.0 (year 2021, round 14, Practice 2, driver 44, "
                           "sample 7)")
    assert line.endswith("fix or delete that session's rows, then run migrate_db.py again")
    assert schema_state(database).current == "0003"


def test_a_failure_halfway_through_leaves_the_database_at_0003(database, monkeypatch):
    """Telemetry is rebuilt, positions copied, then dropping the old positions fails: both
    databases roll the whole revision back (SQLite too, which would otherwise have kept
    the rebuilt telemetry and a renamed positions table)."""
    import alembic.op

    columns_0003 = at_0003_with_rows(database)
    real_drop_table = alembic.op.drop_table

    def drop_table(name, *args, **kwargs):
        if name == "positions_before_0004":
            raise RuntimeError("the disk is full")
        return real_drop_table(name, *args, **kwargs)

    monkeypatch.setattr(alembic.op, "drop_table", drop_table)
    with pytest.raises(RuntimeError, match="the disk is full"):
        upgrade(database)
    assert schema_state(database).current == "0003"
    assert columns_of(database) == columns_0003 and leftovers(database) == []
    for table in TELEMETRY_TABLES:
        assert stored(database, table) == ordered(ROWS_0003[table])


def test_the_ddl_for_dbas_packs_the_key_and_drops_the_rowid():
    postgresql, sqlite = upgrade_sql("postgresql://"), upgrade_sql("sqlite://")
    for table in TELEMETRY_TABLES:
        assert (f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (year, "
                f"round_number, session_type, driver_number, sample_index) WITH (fillfactor "
                f"= 100);") in postgresql
    assert sqlite.count(")\n WITHOUT ROWID;") == 2


# --- PostgreSQL: who may do what --------------------------------------------------------

@pytest.fixture
def roles(postgres_url):
    """Three roles: the tables' owner (not the migrating superuser), a reader and a loader;
    what they own or were granted in the scratch database is dropped with them."""
    import pg8000.native

    from support.scratch_postgres import POSTGRES

    suffix = uuid.uuid4().hex[:8]
    names = {who: f"f1db_{who}_{suffix}" for who in ("owner", "reader", "loader")}
    database = postgres_url.rsplit("/", 1)[1]
    admin = pg8000.native.Connection(**{**POSTGRES, "database": database})
    try:
        for name in names.values():
            admin.run(f"CREATE ROLE {name}")
        admin.run(f"GRANT CREATE ON SCHEMA public TO {names['owner']}")
        yield names
    finally:
        admin.run(f"DROP OWNED BY {', '.join(names.values())} CASCADE")
        for name in names.values():
            admin.run(f"DROP ROLE {name}")
        admin.close()


def access(database) -> dict[str, tuple]:
    """table -> (owner, {(grantee, privilege, grantable)}) for every grantee but the owner."""
    with database.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT c.relname, pg_get_userbyid(c.relowner), CASE WHEN a.grantee = 0 THEN "
            "'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable "
            "FROM pg_class c LEFT JOIN LATERAL aclexplode(c.relacl) a "
            "ON a.grantee <> c.relowner WHERE c.relname IN ('telemetry', 'positions')")).all()
    result = {}
    for table, owner, grantee, privilege, grantable in rows:
        entry = result.setdefault(table, (owner, set()))
        if grantee is not None:
            entry[1].add((grantee, privilege, grantable))
    return result


def test_postgresql_keeps_the_owner_and_exactly_the_grants(postgres_url, roles):
    """The migrating superuser's own default privileges would give the reader everything on
    the rebuilt tables, and the owner would become the superuser: neither happens."""
    owner, reader, loader = roles["owner"], roles["reader"], roles["loader"]
    with open_database(resolve_database(postgres_url)) as database:
        at_0003_with_rows(database)
        with database.engine.begin() as connection:
            for statement in (
                    f"ALTER TABLE telemetry OWNER TO {owner}",
                    f"ALTER TABLE positions OWNER TO {owner}",
                    f"GRANT SELECT ON telemetry TO {reader}",
                    f"GRANT SELECT, INSERT ON positions TO {reader} WITH GRANT OPTION",
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON telemetry, positions TO {loader}",
                    f"REVOKE DELETE ON positions FROM {loader}",
                    "GRANT SELECT ON telemetry TO PUBLIC",
                    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {reader}"):
                connection.execute(text(statement))
        before = access(database)
        assert before["telemetry"][0] == owner and len(before["positions"][1]) == 5

        assert upgrade(database) == ("0003", HEAD)
        assert access(database) == before
        command.downgrade(alembic_config(database), "0003")
        assert access(database) == before
