"""The request budget: one sliding hour of real network requests, shared by every process on
the machine and surviving restarts, so a long run stays under FastF1's rate limits.

FastF1 limits requests per process, in memory (``fastf1/req.py``): every URL ("any API")
500 an hour, Jolpica (``jolpi.ca``, counted in both) 200 an hour. Its limiter records the
request, then raises ``RateLimitExceededError`` when it holds that many within the hour,
so the 500th (200th) request of an hour raises: at most 499 (199) succeed. The caps here
are therefore 499 and 199: a request is granted only while fewer than the cap were made in
the last 3600 s, by any process using the same file. Each process's own FastF1 count is a
subset of that log, and FastF1 times a request before we do, so FastF1 never raises.
``requests_per_hour`` (N <= 500; several tasks behind one egress IP split 500 between
them) lowers the caps to N - 1 and 200 * N / 500 - 1 (at least 1): fewer than N in any
hour, the way FastF1 counts its own 500, so k tasks at N = 500 / k stay under 500 together.

Storage: a request log, one row per request with its time and whether it went to
Jolpica; rows older than an hour are deleted. Every decision is one transaction that
excludes every other process's (count, then insert), so concurrent processes never lose a
count or both get the last slot. The log is a small SQLite file (``FileRequestLog``; the
caller puts it beside the FastF1 cache: every process of the machine shares it), or a
table of the PostgreSQL database the run writes to (budget_db.py: every process and
every Cloud Run or Kubernetes task writing to that database shares it).

Why not pyrate-limiter (4.5): its SQLite bucket counts and inserts in a DEFERRED
transaction and is only safe across processes behind an extra file lock; its blocking wait
sleeps inside the library with ``time.sleep`` (no countdown to show, no fake clock); it
cannot charge one request to two limits atomically (any API and Jolpica); and it has no
"how long would N more requests take" for the plan. This is ~150 lines of stdlib instead.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import os
import re
import sqlite3
import threading
import time as _time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, TypeVar

from ..errors import ConfigError, RequestBudgetSpent, UsageError

HOUR = 3600.0
MIN_INTERVAL = 0.25            # FastF1 waits at least this long between two requests
FASTF1_LIMITS = {"any": 500, "jolpica": 200}
JOLPICA_URL = re.compile(r"^https?://(\w+\.)?jolpi\.ca")   # FastF1's own pattern
BUSY_TIMEOUT = 60.0            # seconds to wait for another process's (tiny) transaction

T = TypeVar("T")
Countdown = Callable[[float, str], None]   # blocks for the seconds, showing the reason


class SystemClock:
    """The real clock; tests pass an object with the same two methods."""

    time = staticmethod(_time.time)
    sleep = staticmethod(_time.sleep)


@dataclass(frozen=True)
class LimitUsage:
    used: int          # requests in the last hour
    cap: int           # requests allowed in any hour
    frees_in: float    # seconds until a slot is free (0.0: one is free now)


def is_jolpica(url: str) -> bool:
    return bool(JOLPICA_URL.match(url or ""))


class LoggedRequests(Protocol):
    """A request log inside one of its transactions (``RequestLog.decide``)."""

    def now(self, clock) -> float:
        """The time the log's window is measured against (seconds since the epoch)."""

    def times(self, now: float) -> list[tuple[float, bool]]:
        """Forget requests an hour old at ``now``; the rest as (time, to Jolpica), oldest
        first."""

    def record(self, at: float, jolpica: bool) -> None:
        """Add one request."""


class RequestLog(Protocol):
    """Where a budget keeps the last hour's requests, shared by whoever uses the same one."""

    description: str     # for messages: "the request budget file ...", "... in <database>"

    def decide(self, decision: Callable[[LoggedRequests], T]) -> T:
        """Run ``decision`` (count, then maybe record) in one transaction that no other
        process's overlaps, and return what it returns."""


