"""FastF1, and only here: cache set-up, the season schedule, one ``Session.load`` per session.

FastF1 never raises for a part it could not load: the attribute raises
``DataNotLoadedError`` when read later (docs/ARCHITECTURE.md, "What FastF1 gives").
``FastF1Source.fetch_session`` reads every requested part right after the load and
reports what was missing, so the populator can store the rest and retry the gap on a
later run. Frames are handed on unshaped (per-driver telemetry as plain DataFrames
sharing FastF1's data); shaping them is the transform's job.

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
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .budget import RequestBudget, SystemClock
from .errors import FetchError, RequestBudgetSpent, TransientError, UsageError, first_line
from .http_meter import RequestMeter
from .models import fact_sources
from .records import EventRef, FetchedSession, SessionKey, SessionRef

log = logging.getLogger(__name__)

SESSION_ABBREVIATIONS = ("FP1", "FP2", "FP3", "Q", "SQ", "SS", "S", "R")
_CLASSIFIED_SESSIONS = {"Race", "Sprint", "Qualifying", "Sprint Qualifying", "Sprint Shootout"}
HTTP_CACHE_FILE = "fastf1_http_cache.sqlite"
BUDGET_FILE = "f1db_request_budget.sqlite"   # beside FastF1's cache: shared by every run

# Requests a cold ``Session.load`` makes (counted through the replayed recordings):
# SessionInfo, DriverList, SessionStatus, TrackStatus, TimingData, TimingAppData and
# RaceControlMessages from live timing, results from Jolpica; WeatherData with weather;
# CarData.z and Position.z with telemetry. A cached session costs nothing.
LOAD_REQUESTS = {"base": 7, "weather": 1, "telemetry": 2}
LOAD_JOLPICA_REQUESTS = 1
# Requests of the calls some tables make besides ``Session.load`` (models.FastF1Part.call),
# as (live timing and other hosts, Jolpica): the circuit layout from the MultiViewer API,
# each standings table from Jolpica.
CALL_REQUESTS = {"circuit_info": (1, 0), "driver_standings": (0, 1),
                 "constructor_standings": (0, 1)}


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
                 wait_for_budget: bool = True, countdown=None, clock=None):
        self.cache_dir = cache_dir
        self.offline = offline
        self.requests_per_hour = requests_per_hour
        self.wait_for_budget = wait_for_budget
        self.clock = clock or SystemClock()
        self.countdown = countdown or (lambda seconds, reason: self.clock.sleep(seconds))
        self.loads = 0
        self.schedules: dict[int, pd.DataFrame] = {}
        self.seasons: dict[int, list[EventRef]] = {}       # the schedules as EventRefs
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

        if self.offline and not (self.cache_dir / HTTP_CACHE_FILE).is_file():
            raise UsageError(f"Offline mode needs a FastF1 cache, but {self.cache_dir} has "
                             f"none: load once online, or use a cache folder that FastF1 "
                             f"has filled", parameter="offline")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"Cannot create the FastF1 cache folder {self.cache_dir}: "
                             f"{error.strerror}", parameter="cache_dir") from None
        fastf1.Cache.configure(cache_dir=str(self.cache_dir))
        fastf1.Cache.offline_mode(self.offline)
        if self.budget is None and not self.offline:
            self.budget = RequestBudget(self.cache_dir / BUDGET_FILE,
                                        requests_per_hour=self.requests_per_hour,
                                        clock=self.clock)
        self.meter = self.meter or RequestMeter(self.budget, wait=self.wait_for_budget,
                                                countdown=self.countdown)
        from fastf1.req import Cache

        for session in (Cache._requests_session_cached, Cache._requests_session):
            if session is not None:
                self.meter.install(session)
        self._fastf1 = fastf1

    @property
    def requests(self) -> int:
        """Real network requests FastF1 made through this source (cache hits excluded)."""
        return self.meter.requests_sent if self.meter else 0

    def ensure_budget(self, tables: set[str]) -> None:
        """Wait (or stop) until the budget has room for a cold load of ``tables``, so a
        session is not started only to stall halfway through with its lock held."""
        if self.budget is None:
            return
        requests, jolpica = estimated_requests(tables)
        self.budget.ensure_room(requests, jolpica, wait=self.wait_for_budget,
                                countdown=self.countdown)

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
            with self._no_credential_prompt():
                schedule = fastf1.get_event_schedule(year, include_testing=include_testing)
        except fastf1.exceptions.RateLimitExceededError as error:
            raise _rate_limited(error) from None
        except ValueError:
            self._raise_budget_refusal()
            if _fastf1_limiter_wait() > 0:      # FastF1 issue #748: a rate limit, not a year
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
            with self._no_credential_prompt():
                session = self._session(ref)
            self.loads += 1
            self.meter.start_load()
            try:
                with self._no_credential_prompt(), _quiet_fastf1_exit():
                    session.load(**load_options(tables))
            except fastf1.exceptions.RateLimitExceededError as error:
                raise _rate_limited(error) from None
            except FetchError:
                raise
            except Exception as error:  # FastF1 parser failures vary by season and session
                self._raise_budget_refusal()
                self._raise_if_transient()
                raise FetchError(f"FastF1 failed to load: {type(error).__name__}: "
                                 f"{first_line(error)}") from None
            self._raise_budget_refusal()
        else:
            self.meter.start_load()
        try:
            with self._no_credential_prompt(), _quiet_fastf1_exit():
                fetched = collect_frames(_Reading(fastf1, session, ref.key), tables)
        except fastf1.exceptions.RateLimitExceededError as error:
            raise _rate_limited(error) from None
        self._raise_budget_refusal()
        # FastF1's Session is a reference cycle (its laps and telemetry point back at it):
        # with telemetry (hundreds of MB), collect it now, so that the frames handed on
        # are freed as soon as they are written, not at some later garbage collection
        # (about 0.07 s; not worth it for the small tables).
        del session
        if any(fact_sources()[table].per_driver for table in fetched.frames):
            gc.collect()
        if fetched.missing or fetched.partial:
            self._raise_if_transient()
        return fetched

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
    def _no_credential_prompt(self):
        """Never let FastF1 prompt for F1 account credentials in the middle of a batch run.

        FastF1 asks on a terminal when ``F1_USERNAME``/``F1_PASSWORD`` are unset; with
        stdin not a terminal it logs a warning and continues without an account instead.
        """
        if self.offline or (os.environ.get("F1_USERNAME") and os.environ.get("F1_PASSWORD")):
            yield
            return
        if not self._warned_no_account:
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


def estimated_requests(tables: set[str] | tuple[str, ...]) -> tuple[int, int]:
    """(all requests, of which Jolpica) a cold fetch of ``tables`` makes: the
    ``Session.load`` if any table needs it, plus each distinct extra call once."""
    sources = [fact_sources()[table] for table in tables]
    live = jolpica = 0
    if any(source.needs_load for source in sources):
        options = load_options(set(tables))
        live = LOAD_REQUESTS["base"] + sum(count for option, count in LOAD_REQUESTS.items()
                                           if option != "base" and options.get(option))
        jolpica = LOAD_JOLPICA_REQUESTS
    for call in {source.call for source in sources if source.call}:
        other, from_jolpica = CALL_REQUESTS[call]
        live, jolpica = live + other, jolpica + from_jolpica
    return live + jolpica, jolpica


def load_options(tables: set[str]) -> dict[str, bool]:
    """``Session.load`` keywords for ``tables``: laps and messages always, the rest on need."""
    options = {"laps": True, "telemetry": False, "weather": False, "messages": True}
    for table, source in fact_sources().items():
        if table in tables and source.load_option:
            options[source.load_option] = True
    return options


class _Missing(Exception):
    """A reader found nothing to store: the part is recorded missing with this reason."""


class _Reading:
    """What the readers of one fetch share: FastF1, its loaded ``Session`` (None when no
    table needed a load), the session's key, and the calls already made (the circuit's
    two tables come from one ``get_circuit_info``)."""

    def __init__(self, fastf1, session, key: SessionKey):
        self.fastf1, self.session, self.key = fastf1, session, key
        self._calls: dict[str, object] = {}

    def once(self, call: str, make):
        """``make()``'s result, made once per fetch; a call that found nothing is not
        made again for the next table that shares it (the same request would go out)."""
        if call not in self._calls:
            try:
                self._calls[call] = make()
            except _Missing as missing:
                self._calls[call] = missing
        if isinstance(self._calls[call], _Missing):
            raise self._calls[call]
        return self._calls[call]

    def loaded(self, attribute: str):
        """A loaded session's attribute, or None when FastF1 could not load it."""
        try:
            return getattr(self.session, attribute)
        except self.fastf1.exceptions.DataNotLoadedError:
            return None


