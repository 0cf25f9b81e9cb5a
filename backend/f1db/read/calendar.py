"""The stored calendar as FastF1's schedule, and finding the session a reader names.

``events`` and ``event_sessions`` hold FastF1's schedule of every season a run read; put
back together they are the ``EventSchedule`` ``fastf1.get_event_schedule`` gave (local
session times from the UTC time and the circuit's offset, testing events as round 0), so
the event and session names a reader gives are matched exactly as ``populate_db.py``
matches them (f1db.sources.events), and the ``Session`` it gets has FastF1's ``Event``.
"""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from ..errors import NotStored, UsageError
from ..models import Event, EventSession
from ..records import EventRef, SessionKey
from ..sources.events import events_from_schedule, match_event, session_name
from . import fastf1_compat

SESSIONS_PER_EVENT = 5        # Session1 .. Session5 in FastF1's schedule


@dataclass(frozen=True)
class NamedSession:
    """The session a reader named: its key, FastF1's ``Event`` and how to store it."""

    key: SessionKey
    event: pd.Series
    event_name: str

    def command(self, *flags: str) -> str:
        """The populate_db.py command that stores this session (with ``flags``)."""
        return " ".join(["python populate_db.py", "--year", str(self.key.year),
                         "--event", shlex.quote(self.event_name),
                         "--session", shlex.quote(self.key.session_type), *flags])


def stored_schedule(connection: Connection, year: int):
    """The season's stored calendar as FastF1's ``EventSchedule`` (empty when none)."""
    events = pd.DataFrame(connection.execute(select(Event.__table__).where(
        Event.year == year)).mappings().all(), columns=list(Event.__table__.columns.keys()))
    sessions = pd.DataFrame(connection.execute(select(EventSession.__table__).where(
        EventSession.year == year)).mappings().all(),
        columns=list(EventSession.__table__.columns.keys()))
    return schedule_frame(events, sessions, year)


def schedule_frame(events: pd.DataFrame, sessions: pd.DataFrame, year: int):
    """Rows of ``events`` and ``event_sessions`` as FastF1's ``EventSchedule`` (pure)."""
    rows = []
    events = events.sort_values(["event_date", "round_number"], kind="stable")
    by_round: dict[int, dict] = {}
    for stored_session in sessions.itertuples(index=False):
        if pd.notna(stored_session.session_number):
            by_round.setdefault(int(stored_session.round_number), {})[
                int(stored_session.session_number)] = stored_session
    for event in events.itertuples(index=False):
        row = {"RoundNumber": max(int(event.round_number), 0), "Country": event.country,
               "Location": event.location, "OfficialEventName": event.official_event_name,
               "EventDate": pd.Timestamp(event.event_date) if event.event_date else pd.NaT,
               "EventName": event.event_name, "EventFormat": event.event_format}
        by_number = by_round.get(int(event.round_number), {})
        for number in range(1, SESSIONS_PER_EVENT + 1):
            found = by_number.get(number)
            row[f"Session{number}"] = found.session_type if found is not None else None
            row[f"Session{number}Date"] = _local(found) if found is not None else pd.NaT
            row[f"Session{number}DateUtc"] = (pd.Timestamp(found.session_start_utc)
                                              if found is not None else pd.NaT)
        row["F1ApiSupport"] = bool(event.f1_api_support)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=_SCHEDULE_COLUMNS)
    for number in range(1, SESSIONS_PER_EVENT + 1):
        frame[f"Session{number}DateUtc"] = pd.to_datetime(frame[f"Session{number}DateUtc"])
        frame[f"Session{number}Date"] = frame[f"Session{number}Date"].astype(object)
    frame["EventDate"] = pd.to_datetime(frame["EventDate"])
    frame["RoundNumber"] = frame["RoundNumber"].astype("int64")
    frame["F1ApiSupport"] = frame["F1ApiSupport"].astype(bool)
    return fastf1_compat.event_schedule(frame, year)


_SCHEDULE_COLUMNS = ["RoundNumber", "Country", "Location", "OfficialEventName", "EventDate",
                     "EventName", "EventFormat"] + [
    f"Session{number}{suffix}" for number in range(1, SESSIONS_PER_EVENT + 1)
    for suffix in ("", "Date", "DateUtc")] + ["F1ApiSupport"]


def _local(session) -> pd.Timestamp:
    """The session's local start: its UTC start at the circuit's offset (as FastF1 has it)."""
    if pd.isna(session.session_start_utc) or pd.isna(session.gmt_offset_ms):
        return pd.NaT
    offset = dt.timedelta(milliseconds=int(session.gmt_offset_ms))
    return (pd.Timestamp(session.session_start_utc).tz_localize("UTC")
            .tz_convert(dt.timezone(offset)))


def find_session(connection: Connection, year: int, event: str | int,
                 session: str | int) -> NamedSession:
    """The stored calendar's session named like populate_db.py's ``--event``/``--session``
    (a round number or a name; an abbreviation, a full name or a session number)."""
    schedule = stored_schedule(connection, year)
    if schedule.empty:
        raise NotStored(f"No {year} calendar is stored: store the season's sessions first, "
                        f"e.g. python populate_db.py --year {year} --max-events 0",
                        command=f"python populate_db.py --year {year} --max-events 0")
    refs = events_from_schedule(schedule, year)
    found: EventRef = match_event(refs, str(event), year, schedule)
    names = {ref.key.session_type: ref for ref in found.sessions}
    if isinstance(session, int) or str(session).strip().isdigit():
        numbered = [ref for ref in found.sessions if ref.session_number == int(session)]
        if not numbered:
            raise UsageError(f"{year} {found.name} has no session {session} (it has "
                             f"{', '.join(names)})", parameter="session")
        name = numbered[0].key.session_type
    else:
        name = session_name(str(session), year)
    if name not in names:
        raise UsageError(f"{year} {found.name} has no {name} (it has {', '.join(names)})",
                         parameter="session")
    fastf1_event = schedule.loc[found.schedule_index]
    return NamedSession(names[name].key, fastf1_event, found.name)
