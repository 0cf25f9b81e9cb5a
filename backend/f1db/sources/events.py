"""Events and sessions of FastF1's schedule, and finding the ones a user names.

``--event`` takes a round number or a name (FastF1's fuzzy search over event name,
country and location); ``--session`` an abbreviation or a full name, resolved exactly as
FastF1's ``Event.get_session`` resolves it. The schedule's rows become EventRefs and
SessionRefs, the records every later stage passes on.
"""

from __future__ import annotations

import logging
import re
import unicodedata

import pandas as pd

from ..errors import UsageError
from ..records import EventRef, SessionKey, SessionRef
from .fastf1_compat import session_names

log = logging.getLogger(__name__)

SESSION_ABBREVIATIONS = ("FP1", "FP2", "FP3", "Q", "SQ", "SS", "S", "R")


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
                test_number=tests if testing else None, session_number=number,
                live_timing=bool(row.get("F1ApiSupport", True))))
        events.append(EventRef(year, round_number, row["EventName"], index, tuple(sessions)))
    return events


def session_name(identifier: str, year: int) -> str:
    """FastF1's full session name for an abbreviation or name (FP1 -> 'Practice 1')."""
    ABBREVIATIONS = session_names()
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
    named = [event for event in events if _names(event, selector, schedule)]
    if len(named) > 1:
        picked = _fastf1_pick(schedule, selector)
        named = [event for event in named if event.schedule_index == picked] or named
    if len(named) != 1:
        listed = "; ".join(f"{event.round_number} {event.name}" for event in events
                           if event.round_number > 0)
        why = "Several events of {} match" if named else "No event of {} matches"
        raise UsageError(why.format(year) + f" '{selector}'" + (
            f" ({', '.join(event.name for event in named)})" if named else "") +
            f": give a round number or a name from the season: {listed}",
            parameter="events")
    event = named[0]
    if selector.casefold() not in event.name.casefold():
        log.info("Event '%s' matched %s %s", selector, year, event.name)
    return event


# Words that name no particular event: a selector of only these matches nothing.
_COMMON_WORDS = {"grand", "prix", "gp", "the", "of", "de", "formula", "f1", "1"}


def _words(text) -> list[str]:
    """Lower-case words without accents (``São Paulo`` -> ``sao``, ``paulo``)."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", plain.casefold())


def _names(event: EventRef, selector: str, schedule) -> bool:
    """Whether every word of ``selector`` (but the common ones) begins a word of the event's
    name, official name, country or location: ``Monza``, ``British``, ``Vegas`` name their
    events; a name that is not in the season (``Turkish`` in 2024) names none, where a
    fuzzy search would take the nearest event."""
    wanted = [word for word in _words(selector) if word not in _COMMON_WORDS]
    if not wanted:
        return False
    row = schedule.loc[event.schedule_index]
    have = [word for field in ("EventName", "OfficialEventName", "Country", "Location")
            if isinstance(row.get(field), str) for word in _words(row[field])]
    return all(any(word.startswith(part) for word in have) for part in wanted)


def _fastf1_pick(schedule, selector: str):
    """The schedule index FastF1's own fuzzy search picks (None if it picks nothing)."""
    from fastf1.exceptions import FuzzyMatchError

    try:
        found = schedule.get_event_by_name(selector)
    except (FuzzyMatchError, ValueError, KeyError):
        return None
    return None if found is None else found.name


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