def collect_frames(reading: _Reading, tables: set[str]) -> FetchedSession:
    """Read each requested part of a loaded FastF1 session; note what is missing."""
    fetched = FetchedSession()
    not_loaded_error = reading.fastf1.exceptions.DataNotLoadedError
    for table, source in fact_sources().items():
        if table not in tables:
            continue
        try:
            value = (READERS[source.reader](reading) if source.reader
                     else getattr(reading.session, source.attribute))
        except not_loaded_error:
            fetched.missing[table] = "FastF1 could not load it"
            continue
        except _Missing as missing:
            fetched.missing[table] = str(missing)
            continue
        except reading.fastf1.exceptions.RateLimitExceededError:
            raise
        except Exception as error:   # an extra's reader (FastF1's code) failed: a gap
            if not source.reader:
                raise
            log.debug("Reading %s failed", table, exc_info=True)
            fetched.missing[table] = (f"FastF1 failed to give it: {type(error).__name__}: "
                                      f"{first_line(error)}")
            continue
        if source.per_driver:
            # Plain frames (same data, no copy): FastF1's Telemetry keeps a reference to
            # its Session, which would keep the whole loaded session alive.
            value = {driver: pd.DataFrame(frame) for driver, frame in value.items()}
            empty = not any(len(frame) for frame in value.values())
        else:
            value = pd.DataFrame(value)
            empty = value.empty
        if empty and not source.may_be_empty:
            fetched.missing[table] = "FastF1 returned no rows"
            continue
        fetched.frames[table] = value
        if (table == "results" and reading.session.name in _CLASSIFIED_SESSIONS
                and value.get("Position", pd.Series(dtype=float)).isna().all()):
            fetched.partial[table] = "no classification yet (positions not published)"
    return fetched


