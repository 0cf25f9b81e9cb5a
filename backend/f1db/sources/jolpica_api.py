"""Jolpica's history through FastF1's Ergast interface: a season's rounds, a round's answers.

Every request goes through FastF1 (``fastf1.ergast.Ergast``), so it passes the request meter
and the machine's request budget like the standings' (Jolpica: FastF1 keeps it to 200 an
hour) and is kept in FastF1's HTTP cache. Pages hold at most 100 rows: every page is
followed. Each endpoint is asked only from the first season Jolpica has it
(``FIRST_SEASON``), so a 1950s round costs three requests, not seven.
"""

from __future__ import annotations

import math

from ..errors import FetchError, first_line
from .fastf1_compat import JOLPICA_MAX_PAGE
from .fastf1_readers import every_page

# Ergast endpoint -> (FastF1's Ergast method, the first season Jolpica has it: docs/DATA.md)
ENDPOINTS = {
    "results": ("get_race_results", 1950),
    "sprint": ("get_sprint_results", 2021),
    "qualifying": ("get_qualifying_results", 1994),
    "laps": ("get_lap_times", 1996),
    "pitstops": ("get_pit_stops", 2011),
    "driverStandings": ("get_driver_standings", 1950),
    "constructorStandings": ("get_constructor_standings", 1958),
}
# Requests a round's lap times take: about 1,100 timings at 100 a page.
LAP_TIME_PAGES = 12


def endpoints_of(year: int) -> list[str]:
    """The endpoints a round of ``year`` is asked for."""
    return [endpoint for endpoint, (_, first) in ENDPOINTS.items() if year >= first]


def round_requests(year: int) -> int:
    """About how many requests a round of ``year`` takes through the API."""
    return sum(LAP_TIME_PAGES if endpoint == "laps" else 1 for endpoint in endpoints_of(year))


def season_requests(year: int, rounds: int) -> int:
    """About how many requests a season of ``rounds`` rounds takes (its schedule too)."""
    return 1 + math.ceil(rounds * round_requests(year))


def ergast(fastf1):
    """FastF1's Ergast interface answering Jolpica's JSON as it is, 100 rows a page."""
    from fastf1.ergast import Ergast

    return Ergast(result_type="raw", auto_cast=False, limit=JOLPICA_MAX_PAGE)


def season_races(fastf1, year: int) -> list[dict]:
    """The season's rounds (the API's ``Races`` of its schedule), in order."""
    return _all_rows(fastf1, ergast(fastf1).get_race_schedule, season=year)


def round_answers(fastf1, year: int, round_number: int) -> dict[str, list[dict]]:
    """Every page of every endpoint a round of ``year`` has: endpoint -> the rows of all
    its pages (``Race`` objects, or ``StandingsLists`` for the standings)."""
    interface = ergast(fastf1)
    return {endpoint: _all_rows(fastf1, getattr(interface, ENDPOINTS[endpoint][0]),
                                season=year, round=round_number)
            for endpoint in endpoints_of(year)}


def _all_rows(fastf1, method, **selectors) -> list[dict]:
    try:
        pages = every_page(method(**selectors))
    except fastf1.exceptions.ErgastError as error:
        raise FetchError(f"Jolpica did not answer as expected: {first_line(error)}") from None
    return [row for page in pages for row in page]
