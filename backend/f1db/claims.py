"""Per-session claims, so that any number of workers never load one session twice.

A worker claims a session before FastF1 is called, reads the session's ledger entry again
once the claim is held (another worker may have stored it meanwhile), and gives the claim
up only after the session's transaction has ended. A claim another worker holds is not
waited for: the session is skipped ("held by another worker") and the other worker loads it.

How a claim is held is the dialect's (dialects/): a transaction-level advisory lock on
PostgreSQL, taken in the transaction that later writes the session's rows; a lock file per
session beside a SQLite file, whose rows are then written in a ``BEGIN IMMEDIATE``
transaction. Rows several sessions write (an event's circuit layout) or every run
refreshes (a season's calendar) are written under a named lock (:func:`writing_transaction`).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import Connection, Engine

from .dialects import Claim, dialect_of
from .ledger import read_entry
from .records import LedgerEntry, SessionKey


class HeldSession:
    """A session this worker holds: read its ledger entry, then write it in
    :meth:`writing` (the transaction whose end releases the claim on PostgreSQL)."""

    def __init__(self, claim: Claim, key: SessionKey):
        self._claim, self.key = claim, key

    def read_entry(self) -> LedgerEntry | None:
        with self._claim.reading() as connection:
            return read_entry(connection, self.key)

    def writing(self) -> contextlib.AbstractContextManager[Connection]:
        return self._claim.writing()


class SessionClaims:
    """Hands out claims on sessions of the database ``engine`` writes to."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._dialect = dialect_of(engine)

    @contextlib.contextmanager
    def claim(self, key: SessionKey) -> Iterator[HeldSession | None]:
        """The session's claim, or None when another worker holds it."""
        with self._dialect.claim_session(self.engine, key) as claim:
            yield None if claim is None else HeldSession(claim, key)


def writing_transaction(engine: Engine, lock: str | None = None
                        ) -> contextlib.AbstractContextManager[Connection]:
    """A transaction that will write, committed when the block ends without an error,
    holding the lock named ``lock`` (if any) until then (:func:`wait_for_lock`)."""
    return dialect_of(engine).writing_transaction(engine, lock)


def wait_for_lock(connection: Connection, label: str) -> None:
    """Hold the lock named ``label`` until ``connection``'s transaction ends, waiting for
    another worker that holds it: without it, two PostgreSQL transactions that both
    replace the same rows would both insert, and the second would fail on the first's keys."""
    dialect_of(connection).wait_for_lock(connection, label)