def read_session_info(reading: _Reading) -> pd.DataFrame:
    """``Session.session_info`` flattened into one row, with ``t0_date``,
    ``session_start_time`` and ``total_laps`` (None where FastF1 has nothing).

    FastF1's ``StartDate``/``EndDate`` are the circuit's local time: minus ``GmtOffset``
    they are UTC (kept as ``StartDateUtc``/``EndDateUtc``, the contract's ``*_utc``).
    """
    info = reading.session.session_info       # DataNotLoadedError: missing
    if not info:
        raise _Missing("FastF1 has no session info (SessionInfo)")
    meeting = info.get("Meeting") or {}
    country = meeting.get("Country") or {}
    circuit = meeting.get("Circuit") or {}
    offset = info.get("GmtOffset")

    def utc(local):
        return None if local is None or offset is None else local - offset

    return pd.DataFrame([{
        "MeetingKey": meeting.get("Key"), "MeetingName": meeting.get("Name"),
        "MeetingOfficialName": meeting.get("OfficialName"),
        "MeetingLocation": meeting.get("Location"), "CountryKey": country.get("Key"),
        "CountryCode": country.get("Code"), "CountryName": country.get("Name"),
        "CircuitKey": circuit.get("Key"), "CircuitShortName": circuit.get("ShortName"),
        "Key": info.get("Key"), "Type": info.get("Type"), "Number": info.get("Number"),
        "Name": info.get("Name"), "Path": info.get("Path"),
        "ArchiveStatus": (info.get("ArchiveStatus") or {}).get("Status"),
        "StartDateUtc": utc(info.get("StartDate")), "EndDateUtc": utc(info.get("EndDate")),
        "GmtOffset": offset, "T0Date": reading.loaded("t0_date"),
        "SessionStartTime": reading.loaded("session_start_time"),
        "TotalLaps": reading.loaded("total_laps"),
    }])


