"""Per-session locks, so that any number of workers never load one session twice.

A worker claims a session before FastF1 is called, reads the session's ledger entry again
once the claim is held (another worker may have stored it meanwhile), and gives the claim
up only after the session's transaction has ended. A claim another worker holds is not
waited for: the session is skipped ("held by another worker") and the other worker loads it.

* PostgreSQL: ``pg_try_advisory_xact_lock`` on a key hashed from the session key, taken
  in the transaction that later writes the session's rows. The lock ends with that
  transaction (commit, rollback, or the connection dying with its process), and it works
  behind transaction-pooling proxies, unlike a session-level advisory lock.
* SQLite: a lock file per session (``filelock``) beside the database file, held by the
  process (the OS drops it if the process dies); the rows are written in a
  ``BEGIN IMMEDIATE`` transaction, which waits (busy timeout) while another run writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, text

from .ledger import read_entry
from .records import LedgerEntry, SessionKey


def advisory_key(key: SessionKey) -> int:
    """A stable signed 64-bit key (Python's hash() differs between processes)."""
    return _stable_key(f"f1db session {key.year} {key.round_number} {key.session_type}")


def _stable_key(label: str) -> int:
    digest = hashlib.blake2b(label.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def wait_for_lock(connection: Connection, label: str) -> None:
    """Hold the lock named ``label`` until ``connection``'s transaction ends, waiting for
    another worker that holds it.

    For rows several sessions write (an event's circuit layout) or every run refreshes
    (a season's ``events``): without it, two PostgreSQL transactions that both replace
    the same rows would both insert, and the second would fail on the first's keys. On
    SQLite, ``BEGIN IMMEDIATE`` already lets one writer in at a time.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": _stable_key(f"f1db {label}")})


class Claim:
    """A held session: read its ledger entry, then write it in :meth:`writing`."""

    def read_entry(self) -> LedgerEntry | None:
        raise NotImplementedError

    def writing(self) -> contextlib.AbstractContextManager[Connection]:
        raise NotImplementedError


class _PostgresClaim(Claim):
    def __init__(self, connection: Connection, key: SessionKey):
        self.connection, self.key = connection, key

    def read_entry(self):
        return read_entry(self.connection, self.key)

    @contextlib.contextmanager
    def writing(self):
        # The claim's own transaction: it commits when the claim ends without an error.
        yield self.connection


class _SqliteClaim(Claim):
    def __init__(self, engine: Engine, key: SessionKey):
        self.engine, self.key = engine, key

    def read_entry(self):
        with self.engine.connect() as connection:
            return read_entry(connection, self.key)

    def writing(self):
        return writing_transaction(self.engine)


@contextlib.contextmanager
def writing_transaction(engine: Engine, lock: str | None = None) -> Iterator[Connection]:
    """A transaction that will write, committed when the block ends without an error.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock up front (waiting out another writer)
    instead of at the first write, where a read snapshot could make SQLite refuse without
    waiting. PostgreSQL: the advisory lock named ``lock`` (:func:`wait_for_lock`), if any.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.begin()
            if lock is not None:
                wait_for_lock(connection, lock)
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


class SessionClaims:
    """Hands out claims on sessions of the database ``engine`` writes to."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"
        if not self.postgresql:
            path = Path(engine.url.database).expanduser().resolve()
            self.lock_dir = path.with_name(path.name + ".locks")

    @contextlib.contextmanager
    def claim(self, key: SessionKey) -> Iterator[Claim | None]:
        """The session's claim, or None when another worker holds it."""
        if self.postgresql:
            with self.engine.connect() as connection, connection.begin():
                held = connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                          {"key": advisory_key(key)}).scalar()
                yield _PostgresClaim(connection, key) if held else None
            return
        self.lock_dir.mkdir(exist_ok=True)
        lock = FileLock(self.lock_dir / f"{_file_name(key)}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            yield None
            return
        try:
            yield _SqliteClaim(self.engine, key)
        finally:
            lock.release()


def _file_name(key: SessionKey) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "_", f"{key.year}_{key.round_number}_{key.session_type}")
