"""FastF1, set up and loaded: the cache, offline mode, the schedule, one ``Session.load``.

FastF1 never raises for a part it could not load: the attribute raises
``DataNotLoadedError`` when read later (docs/ARCHITECTURE.md, "What FastF1 gives (3.9,
checked)"). ``FastF1Source.fetch_session`` runs every requested table's reader
(readers.py) right after the load and reports what was missing, so the run can store the
rest and retry the gap on a later run. Frames are handed on unshaped (per-driver telemetry as plain
DataFrames sharing FastF1's data); shaping them is the transform's job.

Every real network request FastF1 makes passes the ``RequestMeter`` (http_meter.py),
which charges the machine-wide request budget (budget.py) and notes transient HTTP
faults. FastF1 turns most of those into a missing part; a load that saw one and came
back with a gap raises TransientError instead, so the session is retried rather than
stored with a hole a passing 503 made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import (CacheProblem, FetchError, RequestBudgetSpent, TransientError, UsageError,
                      first_line)
from ..models import fact_sources
from ..records import EventRef, FetchedSession, SessionRef
from . import fastf1_readers  # noqa: F401  (registers the readers of FastF1's tables)
from . import jolpica_api
from .budget import FileRequestLog, RequestBudget, RequestLog, SystemClock
from .cache_health import HTTP_CACHE_FILE, cache_problem, check_cache_folder, refuse_a_file
from .events import events_from_schedule, match_event
from .fastf1_compat import http_sessions, limiter_wait_seconds, load_without_live_timing
from .fastf1_costs import estimated_requests, load_options
from .http_meter import RequestMeter
from .readers import Reading, collect_frames

log = logging.getLogger(__name__)

BUDGET_FILE = "f1db_request_budget.sqlite"   # beside FastF1's cache: shared by every run


class FastF1RateLimited(FetchError):
    """FastF1's own per-process limiter refused a request; ``wait_seconds`` until it
    lets requests through again."""

    def __init__(self, message: str, wait_seconds: float):
        super().__init__(message)
        self.wait_seconds = wait_seconds


class FastF1Source:
    """FastF1 behind a small interface; counts the ``Session.load`` calls it makes.

    Building one changes nothing: FastF1's cache settings are process-wide, so they are
    applied by :meth:`start`, which the populator calls when a run starts.
    """

    def __init__(self, *, cache_dir: Path, offline: bool = False, requests_per_hour: int = 500,
                 wait_for_budget: bool = True, countdown=None, clock=None,
                 shared_log: Callable[[], RequestLog | None] | None = None):
        self.cache_dir = cache_dir
        self.offline = offline
        self.requests_per_hour = requests_per_hour
        self.wait_for_budget = wait_for_budget
        self.clock = clock or SystemClock()
        self.countdown = countdown or (lambda seconds, reason: self.clock.sleep(seconds))
        self.loads = 0
        self.schedules: dict[int, pd.DataFrame] = {}
        self.seasons: dict[int, list[EventRef]] = {}       # the schedules as EventRefs
        # Where the budget is shared beyond this machine (the target database's log), made
        # when the first run starts; None, or a factory returning None: the file beside
        # the cache, shared by this machine's processes.
        self.shared_log = shared_log
        self.budget: RequestBudget | None = None
        self.meter: RequestMeter | None = None
        self._fastf1 = None
        self._warned_no_account = False

    @property
    def version(self) -> str:
        import fastf1

        return fastf1.__version__

    def start(self) -> None:
        """Point FastF1 at this source's cache (and offline mode), again on every call: the
        settings are process-wide, and something else may have changed them since."""
        import fastf1

        refuse_a_file(self.cache_dir)       # before "has no cache", which would be wrong
        if self.offline and not (self.cache_dir / HTTP_CACHE_FILE).is_file():
            raise UsageError(f"Offline mode needs a FastF1 cache, but {self.cache_dir} has "
                             f"none: load once online, or use a cache folder that FastF1 "
                             f"has filled", parameter="offline")
        check_cache_folder(self.cache_dir)
        fastf1.Cache.configure(cache_dir=str(self.cache_dir))
        fastf1.Cache.offline_mode(self.offline)
        if self.budget is None and not self.offline:
            self.budget = RequestBudget(self._request_log(),
                                        requests_per_hour=self.requests_per_hour,
                                        clock=self.clock)
        self.meter = self.meter or RequestMeter(self.budget, wait=self.wait_for_budget,
                                                countdown=self.countdown)
        for session in http_sessions():
            self.meter.install(session)
        self._fastf1 = fastf1

    def _request_log(self) -> RequestLog:
        local = FileRequestLog(self.cache_dir / BUDGET_FILE)
        shared = self.shared_log() if self.shared_log is not None else None
        if shared is None:
            return local
        from .budget_db import SharedOrLocalLog

        return SharedOrLocalLog(shared, local)

    @property
    def requests(self) -> int:
        """Real network requests FastF1 made through this source (cache hits excluded)."""
        return self.meter.requests_sent if self.meter else 0

    def ensure_budget(self, tables: set[str], *, live_timing: bool = True) -> None:
        """Wait (or stop) until the budget has room for a cold load of ``tables``, so a
        session is not started only to stall halfway through with its lock held."""
        if self.budget is None:
            return
        requests, jolpica = estimated_requests(tables, live_timing=live_timing)
        self.budget.ensure_room(requests, jolpica, wait=self.wait_for_budget,
                                countdown=self.countdown)

    def history_races(self, year: int) -> list[dict]:
        """The season's rounds from Jolpica (the API's ``Races``), one request."""
        return self._jolpica(1, lambda fastf1: jolpica_api.season_races(fastf1, year))

    def history_round(self, year: int, round_number: int) -> dict[str, list[dict]]:
        """Every Jolpica answer a history round needs (jolpica_api.round_answers), after
        waiting until the budget has room for them."""
        return self._jolpica(jolpica_api.round_requests(year),
                             lambda fastf1: jolpica_api.round_answers(fastf1, year,
                                                                      round_number))

    def _jolpica(self, requests: int, ask):
        fastf1 = self.fastf1
        if self.budget is not None:
            self.budget.ensure_room(requests, requests, wait=self.wait_for_budget,
                                    countdown=self.countdown)
        try:
            with self._no_credential_prompt(live_timing=False):
                return ask(fastf1)
        except fastf1.exceptions.RateLimitExceededError as error:
            raise _rate_limited(error) from None

    def wait_out(self, error: FastF1RateLimited) -> None:
        """FastF1's own limiter refused: wait until it lets requests through, or stop."""
        if not self.wait_for_budget:
            raise RequestBudgetSpent(f"{error}: rerun later; stored sessions are kept",
                                     retry_at=self.clock.time() + error.wait_seconds)
        self.countdown(error.wait_seconds, str(error))

    @property
    def fastf1(self):
        if self._fastf1 is None:
            self.start()
        return self._fastf1

    def offline_cache_changed_utc(self) -> dt.datetime | None:
        """When the offline cache's HTTP responses last changed (None when online)."""
        if not self.offline:
            return None
        files = list(self.cache_dir.glob(f"{HTTP_CACHE_FILE}*"))
        if not files:
            return None
        newest = max(path.stat().st_mtime for path in files)
        return dt.datetime.fromtimestamp(newest, dt.timezone.utc).replace(tzinfo=None)

    def season(self, year: int, *, include_testing: bool = False) -> list[EventRef]:
        """The season's events in schedule order (testing first, when asked for)."""
        fastf1 = self.fastf1
        self.meter.start_load()
        try:
            with self._no_credential_prompt(live_timing=False):
                schedule = fastf1.get_event_schedule(year, include_testing=include_testing)
        except fastf1.exceptions.RateLimitExceededError as error:
            raise _rate_limited(error) from None
        except ValueError:
            self._raise_budget_refusal()
            if limiter_wait_seconds() > 0:      # FastF1 issue #748: a rate limit, not a year
                raise _rate_limited("Failed to load any schedule data") from None
            where = (f"in the FastF1 cache at {self.cache_dir} (offline mode)" if self.offline
                     else "from FastF1 (no network, or no such season)")
            raise UsageError(f"No event schedule for {year} {where}: check the year"
                             + (", or load it online first" if self.offline else ""),
                             parameter="offline" if self.offline else "year") from None
        except SystemExit:
            raise FetchError(f"FastF1 stopped while reading the {year} schedule: delete "
                             f"{self.cache_dir} and retry") from None
        self._raise_budget_refusal()
        if schedule.empty:
            raise UsageError(f"FastF1 lists no events for {year}: F1 data starts in 1950, "
                             f"and a future season has no schedule yet", parameter="year")
        self.schedules[year] = schedule
        self.seasons[year] = events_from_schedule(schedule, year)
        return self.seasons[year]

    def find_event(self, events: list[EventRef], selector: str) -> EventRef:
        year = events[0].year
        return match_event(events, selector, year, self.schedules[year])

    def fetch_session(self, ref: SessionRef, tables: set[str]) -> FetchedSession:
        """Call ``Session.load`` once (none when no table needs it) and collect the
        frames of ``tables``."""
        fastf1 = self.fastf1
        session = None
        if any(fact_sources()[table].needs_load for table in tables):
            with self._no_credential_prompt(ref.live_timing):
                session = self._session(ref)
            self.loads += 1
            self.meter.start_load()
            try:
                with self._no_credential_prompt(ref.live_timing), _quiet_fastf1_exit():
                    options = load_options(tables, live_timing=ref.live_timing)
                    if ref.live_timing:
                        session.load(**options)
                    else:
                        load_without_live_timing(session, **options)
            except fastf1.exceptions.RateLimitExceededError as error:
                raise _rate_limited(error) from None
            except FetchError:
                raise
            except Exception as error:  # FastF1 parser failures vary by season and session
                self._raise_budget_refusal()
                self._raise_if_cache_failed()
                self._raise_if_transient()
                raise FetchError(f"FastF1 failed to load: {type(error).__name__}: "
                                 f"{first_line(error)}") from None
            self._raise_budget_refusal()
        else:
            self.meter.start_load()
        try:
            with self._no_credential_prompt(ref.live_timing), _quiet_fastf1_exit():
                fetched = collect_frames(Reading(fastf1, session, ref.key), tables)
        except fastf1.exceptions.RateLimitExceededError as error:
            raise _rate_limited(error) from None
        self._raise_budget_refusal()
        # FastF1's Session is a reference cycle (its laps and telemetry point back at it):
        # with telemetry (hundreds of MB), collect it now, so that the frames handed on
        # are freed as soon as they are written, not at some later garbage collection
        # (a full collection: not worth it for the small tables).
        del session
        if any(fact_sources()[table].per_driver for table in fetched.frames):
            gc.collect()
        if fetched.missing or fetched.partial:
            self._raise_if_cache_failed()
            self._raise_if_transient()
        return fetched

    def _raise_if_cache_failed(self) -> None:
        """A load came back with gaps: if the cache folder can no longer be used (a full
        disk, a read-only mount, a damaged HTTP cache file), the gaps are the cache's, not
        live timing's: stop before the session is stored without them."""
        problem = cache_problem(self.cache_dir)
        if problem:
            raise CacheProblem(problem, parameter="cache_dir")

    def _raise_budget_refusal(self) -> None:
        """A spent budget (``wait_for_budget=False``) that FastF1 caught and logged."""
        if self.meter.budget_refusal is not None:
            raise self.meter.budget_refusal

    def _raise_if_transient(self) -> None:
        faults = self.meter.transient_faults()
        if faults:
            more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
            raise TransientError(f"network fault while FastF1 loaded: {faults[0]}{more}")

    def _session(self, ref: SessionRef):
        try:
            if ref.test_number is not None:
                return self.fastf1.get_testing_session(ref.key.year, ref.test_number,
                                                       ref.session_number)
            schedule = self.schedules.get(ref.key.year)
            event = (schedule.get_event_by_round(ref.key.round_number) if schedule is not None
                     else self.fastf1.get_event(ref.key.year, ref.key.round_number))
            return event.get_session(ref.key.session_type)
        except (ValueError, KeyError) as error:
            raise FetchError(f"FastF1 cannot open the session: {first_line(error)}") from None

    @contextlib.contextmanager
    def _no_credential_prompt(self, live_timing: bool = True):
        """Never let FastF1 prompt for F1 account credentials in the middle of a batch run.

        FastF1 asks on a terminal when ``F1_USERNAME``/``F1_PASSWORD`` are unset; with
        stdin not a terminal it logs a warning and continues without an account instead.
        The warning that no account is set comes with the first session that reads live
        timing (``live_timing``): a run of seasons before 2018 never does.
        """
        if self.offline or (os.environ.get("F1_USERNAME") and os.environ.get("F1_PASSWORD")):
            yield
            return
        if live_timing and not self._warned_no_account:
            log.warning("F1_USERNAME/F1_PASSWORD are not set: live timing is requested "
                        "without an F1 account (see .env.example)")
            self._warned_no_account = True
        saved, devnull = sys.stdin, open(os.devnull)
        sys.stdin = devnull
        try:
            yield
        finally:
            sys.stdin = saved
            devnull.close()


def import_fastf1() -> None:
    """Import FastF1 now (with its logger, which installs a console handler on import), so
    that logging set up afterwards replaces FastF1's handler instead of being replaced."""
    import fastf1.logger  # noqa: F401


def _rate_limited(error) -> FastF1RateLimited:
    wait = max(limiter_wait_seconds(), 60.0)
    return FastF1RateLimited(f"FastF1's rate limit was reached ({error})", wait)


@contextlib.contextmanager
def _quiet_fastf1_exit():
    # FastF1's parsed-data cache may call exit() when a re-download fails.
    try:
        yield
    except SystemExit as error:
        raise FetchError(f"FastF1 gave up (exit {error.code}) while reading its cache: "
                         f"delete the session's folder in the FastF1 cache and retry") from None