def circuit_info(reading: _Reading):
    """What ``Session.get_circuit_info()`` gives, step by step, so that each way it can
    come back empty is told apart instead of ending in an AttributeError.

    FastF1 3.9 reads the circuit key from ``session_info`` (Mugello's 2020 key corrected),
    asks the MultiViewer API for the layout (None when it has none), then measures each
    marker's distance on the fastest lap's positions. Without laps FastF1 raises, and
    with position data that does not cover the fastest lap it raises a KeyError; here the
    layout is kept with its distances missing (NaN), as FastF1 leaves them when it has
    laps but no positions.
    """
    def call():
        from fastf1.mvapi import get_circuit_info

        circuit = ((reading.loaded("session_info") or {}).get("Meeting") or {}).get("Circuit")
        if not circuit or circuit.get("Key") is None:
            raise _Missing("FastF1 has no circuit key (no session info)")
        key = circuit["Key"]
        if key == 149 and circuit.get("ShortName") == "Mugello":   # as FastF1 does
            key = 146
        try:
            info = get_circuit_info(year=reading.key.year, circuit_key=key)
        except reading.fastf1.exceptions.RateLimitExceededError:
            raise
        except Exception as error:   # offline without the response, FastF1 fails this way
            log.debug("FastF1's circuit info failed: %s: %s", type(error).__name__, error)
            info = None
        if info is None:
            raise _Missing("FastF1 could not load the circuit layout (MultiViewer API)")
        laps, positions = reading.loaded("laps"), reading.loaded("pos_data")
        fastest = (laps.pick_fastest() if laps is not None and len(laps) and positions
                   else None)      # no positions: FastF1 leaves the distances NaN too
        if fastest is not None and not getattr(fastest, "empty", False):
            try:
                info.add_marker_distance(reference_lap=fastest)
            except Exception as error:   # e.g. telemetry that does not cover the lap
                log.warning("%s: FastF1 could not measure the circuit markers' distances "
                            "(%s: %s); the layout is stored without them", reading.key,
                            type(error).__name__, first_line(error))
                for frame in _marker_frames(info).values():
                    frame["Distance"] = np.nan
        return circuit, info

    return reading.once("circuit_info", call)


def read_circuit_layout(reading: _Reading) -> pd.DataFrame:
    circuit, info = circuit_info(reading)
    measured = any(frame["Distance"].notna().any() for frame in _marker_frames(info).values())
    return pd.DataFrame([{"CircuitKey": circuit.get("Key"),
                          "CircuitShortName": circuit.get("ShortName"),
                          "Rotation": info.rotation,
                          "DistancesFrom": reading.key.session_type if measured else None}])


def read_circuit_markers(reading: _Reading) -> pd.DataFrame:
    """The three marker frames in one, each row tagged with its frame and position."""
    _, info = circuit_info(reading)
    parts = []
    for marker_type, frame in _marker_frames(info).items():
        part = pd.DataFrame(frame).reset_index(drop=True)
        part.insert(0, "sequence", np.arange(len(part), dtype=np.int64))
        part.insert(0, "marker_type", marker_type)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def unmeasured_layout(fetched: FetchedSession) -> bool:
    """Whether the fetched circuit layout has no marker distances (no laps or no
    positions in this load): it must not replace a stored layout that has them."""
    layout = fetched.frames.get("circuit_layouts")
    return layout is not None and layout["DistancesFrom"].isna().all()


def _marker_frames(info) -> dict[str, pd.DataFrame]:
    return {"corner": info.corners, "marshal_light": info.marshal_lights,
            "marshal_sector": info.marshal_sectors}


def _standings_reader(kind: str):
    def read(reading: _Reading) -> pd.DataFrame:
        """The championship after the session's round, from Jolpica through FastF1."""
        from fastf1.ergast import Ergast

        year, round_number = reading.key.year, reading.key.round_number
        try:
            response = getattr(Ergast(result_type="pandas", auto_cast=True),
                               f"get_{kind}_standings")(season=year, round=round_number)
        except reading.fastf1.exceptions.ErgastError as error:
            raise _Missing(f"Jolpica gave no {kind} standings: {first_line(error)}") from None
        published = [frame for frame, (_, row) in zip(response.content,
                                                      response.description.iterrows())
                     if int(row.get("round", -1)) == round_number]
        if not published or published[0].empty:
            raise _Missing(f"Jolpica has not published the {kind} standings after round "
                           f"{round_number} yet")
        return published[0]
    return read


# Readers of the tables whose source is not a plain Session attribute (FastF1Part.reader).
READERS = {"session_info": read_session_info, "circuit_layout": read_circuit_layout,
           "circuit_markers": read_circuit_markers,
           "driver_standings": _standings_reader("driver"),
           "constructor_standings": _standings_reader("constructor")}


