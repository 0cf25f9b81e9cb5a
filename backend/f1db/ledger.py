"""The ledger: which sessions are stored and the status of each of their tables.

``sessions`` holds one row per stored session and ``session_parts`` one row per table
ever asked for (models.StoredSession, models.SessionPart). Both are written in the
session's own transaction, after its fact rows, so a session is in the ledger exactly
when its rows are committed. Planning reads the ledger before FastF1 is called, and a
worker reads its session's entry again once it holds the session's lock.
``session_failures`` keeps the last failure of a session that is not stored yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping

from sqlalchemy import Connection, Table, delete, func, insert, select

from .dialects import dialect_of
from .models import Event, SessionFailure, SessionPart, StoredSession
from .records import FailureRecord, LedgerEntry, PartStatus, SessionKey, SessionRef

_KEY_COLUMNS = ("year", "round_number", "session_type")


def read_ledger(connection: Connection, years: int | Iterable[int], *,
                key: SessionKey | None = None) -> dict[SessionKey, LedgerEntry]:
    """Stored sessions of ``years`` (or the one ``key``) with their table statuses."""
    sessions, parts = StoredSession.__table__, SessionPart.__table__
    statuses: dict[SessionKey, dict[str, PartStatus]] = {}
    for row in connection.execute(select(parts).where(*_rows_of(parts, years, key))).mappings():
        row_key = SessionKey(row["year"], row["round_number"], row["session_type"])
        statuses.setdefault(row_key, {})[row["table_name"]] = PartStatus(row["status"])
    ledger = {}
    for row in connection.execute(select(sessions).where(*_rows_of(sessions, years, key))
                                  ).mappings():
        row_key = SessionKey(row["year"], row["round_number"], row["session_type"])
        ledger[row_key] = LedgerEntry(key=row_key, statuses=statuses.get(row_key, {}),
                                  fastf1_version=row["fastf1_version"],
                                  loaded_at_utc=row["loaded_at_utc"],
                                  updated_at_utc=row["updated_at_utc"])
    return ledger


def read_entry(connection: Connection, key: SessionKey) -> LedgerEntry | None:
    """One session's ledger entry, read afresh (after its lock is taken)."""
    return read_ledger(connection, key.year, key=key).get(key)


def read_event_counts(connection: Connection, years: Iterable[int]) -> dict[int, int]:
    """How many events of each season ``events`` holds (for ``--plan``)."""
    table = Event.__table__
    return dict(connection.execute(select(table.c.year, func.count()).where(
        table.c.year.in_(list(years))).group_by(table.c.year)).all())


def read_failures(connection: Connection, years: Iterable[int]
                  ) -> dict[SessionKey, FailureRecord]:
    table = SessionFailure.__table__
    failures = {}
    for row in connection.execute(select(table).where(*_rows_of(table, years))).mappings():
        key = SessionKey(row["year"], row["round_number"], row["session_type"])
        failures[key] = FailureRecord(key, row["reason"], row["failed_runs"],
                                      row["failed_at_utc"])
    return failures


def record_failure(connection: Connection, ref: SessionRef, reason: str) -> bool:
    """Remember why ``ref`` failed (its own transaction: the session's was rolled back);
    returns whether it did. A session that is stored (a ``--force`` or a refresh that
    failed) keeps its rows and gets no failure row: ``session_failures`` lists sessions
    that are not stored."""
    if read_entry(connection, ref.key) is not None:
        return False
    table, key = SessionFailure.__table__, ref.key
    statement = _upsert(connection, table).values(
        year=key.year, round_number=key.round_number, session_type=key.session_type,
        event_name=ref.event_name, reason=reason, failed_runs=1, failed_at_utc=_now())
    connection.execute(statement.on_conflict_do_update(
        index_elements=list(_KEY_COLUMNS),
        set_={"reason": statement.excluded.reason, "event_name": statement.excluded.event_name,
              "failed_at_utc": statement.excluded.failed_at_utc,
              "failed_runs": table.c.failed_runs + 1}))
    return True


def write_ledger(connection: Connection, ref: SessionRef, fastf1_version: str,
                 parts: Mapping[str, tuple[PartStatus, str | None]]) -> None:
    """Record the session and the new status (and reason) of each table in ``parts``.

    Tables not in ``parts`` keep the status they had. The last statements of the
    session's transaction.
    """
    now = _now()
    key = ref.key
    values = {"year": key.year, "round_number": key.round_number,
              "session_type": key.session_type, "event_name": ref.event_name,
              "country": ref.country, "location": ref.location,
              "event_format": ref.event_format, "session_start_utc": ref.start_utc,
              "fastf1_version": fastf1_version}
    table = StoredSession.__table__
    statement = _upsert(connection, table).values(**values, loaded_at_utc=now, updated_at_utc=now)
    updates = {name: statement.excluded[name] for name in values if name not in _KEY_COLUMNS}
    updates["updated_at_utc"] = now
    connection.execute(statement.on_conflict_do_update(index_elements=list(_KEY_COLUMNS),
                                                       set_=updates))
    failures = SessionFailure.__table__
    connection.execute(delete(failures).where(*_rows_of(failures, key.year, key)))
    if not parts:
        return
    part_table = SessionPart.__table__
    connection.execute(delete(part_table).where(
        part_table.c.year == key.year, part_table.c.round_number == key.round_number,
        part_table.c.session_type == key.session_type,
        part_table.c.table_name.in_(list(parts))))
    connection.execute(insert(part_table), [
        {"year": key.year, "round_number": key.round_number, "session_type": key.session_type,
         "table_name": name, "status": str(status), "reason": reason, "updated_at_utc": now}
        for name, (status, reason) in parts.items()])


def _rows_of(table: Table, years: int | Iterable[int], key: SessionKey | None = None) -> tuple:
    if key is not None:
        return (table.c.year == key.year, table.c.round_number == key.round_number,
                table.c.session_type == key.session_type)
    return (table.c.year.in_([years] if isinstance(years, int) else list(years)),)


def _upsert(connection: Connection, table: Table):
    return dialect_of(connection).upsert(table)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
