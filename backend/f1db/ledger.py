"""The ledger: which sessions are stored and the status of each of their tables.

``sessions`` holds one row per stored session and ``session_parts`` one row per table
ever asked for (models.StoredSession, models.SessionPart). Both are written in the
session's own transaction, after its fact rows, so a session is in the ledger exactly
when its rows are committed. Planning reads the ledger before FastF1 is called.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from .models import SessionPart, StoredSession
from .records import LedgerEntry, PartStatus, SessionKey, SessionRef

_KEY_COLUMNS = ("year", "round_number", "session_type")


def read_ledger(connection: Connection, year: int) -> dict[SessionKey, LedgerEntry]:
    """Stored sessions of ``year`` with their table statuses, keyed by session key."""
    sessions, parts = StoredSession.__table__, SessionPart.__table__
    statuses: dict[SessionKey, dict[str, PartStatus]] = {}
    for row in connection.execute(select(parts).where(parts.c.year == year)).mappings():
        key = SessionKey(row["year"], row["round_number"], row["session_type"])
        statuses.setdefault(key, {})[row["table_name"]] = PartStatus(row["status"])
    ledger = {}
    for row in connection.execute(select(sessions).where(sessions.c.year == year)).mappings():
        key = SessionKey(row["year"], row["round_number"], row["session_type"])
        ledger[key] = LedgerEntry(key=key, statuses=statuses.get(key, {}),
                                  fastf1_version=row["fastf1_version"],
                                  loaded_at_utc=row["loaded_at_utc"],
                                  updated_at_utc=row["updated_at_utc"])
    return ledger


def write_ledger(connection: Connection, ref: SessionRef, fastf1_version: str,
                 parts: Mapping[str, tuple[PartStatus, str | None]]) -> None:
    """Record the session and the new status (and reason) of each table in ``parts``.

    Tables not in ``parts`` keep the status they had. The last statements of the
    session's transaction.
    """
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    key = ref.key
    values = {"year": key.year, "round_number": key.round_number,
              "session_type": key.session_type, "event_name": ref.event_name,
              "country": ref.country, "location": ref.location,
              "event_format": ref.event_format, "session_start_utc": ref.start_utc,
              "fastf1_version": fastf1_version}
    table = StoredSession.__table__
    upsert = (postgresql.insert(table) if connection.dialect.name == "postgresql"
              else sqlite.insert(table))
    statement = upsert.values(**values, loaded_at_utc=now, updated_at_utc=now)
    updates = {name: statement.excluded[name] for name in values if name not in _KEY_COLUMNS}
    updates["updated_at_utc"] = now
    connection.execute(statement.on_conflict_do_update(index_elements=list(_KEY_COLUMNS),
                                                       set_=updates))
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