def events_from_schedule(schedule: pd.DataFrame, year: int) -> list[EventRef]:
    """FastF1's ``EventSchedule`` as EventRefs; testing events get rounds -1, -2, ..."""
    events, tests = [], 0
    for index, row in schedule.iterrows():
        testing = row["EventFormat"] == "testing"
        if testing:
            tests += 1
        round_number = -tests if testing else int(row["RoundNumber"])
        sessions = []
        for number in range(1, 6):
            name = row.get(f"Session{number}")
            if not isinstance(name, str) or not name or name == "None":
                continue
            start = row.get(f"Session{number}DateUtc")
            sessions.append(SessionRef(
                key=SessionKey(year, round_number, name), event_name=row["EventName"],
                country=_text(row.get("Country")), location=_text(row.get("Location")),
                event_format=_text(row.get("EventFormat")),
                start_utc=None if pd.isna(start) else pd.Timestamp(start).to_pydatetime(),
                test_number=tests if testing else None, session_number=number))
        events.append(EventRef(year, round_number, row["EventName"], index, tuple(sessions)))
    return events


def session_name(identifier: str, year: int) -> str:
    """FastF1's full session name for an abbreviation or name (FP1 -> 'Practice 1')."""
    from fastf1.events import _SESSION_TYPE_ABBREVIATIONS as ABBREVIATIONS

    for name in ABBREVIATIONS.values():
        if identifier.casefold() == name.casefold():
            break
    else:
        name = ABBREVIATIONS.get(identifier.upper())
    if name is None:
        raise UsageError(f"Unknown session '{identifier}': use one of "
                         f"{' '.join(SESSION_ABBREVIATIONS)} or a full name like 'Practice 1'",
                         parameter="sessions")
    if name == "Sprint Qualifying" and year in (2021, 2022):
        name = "Sprint"    # FastF1's own correction: the 2021-22 sprint race had that name
    return name


def match_event(events: list[EventRef], selector: str, year: int, schedule=None) -> EventRef:
    """An event by round number or by FastF1's fuzzy search over name, country, location."""
    selector = selector.strip()
    if selector.lstrip("-").isdigit():
        wanted = int(selector)
        for event in events:
            if event.round_number == wanted:
                return event
        rounds = [e.round_number for e in events if e.round_number > 0]
        span = f"rounds {min(rounds)}-{max(rounds)}" if rounds else "no rounds"
        raise UsageError(f"{year} has no round {wanted} ({span})", parameter="events")
    from fastf1.exceptions import FuzzyMatchError

    try:
        found = schedule.get_event_by_name(selector)
    except (FuzzyMatchError, ValueError, KeyError):
        found = None
    if found is None:
        raise UsageError(f"No event matching '{selector}' in {year}: use a round number or "
                         f"an event name such as '{events[-1].name}'", parameter="events")
    event = next(e for e in events if e.schedule_index == found.name)
    if selector.casefold() not in event.name.casefold():
        log.info("Event '%s' matched %s %s", selector, year, event.name)
    return event


def _rate_limited(error) -> FastF1RateLimited:
    wait = max(_fastf1_limiter_wait(), 60.0)
    return FastF1RateLimited(f"FastF1's rate limit was reached ({error})", wait)


def _fastf1_limiter_wait() -> float:
    """Seconds until FastF1's own per-hour limiters (``fastf1.req``, in this process) let a
    request through again; 0 when they would now."""
    from fastf1 import req

    now, wait = time.time(), 0.0
    for limiters in req._SessionWithRateLimiting._RATE_LIMITS.values():
        for limiter in limiters:
            stamps = getattr(limiter, "_timestamps", None)
            interval = getattr(limiter, "_interval", 0)
            # The next request pushes out the oldest stamp; FastF1 then compares the
            # second oldest with the hour.
            if stamps is not None and len(stamps) == stamps.maxlen and len(stamps) > 1:
                wait = max(wait, stamps[1] + interval - now)
    return wait


@contextlib.contextmanager
def _quiet_fastf1_exit():
    # FastF1's parsed-data cache may call exit() when a re-download fails.
    try:
        yield
    except SystemExit as error:
        raise FetchError(f"FastF1 gave up (exit {error.code}) while reading its cache: "
                         f"delete the session's folder in the FastF1 cache and retry") from None


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
