"""Revision 0005 on databases that hold rows: the loader refuses the old schema, the upgrade
keeps every row, adds the calendar, session, circuit and standings tables and the
``stints``/``pit_stops`` views (which show the stored laps at once), and downgrade to 0004
takes all of it away again. On SQLite and PostgreSQL.

That the revisions build exactly the models' schema is test_schema.py's
``test_migrations_build_the_models_schema`` (it migrates to the head, whatever it is).
"""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, inspect, select, text

from f1db.config import resolve_database
from f1db.db import open_database
from f1db.errors import SchemaError
from f1db.ledger import read_ledger
from f1db.models import ROW_VIEWS, SCHEDULE_MODELS, TABLE_NAMES, VIEW_NAMES
from f1db.records import SessionKey
from f1db.schema import (alembic_config, head_revision, require_current_schema, schema_state,
                         upgrade, upgrade_sql)
from support.database import run_populator
from support.entry_scripts import ITALY_FP2, assert_one_line_error, offline, populate as populate_db

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

# The tables revision 0004 has (its fact tables and the ledger) and those 0005 adds.
TABLES_0004 = ("results", "laps", "weather", "telemetry", "positions", "session_status",
               "track_status", "race_control_messages", "sessions", "session_parts",
               "session_failures")
FACT_TABLES_0004 = TABLES_0004[:8]
NEW_TABLES = ("events", "event_sessions", "session_info", "circuit_layouts",
              "circuit_markers", "driver_standings", "constructor_standings")
NEW_FACT_TABLES = ("session_info", "circuit_layouts", "circuit_markers", "driver_standings",
                   "constructor_standings")
STAMP = dt.datetime(2026, 11, 2, 10, 0, 0)
HEAD = head_revision()        # 0005 and the revisions after it
ITALY = SessionKey(2021, 14, "Practice 2")


def lap(session_type, driver_number, lap_number, stint, compound, fresh_tyre, tyre_life,
        pit_out=None, pit_in=None, driver="HAM"):
    return {"year": 2021, "round_number": 14, "session_type": session_type,
            "driver_number": driver_number, "lap_number": lap_number, "driver": driver,
            "team": "Mercedes", "stint": stint, "compound": compound,
            "fresh_tyre": fresh_tyre, "tyre_life": tyre_life, "pit_out_time_ms": pit_out,
            "pit_in_time_ms": pit_in, "lap_time_ms": 85_000 + lap_number}


ROWS_0004 = {
    "sessions": [
        {"year": 2021, "round_number": 14, "session_type": "Practice 2",
         "event_name": "Italian Grand Prix", "country": "Italy", "location": "Monza",
         "event_format": "sprint", "session_start_utc": dt.datetime(2021, 9, 10, 14, 30),
         "fastf1_version": "3.9.0", "loaded_at_utc": STAMP, "updated_at_utc": STAMP},
        {"year": 2021, "round_number": 14, "session_type": "Race",
         "event_name": "Italian Grand Prix", "country": "Italy", "location": "Monza",
         "event_format": "sprint", "session_start_utc": dt.datetime(2021, 9, 12, 13, 0),
         "fastf1_version": "3.9.0", "loaded_at_utc": STAMP, "updated_at_utc": STAMP},
    ],
    "session_parts": [
        {"year": 2021, "round_number": 14, "session_type": session_type, "table_name": table,
         "status": "missing" if table == "telemetry" else "loaded",
         "reason": "no car data" if table == "telemetry" else None, "updated_at_utc": STAMP}
        for session_type in ("Practice 2", "Race") for table in FACT_TABLES_0004],
    "laps": [
        # Practice 2, 44: in after lap 1, out on lap 2; stint 2 = laps 2-4, in after lap 4
        # with no lap 5 stored. 33: one lap without a stint. Race, 44: two laps, no stop.
        lap("Practice 2", "44", 1, 1, "SOFT", False, 7, pit_out=1_000, pit_in=60_000),
        lap("Practice 2", "44", 2, 2, "SOFT", False, 8, pit_out=81_000),
        lap("Practice 2", "44", 3, 2, "SOFT", False, 9),
        lap("Practice 2", "44", 4, 2, "SOFT", False, 10, pit_in=300_000),
        lap("Practice 2", "33", 1, None, None, None, None, driver="VER"),
        lap("Race", "44", 1, 1, "HARD", True, 1),
        lap("Race", "44", 2, 1, "HARD", True, 2),
    ],
    "results": [{"year": 2021, "round_number": 14, "session_type": "Practice 2",
                 "driver_number": "44", "abbreviation": "HAM", "position": 2}],
}
# What the views show for ROWS_0004's laps (worked out from the list above).
STINTS = [
    (2021, 14, "Practice 2", "44", 1, "HAM", "Mercedes", "SOFT", False, 1, 1, 1, 7, 7),
    (2021, 14, "Practice 2", "44", 2, "HAM", "Mercedes", "SOFT", False, 2, 4, 3, 8, 10),
    (2021, 14, "Race", "44", 1, "HAM", "Mercedes", "HARD", True, 1, 2, 2, 1, 2),
]
PIT_STOPS = [
    (2021, 14, "Practice 2", "44", "HAM", "Mercedes", 1, 1, 60_000, 81_000, 21_000, "SOFT"),
    (2021, 14, "Practice 2", "44", "HAM", "Mercedes", 4, 2, 300_000, None, None, None),
]