class RequestBudget:
    """Grants real network requests while the last hour holds fewer than the caps.

    ``log``: where the requests are counted, a ``RequestLog`` or the path of a SQLite file
    (``FileRequestLog``).
    """

    def __init__(self, log: RequestLog | Path | str, *, requests_per_hour: int = 500,
                 clock=None):
        if not isinstance(requests_per_hour, int) or not 1 <= requests_per_hour <= 500:
            raise UsageError(f"The request budget must be 1 to 500 requests an hour, not "
                             f"{requests_per_hour}", parameter="requests_per_hour")
        self.log = log if hasattr(log, "decide") else FileRequestLog(log)
        self.clock = clock or SystemClock()
        self.caps = {"any": max(1, requests_per_hour - 1),
                     "jolpica": max(1, FASTF1_LIMITS["jolpica"] * requests_per_hour // 500 - 1)}

    def try_take(self, url: str) -> float:
        """Record one request to ``url`` and return 0.0 if both limits allow it; otherwise
        record nothing and return the seconds until a slot frees."""
        def take_one(logged: LoggedRequests) -> float:
            now = logged.now(self.clock)
            wait = self._wait(logged, now, 1, int(is_jolpica(url)))
            if wait == 0.0:
                logged.record(now, is_jolpica(url))
            return wait

        return self.log.decide(take_one)

    def take(self, url: str, *, wait: bool, countdown: Countdown | None = None) -> None:
        """Record one request to ``url``, waiting for a slot (``countdown`` shows the wait;
        None: sleep silently) or, with ``wait=False``, raising RequestBudgetSpent."""
        while (seconds := self.try_take(url)) > 0:
            self._spent(seconds, wait, countdown)

    def ensure_room(self, requests: int, jolpica_requests: int, *, wait: bool,
                    countdown: Countdown | None = None) -> None:
        """Return once ``requests`` (all kinds) of which ``jolpica_requests`` to Jolpica are
        free (capped at the limits), so a session does not start without the budget to
        finish, stalling mid-load with a database lock held. Records nothing."""
        while True:
            seconds = self.log.decide(lambda logged: self._wait(
                logged, logged.now(self.clock), requests, jolpica_requests))
            if seconds == 0.0:
                return
            self._spent(seconds, wait, countdown)

    def usage(self) -> dict[str, LimitUsage]:
        """Per limit ("any", "jolpica"): requests in the last hour, cap, seconds to a slot."""
        now, times = self.log.decide(self._window)
        return {name: LimitUsage(len(times[name]), cap, _frees_in(times[name], cap, 1, now))
                for name, cap in self.caps.items()}

    def seconds_needed(self, requests: int, jolpica_requests: int) -> float:
        """Wall time to make ``requests`` more (``jolpica_requests`` of them to Jolpica) under
        the caps, given the last hour's requests: FastF1's 0.25 s spacing and the waits
        for slots, not the transfers. Jolpica ones go first whenever their limit allows."""
        now, times = self.log.decide(self._window)
        windows = {name: collections.deque(times[name], maxlen=cap)
                   for name, cap in self.caps.items()}
        jolpica_left, other_left = jolpica_requests, max(0, requests - jolpica_requests)
        last = now - MIN_INTERVAL
        while jolpica_left or other_left:
            at = _earliest(windows["any"], self.caps["any"], max(now, last + MIN_INTERVAL))
            at_jolpica = _earliest(windows["jolpica"], self.caps["jolpica"], at)
            if jolpica_left and (not other_left or at_jolpica == at):
                at, jolpica_left = at_jolpica, jolpica_left - 1
                windows["jolpica"].append(at)
            else:
                other_left -= 1
            windows["any"].append(at)
            last = at
        return max(0.0, last - now)

    # --- internals ---------------------------------------------------------------------

    def _spent(self, seconds: float, wait: bool, countdown: Countdown | None) -> None:
        usage = self.usage()
        counts = (f"{usage['any'].used}/{usage['any'].cap} requests, "
                  f"{usage['jolpica'].used}/{usage['jolpica'].cap} to Jolpica, in the last hour")
        retry_at = self.clock.time() + seconds
        if not wait:
            at = dt.datetime.fromtimestamp(math.ceil(retry_at / 60) * 60, dt.timezone.utc)
            raise RequestBudgetSpent(f"The hour's request budget is spent ({counts}): rerun "
                                     f"later (at {at:%H:%M} UTC)", retry_at=retry_at)
        if countdown is None:
            self.clock.sleep(seconds)
        else:
            countdown(seconds, f"Request budget spent ({counts})")

    def _wait(self, logged: LoggedRequests, now: float, requests: int,
              jolpica_requests: int) -> float:
        times = self._times(logged, now)
        return max(_frees_in(times["any"], self.caps["any"], requests, now),
                   _frees_in(times["jolpica"], self.caps["jolpica"], jolpica_requests, now))

    def _window(self, logged: LoggedRequests) -> tuple[float, dict[str, list[float]]]:
        now = logged.now(self.clock)
        return now, self._times(logged, now)

    @staticmethod
    def _times(logged: LoggedRequests, now: float) -> dict[str, list[float]]:
        rows = logged.times(now)
        return {"any": [at for at, _ in rows], "jolpica": [at for at, j in rows if j]}


class FileRequestLog:
    """The request log in a small SQLite file: every process of the machine that uses the
    same file shares the budget. ``BEGIN IMMEDIATE`` makes the others wait for a decision;
    any sqlite3 error becomes one ConfigError line."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.description = f"the request budget file {self.path}"
        self._db: sqlite3.Connection | None = None
        self._pid = None
        self._lock = threading.Lock()

    def decide(self, decision: Callable[[LoggedRequests], T]) -> T:
        with self._lock:
            try:
                db = self._connection()
                db.execute("BEGIN IMMEDIATE")
                try:
                    result = decision(_FileRequests(db))
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
                return result
            except sqlite3.Error as error:
                self._close()
                raise self._failure(error) from None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():   # never share one across fork
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                                       check_same_thread=False)
            self._pid = os.getpid()
            self._db.execute("CREATE TABLE IF NOT EXISTS requests "
                             "(at REAL NOT NULL, jolpica INTEGER NOT NULL)")
        return self._db

    def _close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    def _failure(self, error: sqlite3.Error) -> ConfigError:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if "locked" in message or "busy" in message:
            what = (f"stayed locked by another process for {BUSY_TIMEOUT:.0f} s: "
                    f"check what else uses it")
        elif "readonly" in message or "unable to open" in message or "permission" in message:
            what = "cannot be written: fix the permissions of the file and its folder"
        else:
            what = "is unreadable: delete it (it holds only the last hour's request times)"
        return ConfigError(f"The request budget file {self.path} {what} ({message})")


class _FileRequests:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    @staticmethod
    def now(clock) -> float:
        return clock.time()

    def times(self, now: float) -> list[tuple[float, bool]]:
        self._db.execute("DELETE FROM requests WHERE at <= ?", (now - HOUR,))
        return [(at, bool(jolpica)) for at, jolpica in
                self._db.execute("SELECT at, jolpica FROM requests ORDER BY at")]

    def record(self, at: float, jolpica: bool) -> None:
        self._db.execute("INSERT INTO requests (at, jolpica) VALUES (?, ?)",
                         (at, int(jolpica)))


def _frees_in(times: list[float], cap: int, needed: int, now: float) -> float:
    """Seconds until ``needed`` (at most ``cap``) more fit among ``times`` (sorted, in the
    window): a request counts while less than an hour old, like FastF1's."""
    excess = len(times) + min(needed, cap) - cap
    return 0.0 if needed <= 0 or excess <= 0 else max(0.0, times[excess - 1] + HOUR - now)


def _earliest(window: collections.deque, cap: int, at: float) -> float:
    """Earliest moment from ``at`` when one more request fits (``window``: the last cap)."""
    return max(at, window[0] + HOUR) if len(window) == cap else at
