"""What a run covers: the checks of a run's arguments, and the sessions it selects.

Pure: no FastF1, no database. Messages name the populator's keywords (``parameter``);
the command line words them as its flags.
"""

from __future__ import annotations

import datetime as dt

from .errors import UsageError
from .models import TABLE_NAMES, TELEMETRY_TABLES, fact_sources
from .records import EventRef, SessionRef

FIRST_SEASON = 1950


def last_season() -> int:
    """Next year: the furthest season FastF1 can have a schedule for."""
    return dt.datetime.now(dt.timezone.utc).year + 1


def check_year(year) -> int:
    if (isinstance(year, bool) or not isinstance(year, int)
            or not FIRST_SEASON <= year <= last_season()):
        raise UsageError(f"The season must be a year from {FIRST_SEASON} to {last_season()}, "
                         f"not {year!r}", parameter="year")
    return year


def check_years(years) -> tuple[int, ...]:
    """One season or several (any iterable of years), checked, in order, without repeats."""
    chosen = (years,) if isinstance(years, int) else tuple(years)
    if not chosen:
        raise UsageError("No season given: name at least one year", parameter="year")
    return tuple(dict.fromkeys(sorted(check_year(year) for year in chosen)))


def parse_years(text: str) -> tuple[int, ...]:
    """``2023``, ``2018-2024``, ``2019,2021`` or a mix (``2018-2019,2023``) as years."""
    years: list[int] = []
    for part in str(text).split(","):
        bounds = [bound.strip() for bound in part.split("-")]
        if not 1 <= len(bounds) <= 2 or not all(bound.isdigit() for bound in bounds):
            raise UsageError(f"Cannot read '{part.strip()}' as a season: use a year (2023), a "
                             f"range (2018-2024) or a list (2019,2021)", parameter="year")
        first, last = int(bounds[0]), int(bounds[-1])
        if last < first:
            raise UsageError(f"The range {part.strip()} runs backwards: write {last}-{first}",
                             parameter="year")
        years += range(first, last + 1)
    return check_years(years)


def check_max_events(max_events) -> int | None:
    """None or 0: no limit."""
    if max_events is None:
        return None
    if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
        raise UsageError(f"The number of events must be 0 (no limit) or more, "
                         f"not {max_events!r}", parameter="max_events")
    return max_events or None


def choose_tables(names: tuple[str, ...] | None = None, *,
                  telemetry: bool = True) -> tuple[str, ...]:
    """Tables to fill, in table order: ``names`` (None: all), less telemetry and positions
    when ``telemetry`` is false."""
    chosen = list(TABLE_NAMES) if names is None else [n.strip() for n in names if n.strip()]
    unknown = [name for name in chosen if name not in TABLE_NAMES]
    if unknown or not chosen:
        raise UsageError(f"Unknown table {', '.join(unknown) or '(none given)'}: choose from "
                         f"{','.join(TABLE_NAMES)}", parameter="tables")
    if not telemetry:
        chosen = [name for name in chosen if name not in TELEMETRY_TABLES]
        if not chosen:
            raise UsageError("Leaving out telemetry leaves none of the chosen tables to load",
                             parameter="tables")
    return tuple(name for name in TABLE_NAMES if name in chosen)


def tables_of_session(tables: tuple[str, ...], session_type: str, *,
                      live_timing: bool = True, year: int | None = None) -> tuple[str, ...]:
    """The chosen tables a session has (the standings come with the race only) and that
    exist for its era (``live_timing`` false, before 2018: what Jolpica has for
    ``year``)."""
    sources = fact_sources()
    return tuple(table for table in tables if sources[table].applies_to(session_type)
                 and sources[table].exists(session_type, live_timing, year))


def tables_not_available(tables: tuple[str, ...], session_type: str, *,
                         live_timing: bool = True, year: int | None = None
                         ) -> tuple[str, ...]:
    """The chosen tables a session would have, but which cannot exist for its era: a
    session before F1's live timing has no laps, telemetry, weather or messages, a
    qualifying before 1994 no results either."""
    sources = fact_sources()
    return tuple(table for table in tables if sources[table].applies_to(session_type)
                 and not sources[table].exists(session_type, live_timing, year))


# Tables loaded again with any load of their session (models.FastF1Part.with_every_load),
# and those whose reader makes no Session.load (plan.plan_session's rules).
RIDE_ALONG = tuple(table for table, source in fact_sources().items() if source.with_every_load)
WITHOUT_LOAD = tuple(table for table, source in fact_sources().items()
                     if not source.needs_load)


def select_sessions(events: list[EventRef], session_names: tuple[str, ...], year: int,
                    max_events: int | None = None) -> list[tuple[EventRef, list[SessionRef]]]:
    """The first ``max_events`` of ``events`` with their sessions named in ``session_names``
    (all when empty); events without such a session are left out."""
    selection = []
    for event in events[:max_events] if max_events else events:
        refs = [ref for ref in event.sessions
                if not session_names or ref.key.session_type in session_names]
        if refs:
            selection.append((event, refs))
    if not selection and session_names:
        raise UsageError(f"No session {', '.join(session_names)} in the selected {year} "
                         f"events: pick sessions the event has (a sprint weekend has SQ/SS "
                         f"and S)", parameter="sessions")
    if not selection:
        raise UsageError(f"FastF1's schedule lists no session for the selected {year} events",
                         parameter="events")
    return selection
