"""The questions whose answers differ between PostgreSQL and SQLite, asked in one place.

Everything above this package (load.py, claims.py, schema.py, db.py, ledger.py, the run)
is written once for both databases and asks its dialect (``dialect_of(engine)``) where
they differ: how rows travel (binary COPY or executemany), how a write transaction starts
and which locks it holds, how two workers exclude each other from one session or from a
schema migration, how an upsert is spelled, which rows the server refused and whether a
write is worth overlapping with the next load. A second storage layout, or a third
database, is a new implementation of this class, not edits spread over the library.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ContextManager, Iterable, Iterator, Sequence

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Column, Connection, Engine, Table
    from sqlalchemy.engine import URL

    from ..records import SessionKey
    from .columns import OnRows
    from .pg_copy import PreparedCopy


class Claim:
    """A session held by this worker: read its ledger entry, then write it.

    ``reading()`` yields a connection that sees what other workers committed before the
    claim was taken; ``writing()`` yields the connection of the transaction that stores
    the session (it commits when the block ends without an error, rolls back otherwise).
    """

    def reading(self) -> ContextManager[Connection]:
        raise NotImplementedError

    def writing(self) -> ContextManager[Connection]:
        raise NotImplementedError


class Dialect:
    """One database engine's way of doing what the library needs (see the module doc)."""

    name: str = ""
    # Whether a session's write runs in a background thread while FastF1 loads the next
    # session (run/write_behind.py): worth it when the write is mostly the server's work,
    # in another process; not when the write runs in this process (it then only contends
    # with FastF1's parse for the GIL and the cores).
    writes_behind: bool = False
    # Whether a reader gains from reading two tables at once on two connections: when the
    # server does most of the work (PostgreSQL), not when this process does (SQLite).
    reads_in_parallel: bool = False
    # Whether the request budget is kept in this database (sources/budget_db.py), shared by
    # every process and task writing to it: a server many machines reach (PostgreSQL), not
    # a file on one machine (SQLite: the file beside the FastF1 cache does that already).
    shares_request_budget: bool = False
    # Whether an empty database is created by running the schema's creation script
    # (migrations/head/<name>.sql) in one go: a server reached over the network gains a
    # round trip per statement saved (PostgreSQL: 220-odd, sent as one simple query); SQLite
    # runs one statement per call either way, so it replays the revisions.
    creates_from_script: bool = False

    # -- connecting ------------------------------------------------------------------------

    def create_engine(self, url: URL, *, parameter: str | None = None,
                      write: bool = True) -> Engine:
        """The engine of ``url``. ``write``: the caller will write (a database it may not
        write is refused, ConfigError); otherwise it may be opened read-only."""
        raise NotImplementedError

    def server_time(self, connection: Connection) -> float:
        """Now by the database server's clock, in seconds since the epoch: one clock for
        every machine that shares the database."""
        raise NotImplementedError

    # -- rows ------------------------------------------------------------------------------

    def write_rows(self, connection: Connection, table: Table, columns: Sequence[Column],
                   chunks: Iterator[pd.DataFrame], on_rows: OnRows) -> int:
        """Insert ``chunks`` (transformed frames with ``columns``, in that order) into
        ``table``; returns the rows inserted. Rows the server refuses raise the driver's
        error (``is_refusal`` tells them apart)."""
        raise NotImplementedError

    def prepare_rows(self, table: Table, frames: Iterable[pd.DataFrame]) -> PreparedCopy | None:
        """Encode ``frames`` for a later :meth:`write_prepared` (None: this dialect writes
        straight from the frames, and the caller keeps them)."""
        return None

    def write_prepared(self, connection: Connection, table: Table, prepared: PreparedCopy,
                       on_rows: OnRows) -> int:
        raise NotImplementedError(f"{self.name} writes no prepared rows")

    def is_refusal(self, error: BaseException) -> bool:
        """Whether ``error`` is the server refusing the rows themselves (a duplicate key, a
        value that does not fit): permanent, unlike a dropped connection."""
        raise NotImplementedError

    def upsert(self, table: Table):
        """An INSERT of ``table`` that supports ``.on_conflict_do_update(...)``."""
        raise NotImplementedError

    def table_columns(self, connection: Connection) -> dict[str, set[str]]:
        """Every table and view of the schema in use, with its columns (one query)."""
        raise NotImplementedError

    # -- transactions and locks ------------------------------------------------------------

    def begin_writing(self, connection: Connection, lock: str | None = None) -> None:
        """Start a transaction that will write, holding the named lock ``lock`` (if any)
        until it ends (:meth:`wait_for_lock`)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def writing_transaction(self, engine: Engine, lock: str | None = None
                            ) -> Iterator[Connection]:
        """A transaction that will write (:meth:`begin_writing`), committed when the block
        ends without an error, rolled back otherwise."""
        with engine.connect() as connection:
            self.begin_writing(connection, lock)
            try:
                yield connection
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    def wait_for_lock(self, connection: Connection, label: str) -> None:
        """Hold the lock named ``label`` until ``connection``'s transaction ends, waiting
        for another worker that holds it: for rows several sessions write (an event's
        circuit layout) or every run refreshes (a season's calendar)."""
        raise NotImplementedError

    def claim_session(self, engine: Engine, key: SessionKey
                      ) -> contextlib.AbstractContextManager[Claim | None]:
        """The session's claim, or None at once when another worker holds it."""
        raise NotImplementedError

    def schema_lock(self, engine: Engine, describe: str, timeout: float
                    ) -> contextlib.AbstractContextManager[Connection]:
        """A connection on which this process alone checks and changes the schema, other
        processes waiting up to ``timeout`` (then SchemaError); committed when the block
        ends without an error."""
        raise NotImplementedError

    # -- reading (the read side) ---------------------------------------------------------

    def read_only(self, engine: Engine) -> Engine:
        """``engine`` with every transaction read-only where the database can say so (a
        reader that tried to write would fail instead of writing), the connections it
        already holds included."""
        return engine

    def read_frame(self, connection: Connection, columns: Sequence[Column], where: Sequence,
                   order_by: Sequence[Column]) -> pd.DataFrame:
        """The rows of ``columns`` matching ``where`` in ``order_by`` order, as a stored
        frame (one dtype per SQL type, dialects/reading.py)."""
        from .reading import read_frame

        return read_frame(connection, columns, where, order_by)

    # -- roles -----------------------------------------------------------------------------

    def may_not_create_tables(self, connection: Connection) -> tuple[str, str] | None:
        """(role, schema) when this role may not create tables, which creating or migrating
        the schema needs; None when it may (or the database has no roles)."""
        return None

    def require_privileges(self, engine: Engine, tables: Sequence[Table], access: str) -> None:
        """Refuse (PermissionProblem) when this role may not read ("read") or also write
        ("write") every one of ``tables``; a database without roles has nothing to check."""


def still_locked_message(describe: str, timeout: float, detail: str = "") -> str:
    """Why a run gave up waiting for another run's schema migration."""
    return (f"Another run has been creating or upgrading the schema of {describe} for more "
            f"than {timeout:.0f} s{detail}: wait until it ends, then run again")


def on_every_connection(engine: Engine, set_up) -> Engine:
    """Run ``set_up(dbapi_connection)`` once on each connection of ``engine`` before its
    first use: those the pool already holds and those it opens later (a "checkout" event
    marked in the connection's record, so a pooled connection is not thrown away)."""
    from sqlalchemy import event

    def checkout(dbapi_connection, record, _proxy) -> None:
        if not record.info.get(set_up.__name__):
            set_up(dbapi_connection)
            record.info[set_up.__name__] = True

    event.listen(engine, "checkout", checkout)
    return engine
