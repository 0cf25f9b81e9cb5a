"""The smoke check behind test_backend.py: connection, tables, duplicate prevention.

Duplicate prevention is proven on the real database inside one transaction that is
rolled back at the end, so the check leaves no row behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Table, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from .db import Database
from .models import (FACT_MODELS, LEDGER_MODELS, ROW_VIEWS, SCHEDULE_MODELS, VIEW_NAMES,
                     stored_table, stored_tables)
from .schema import packing_unfinished, schema_damage, schema_state

PROBE = {"year": 1900, "round_number": 0, "session_type": "__smoke_check__"}


@dataclass
class SmokeReport:
    database: str
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def ok(self, text: str) -> None:
        self.lines.append(f"  ok    {text}")

    def fail(self, text: str) -> None:
        self.lines.append(f"  FAIL  {text}")
        self.failures.append(text)

    @property
    def passed(self) -> bool:
        return not self.failures

    def render(self) -> str:
        verdict = "PASSED" if self.passed else f"FAILED ({len(self.failures)} problems)"
        return "\n".join([f"Smoke check of {self.database}", *self.lines, verdict])


def run_smoke_check(database: Database) -> SmokeReport:
    report = SmokeReport(database.describe())
    state = schema_state(database)    # open_database already proved the connection
    report.ok(f"connected ({database.dialect})")
    if state.packing_left:
        report.fail(packing_unfinished(state))
        return report
    if not state.up_to_date:
        report.fail(f"schema at revision {state.current or 'none'}, newest {state.head}: "
                    f"run python migrate_db.py")
        return report
    report.ok(f"schema at the newest revision {state.head}")
    damage = schema_damage(database)
    for difference in damage:
        report.fail(f"{difference}: the schema was changed by hand (restore the tables from "
                    f"a backup, or load into a new database)")
    if damage:
        return report
    report.ok("every table and view has the columns of this revision")
    with database.engine.connect() as connection:
        existing = set(inspect(connection).get_table_names())
        for table in stored_tables():
            if table.name not in existing:
                report.fail(f"table {table.name} is missing: run python migrate_db.py")
                continue
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            samples = ""
            if "packs" in table.info:     # the view would decode every sample to count them
                total = connection.execute(select(func.sum(table.c.samples))).scalar()
                samples = f" ({int(total or 0):,} samples)"
            report.ok(f"table {table.name:<22} {count:>12,} rows{samples}")
        views = set(inspect(connection).get_view_names())
        for name in VIEW_NAMES + ROW_VIEWS:
            if name not in views:
                report.fail(f"view {name} is missing: run python migrate_db.py")
                continue
            if name in ROW_VIEWS:
                report.ok(f"view  {name:<22} reads {stored_table(name).name}")
                continue
            count = connection.execute(select(func.count()).select_from(
                text(name))).scalar_one()
            report.ok(f"view  {name:<22} {count:>12,} rows")
    if report.passed and database.read_only:
        report.fail("the database file is read-only, so duplicate prevention cannot be "
                    "proven: give the file and its folder write permission")
    elif report.passed:
        _check_duplicates(database, report)
    return report


def _check_duplicates(database: Database, report: SmokeReport) -> None:
    with database.engine.connect() as connection:
        outer = connection.begin()
        try:
            for table in _probed_tables():
                row = _probe_row(table)
                connection.execute(insert(table).values(**row))
                try:
                    with connection.begin_nested():
                        connection.execute(insert(table).values(**row))
                except IntegrityError:
                    report.ok(f"duplicate rejected in {table.name}")
                else:
                    report.fail(f"a duplicate row was accepted in {table.name}")
        finally:
            outer.rollback()
    with database.engine.connect() as connection:
        left = sum(connection.execute(select(func.count()).select_from(table).where(
            table.c.year == PROBE["year"])).scalar_one()
            for table in _probed_tables())
        if left:
            report.fail("probe rows were left behind")
        else:
            report.ok("probe rows rolled back, database unchanged")


def _probed_tables() -> list[Table]:
    return [stored_table(model.__tablename__)
            for model in (*LEDGER_MODELS, *SCHEDULE_MODELS, *FACT_MODELS)]


def _probe_row(table: Table) -> dict:
    """The smallest valid row: probe session key plus a value for every NOT NULL column."""
    filler = {dt.datetime: dt.datetime(2000, 1, 1), str: "0", bytes: b""}
    row = {name: value for name, value in PROBE.items() if name in table.c}
    for column in table.columns:
        if column.name in row or column.nullable or column.autoincrement is True:
            continue
        row[column.name] = filler.get(column.type.python_type, 0)
    return row