@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        yield db


def reflected(connection, table: str) -> Table:
    return Table(table, MetaData(), autoload_with=connection)


def at_0004_with_rows(database, rows=ROWS_0004) -> None:
    """The database at revision 0004 with ``rows`` written into the tables as 0004 has them."""
    command.upgrade(alembic_config(database), "0004")
    with database.engine.begin() as connection:
        for table, table_rows in rows.items():
            connection.execute(reflected(connection, table).insert(), table_rows)


# Added by a later revision (0007) to rows 0004 stored: NULL there, left out of comparisons.
LATER_COLUMNS = {"row_order"}


def stored(database, tables=TABLES_0004) -> dict[str, list[dict]]:
    """Every row of ``tables``, in primary key order, read through the tables' own shape
    (without LATER_COLUMNS)."""
    result = {}
    with database.engine.connect() as connection:
        for table in tables:
            shape = reflected(connection, table)
            order = list(shape.primary_key.columns) or list(shape.c)
            result[table] = [{name: value for name, value in row.items()
                              if name not in LATER_COLUMNS} for row in
                             connection.execute(select(shape).order_by(*order)).mappings()]
    return result


def names(database) -> tuple[set[str], set[str]]:
    """(tables, views) in the database."""
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        return set(inspector.get_table_names()), set(inspector.get_view_names())


def view(database, name: str) -> list[tuple]:
    """The view's rows in key order; SQLite's 0/1 fresh_tyre read as a boolean."""
    order = {"stints": "year, round_number, session_type, driver_number, stint",
             "pit_stops": "year, round_number, session_type, driver_number, lap"}[name]
    with database.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {name} ORDER BY {order}")).mappings()
        return [tuple(bool(v) if k == "fresh_tyre" and v is not None else v
                      for k, v in row.items()) for row in rows]


def test_upgrade_keeps_the_rows_adds_tables_and_views_and_downgrade_takes_them_away(database):
    at_0004_with_rows(database)
    before = stored(database)
    assert {table: len(rows) for table, rows in before.items() if rows} == {
        "sessions": 2, "session_parts": 16, "laps": 7, "results": 1}
    tables, views = names(database)
    assert set(TABLES_0004) <= tables and not tables & set(NEW_TABLES) and not views

    # The loader refuses the old schema and leaves it to migrate_db.py.
    state = schema_state(database)
    assert (state.current, state.head, state.up_to_date) == ("0004", HEAD, False)
    with pytest.raises(SchemaError, match=rf"behind \(revision 0004, newest {HEAD}\): run "
                                          r"python migrate_db.py first"):
        require_current_schema(database)
    assert stored(database) == before and names(database) == (tables, views)

    assert upgrade(database) == ("0004", HEAD)
    assert stored(database) == before
    tables, views = names(database)
    # telemetry and positions are views of their packed samples since revision 0010
    assert (set(TABLES_0004) - set(ROW_VIEWS)) | set(NEW_TABLES) <= tables
    assert views == set(VIEW_NAMES) | set(ROW_VIEWS)
    assert all(rows == [] for rows in stored(database, NEW_TABLES).values())
    assert view(database, "stints") == STINTS and view(database, "pit_stops") == PIT_STOPS
    # Stored sessions have not been asked for the new tables yet: a run loads them.
    with database.engine.connect() as connection:
        ledger = read_ledger(connection, 2021)
    assert {key.session_type: set(entry.statuses) for key, entry in ledger.items()} == {
        "Practice 2": set(FACT_TABLES_0004), "Race": set(FACT_TABLES_0004)}
    assert require_current_schema(database).up_to_date

    command.downgrade(alembic_config(database), "0004")
    assert schema_state(database).current == "0004"
    assert names(database) == (set(TABLES_0004) | {"alembic_version"}, set())
    assert stored(database) == before

    assert upgrade(database) == ("0004", HEAD)                     # and up again
    assert names(database)[1] == set(VIEW_NAMES) | set(ROW_VIEWS)
    assert view(database, "stints") == STINTS and view(database, "pit_stops") == PIT_STOPS
    assert stored(database) == before


