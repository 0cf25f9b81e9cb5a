"""The request budget's log in the database a run writes to, where its dialect shares it
(PostgreSQL): one budget for every process and every Cloud Run or Kubernetes task that
writes to the same database.

Parallel tasks usually leave through one egress address, where FastF1's limits (500
requests an hour, 200 of them to Jolpica) hold for all of them together; a file beside
each task's FastF1 cache cannot see the other tasks. The database they share can.

The table ``request_budget`` (revision 0009, PostgreSQL only) holds one row per request:
its time and whether it went to Jolpica. Each decision is one transaction that first takes
the dialect's named transaction lock, so the decisions of all processes are serialised:
count the last hour, then record, never two grants of the last slot. Times are the
server's clock, so tasks on machines whose clocks disagree still share one window; a
test's fake clock is used as given.

A role that may not write the table (a read-only role making a plan) cannot share the
budget: the caller falls back to the machine's file, saying so once (``NotShared``).
"""

from __future__ import annotations

import logging
import threading
import time as _time
from typing import Callable, TypeVar

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from ..dialects import dialect_of
from ..faults import as_f1db_error, is_database_error, is_permission_denied, is_transient
from ..errors import F1DBError
from .budget import HOUR, LoggedRequests, RequestLog, SystemClock

T = TypeVar("T")

log = logging.getLogger(__name__)

TABLE = "request_budget"
LOCK = "request budget"
# The same statement creates it in revision 0009 and here, for a database whose schema
# the run creates after its first requests (the schedules come before the tables).
CREATE_TABLE = (f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                f"at double precision NOT NULL, jolpica boolean NOT NULL)")
CREATE_INDEX = f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_at ON {TABLE} (at)"
RETRIES = (0.5, 2.0, 5.0)          # seconds before each new attempt after a dropped connection


class NotShared(F1DBError):
    """This role cannot use the database's request log (it may not write or create it)."""


class DatabaseRequestLog:
    """The request log as the table ``request_budget`` of ``engine``'s database."""

    def __init__(self, engine: Engine, *, database: str, clock=None, sleep=_time.sleep):
        """``engine``: the budget's own (its pool is emptied after a dropped connection)."""
        # Read committed whatever the server's or the role's default: each count must see
        # the requests committed while it waited for the lock (a snapshot taken before the
        # wait, as repeatable read takes it, would let two processes take the last slot).
        self.engine = engine.execution_options(isolation_level="READ COMMITTED")
        self.description = f"the request budget in {database}"
        self._server_clock = clock is None or isinstance(clock, SystemClock)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._table_checked = False

    def decide(self, decision: Callable[[LoggedRequests], T]) -> T:
        """``decision`` in one serialised transaction; after a dropped connection it runs
        again from the start (what it recorded counts only once its transaction commits),
        other faults are one line."""
        with self._lock:
            for wait in (*RETRIES, None):
                try:
                    with self.engine.connect() as connection, connection.begin():
                        dialect_of(connection).wait_for_lock(connection, LOCK)
                        self._ensure_table(connection)
                        result = decision(_DatabaseRequests(connection, self._server_clock))
                    self._table_checked = True       # committed: the table is there
                    return result
                except Exception as error:
                    if not is_database_error(error):
                        raise
                    if is_permission_denied(error):
                        raise NotShared(f"this role may not write the table {TABLE} "
                                        f"({as_f1db_error(error)})") from None
                    if wait is None or not is_transient(error):
                        raise as_f1db_error(error) from None
                    log.info("The request budget's connection failed (%s); again in %.1f s",
                             as_f1db_error(error), wait)
                    self.engine.dispose()        # no dead connection is handed out again
                    self._sleep(wait)
        raise AssertionError("unreachable")

    def _ensure_table(self, connection) -> None:
        if self._table_checked:
            return
        if not inspect(connection).has_table(TABLE):
            connection.execute(text(CREATE_TABLE))
            connection.execute(text(CREATE_INDEX))


class _DatabaseRequests:
    def __init__(self, connection, server_clock: bool):
        self._connection = connection
        self._server_clock = server_clock

    def now(self, clock) -> float:
        if not self._server_clock:
            return clock.time()
        return dialect_of(self._connection).server_time(self._connection)

    def times(self, now: float) -> list[tuple[float, bool]]:
        self._connection.execute(text(f"DELETE FROM {TABLE} WHERE at <= :oldest"),
                                 {"oldest": now - HOUR})
        return [(float(at), bool(jolpica)) for at, jolpica in self._connection.execute(
            text(f"SELECT at, jolpica FROM {TABLE} ORDER BY at"))]

    def record(self, at: float, jolpica: bool) -> None:
        self._connection.execute(text(f"INSERT INTO {TABLE} (at, jolpica) VALUES (:at, :j)"),
                                 {"at": at, "j": jolpica})


class SharedOrLocalLog:
    """The database's request log, or the machine's file for a role that cannot use it.

    The fallback is said once, as a warning: the run still keeps FastF1's limits for this
    machine, but no longer shares one budget with the other tasks.
    """

    def __init__(self, shared: DatabaseRequestLog, local: RequestLog):
        self.shared, self.local = shared, local
        self.current: RequestLog = shared
        self.description = shared.description

    def decide(self, decision: Callable[[LoggedRequests], T]) -> T:
        if self.current is self.shared:
            try:
                return self.shared.decide(decision)
            except NotShared as refusal:
                log.warning("The request budget is not shared with other tasks: %s. This "
                            "process counts its requests in %s instead; have the database "
                            "owner grant the role SELECT, INSERT, DELETE on %s",
                            refusal, self.local.description, TABLE)
                self.current, self.description = self.local, self.local.description
        return self.local.decide(decision)
