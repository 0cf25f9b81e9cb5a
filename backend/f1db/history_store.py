"""Writing Jolpica's history: a round's rows replaced together, the shared tables merged.

A round is stored in one transaction: its rows in every round table deleted, the new ones
written, and its ``history_races`` row (source, dump date, digest) last. A rerun compares
each round's digest with the stored one and writes only rounds that are new or that
Jolpica corrected, so reruns add nothing and a corrected round is replaced, never doubled.
Drivers, constructors and circuits are merged: a row that is new or whose values changed
is written, the others are left alone. Every write holds the named lock ``history``, so
concurrent runs (or Cloud Run tasks) never both insert the same keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, delete, exists, select

from .claims import wait_for_lock
from .history_rows import REFERENCE_TABLES, ROUND_TABLES, RoundRows, stored_columns
from .load import insert_rows
from .models import Base

LOCK = "history"


def _table(name: str):
    return Base.metadata.tables[name]


@dataclass(frozen=True)
class StoredRound:
    """What is stored of a round: its rows' digest, the dump they came from (None: the
    API), and whether it has race results."""

    digest: str
    dump_date: dt.date | None
    has_results: bool


def stored_rounds(connection: Connection, years=None) -> dict[tuple[int, int], StoredRound]:
    """(year, round) -> what is stored of it."""
    races, results = _table("history_races"), _table("history_results")
    has_results = exists().where(results.c.year == races.c.year,
                                 results.c.round_number == races.c.round_number)
    query = select(races.c.year, races.c.round_number, races.c.digest, races.c.dump_date,
                   has_results)
    if years is not None:
        query = query.where(races.c.year.in_(list(years)))
    return {(year, round_number): StoredRound(digest, _as_date(dump_date), bool(results_there))
            for year, round_number, digest, dump_date, results_there in
            connection.execute(query)}


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    return pd.Timestamp(value).date()


def replace_round(connection: Connection, rows: RoundRows, *, source: str,
                  dump_date: dt.date | None, now: dt.datetime, digest: str) -> dict[str, int]:
    """Replace the round's rows in every round table; returns rows written per table."""
    wait_for_lock(connection, LOCK)
    written = {}
    for name in reversed(ROUND_TABLES):          # the race row (the ledger) last
        table = _table(name)
        connection.execute(delete(table).where(table.c.year == rows.year,
                                               table.c.round_number == rows.round_number))
    for name in ROUND_TABLES[1:] + ROUND_TABLES[:1]:
        frame = rows.tables[name]
        if name == "history_races":
            frame = frame.assign(source=source, dump_date=pd.to_datetime(dump_date),
                                 digest=digest, stored_at_utc=pd.Timestamp(now))
        written[name] = insert_rows(connection, _table(name), frame)
    return written


def merge_references(connection: Connection, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Write the drivers, constructors and circuits that are new or changed; returns
    rows written per table."""
    wait_for_lock(connection, LOCK)
    written = {}
    for name in REFERENCE_TABLES:
        table = _table(name)
        frame = frames[name]
        key = table.primary_key.columns.values()[0].name
        columns = stored_columns(name)
        stored = {row[0]: tuple(row) for row in connection.execute(
            select(*[table.c[c] for c in columns]))}
        changed = frame[[_differs(stored.get(row[0]), row)
                         for row in frame[columns].itertuples(index=False, name=None)]]
        if changed.empty:
            written[name] = 0
            continue
        keys = list(changed[key])
        for start in range(0, len(keys), 500):
            connection.execute(delete(table).where(table.c[key].in_(keys[start:start + 500])))
        written[name] = insert_rows(connection, table, changed.reset_index(drop=True))
    return written


def _differs(stored: tuple | None, new: tuple) -> bool:
    if stored is None:
        return True
    return any(not _same(a, b) for a, b in zip(stored, new))


def _same(stored, new) -> bool:
    if new is None or (not isinstance(new, (list, tuple, str)) and pd.isna(new)):
        return stored is None
    if stored is None:
        return False
    if isinstance(new, pd.Timestamp):
        new = new.date() if isinstance(stored, dt.date) and not isinstance(
            stored, dt.datetime) else new.to_pydatetime()
    return stored == new