def test_downgrade_forgets_the_ledger_rows_of_the_tables_it_drops(database):
    """Rows of the new tables are gone after a downgrade, so their ``session_parts`` rows
    must go too: otherwise, upgraded again, the ledger says "loaded" for an empty table
    and no run ever loads it again."""
    require_current_schema(database)                        # an empty database, at the head
    parts = [{"year": 2021, "round_number": 14, "session_type": "Practice 2",
              "table_name": table, "status": status, "reason": None, "updated_at_utc": STAMP}
             for table, status in (("laps", "loaded"), ("session_info", "loaded"),
                                   ("circuit_layouts", "missing"),
                                   ("circuit_markers", "missing"))]
    with database.engine.begin() as connection:
        connection.execute(reflected(connection, "sessions").insert(),
                           ROWS_0004["sessions"][:1])
        connection.execute(reflected(connection, "session_parts").insert(), parts)
        connection.execute(reflected(connection, "session_info").insert(),
                           [{"year": 2021, "round_number": 14, "session_type": "Practice 2",
                             "meeting_key": 1083, "total_laps": None}])

    command.downgrade(alembic_config(database), "0004")
    assert [row["table_name"] for row in stored(database)["session_parts"]] == ["laps"]

    assert upgrade(database) == ("0004", HEAD)
    with database.engine.connect() as connection:
        assert read_ledger(connection, 2021)[ITALY].statuses == {"laps": "loaded"}


def test_a_session_stored_by_0004_gets_only_the_new_tables_after_the_upgrade(
        database, recorded_cache, cli_cache, tmp_path):
    """2021 Italian FP2 as revision 0004's loader left it (ledger: its eight tables
    loaded). populate_db.py and the library refuse to load; after migrating, a run loads
    the session once for the new tables and leaves the stored rows alone."""
    rows = {**ROWS_0004, "sessions": ROWS_0004["sessions"][:1],
            "session_parts": [{**part, "status": "loaded", "reason": None}
                              for part in ROWS_0004["session_parts"]
                              if part["session_type"] == "Practice 2"]}
    at_0004_with_rows(database, rows)
    before = stored(database)
    url = database.engine.url.render_as_string(hide_password=False)

    line = assert_one_line_error(populate_db(tmp_path, *ITALY_FP2, *offline(cli_cache),
                                             "--database-url", url))
    assert f"behind (revision 0004, newest {HEAD})" in line and "migrate_db.py" in line
    options = dict(database_url=url, events=("Italian Grand Prix",), sessions=("FP2",),
                   offline=True, cache_dir=recorded_cache)
    with pytest.raises(SchemaError, match="behind"):
        run_populator(2021, **options)
    assert stored(database) == before and schema_state(database).current == "0004"

    assert upgrade(database) == ("0004", HEAD)
    summary = run_populator(2021, **options)
    assert summary.exit_code == 0 and summary.fastf1_loads == 1
    inserted = {table: n for table, n in summary.rows_inserted.items() if n}
    assert inserted.pop("session_info") == 1
    assert set(inserted) <= {"circuit_layouts", "circuit_markers"}   # where FastF1 has them
    with database.engine.connect() as connection:
        statuses = read_ledger(connection, 2021)[ITALY].statuses
    assert {table: statuses[table] for table in FACT_TABLES_0004} == dict.fromkeys(
        FACT_TABLES_0004, "loaded")
    # Asked for now: session info, and the circuit (missing where the cache has no layout);
    # the standings come with a Race only.
    assert set(statuses) == set(TABLE_NAMES) - {"driver_standings", "constructor_standings"}
    assert statuses["session_info"] == "loaded"
    for table in ("circuit_layouts", "circuit_markers"):
        assert statuses[table] == ("loaded" if table in inserted else "missing"), table
    after = stored(database)
    for table in FACT_TABLES_0004:
        assert after[table] == before[table], table
    assert view(database, "stints") == STINTS and view(database, "pit_stops") == PIT_STOPS
    # The run refreshed 2021's schedule into the new calendar tables.
    assert all(stored(database, [model.__tablename__ for model in SCHEDULE_MODELS]).values())


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_the_ddl_for_dbas_creates_and_drops_the_views(dialect):
    ddl = upgrade_sql(f"{dialect}://")
    for table in NEW_TABLES:
        assert f"CREATE TABLE {table} (" in ddl, table
    for name in VIEW_NAMES:
        assert ddl.count(f"CREATE VIEW {name} AS") == 1, name
    assert ddl.index("CREATE TABLE laps") < ddl.index("CREATE VIEW stints")
    assert "UPDATE alembic_version SET version_num='0005'" in ddl
