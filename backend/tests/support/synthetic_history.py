"""Synthetic Jolpica answers for a season before F1's live timing (1979, round 1).

SYNTHETIC DATA: the recordings in ``../shared/fastf1-recorded`` hold the 1979 schedule
(``https://api.jolpi.ca/ergast/f1/1979.json``, real) but no result of that season. These
functions make the race result of its round 1 (the 1979 Argentine Grand Prix) in
Jolpica's exact JSON format from a recorded answer of another season: the race's identity
(season, round, name, circuit, date) is the recorded 1979 schedule's, the result rows are
the recorded 2022 Bahrain race (``2022/1/results.json``) with what Jolpica does not have
for the era left out: no ``code`` or ``permanentNumber`` of a driver, no fastest lap. The
values are not 1979's; their shape is what FastF1's Ergast interface parses for it. The
championship standings after the round come from support/synthetic_jolpica.py. (Jolpica
has no qualifying results before 1994: none is made.)
"""

from __future__ import annotations

import json

from support.synthetic_jolpica import DEFAULT_LIMIT, standings_responses

YEAR, ROUND = 1979, 1
SCHEDULE_URL = "https://api.jolpi.ca/ergast/f1/1979.json"
RESULTS_SOURCE = "https://api.jolpi.ca/ergast/f1/2022/1/results.json"
RACE_EVENT = "Argentine Grand Prix"


def history_responses(responses: dict, *, drivers: int = 20) -> dict:
    """The 1979 round 1 race result and standings, URL -> (status, headers, body).

    ``drivers`` above the recorded 20 adds made-up drivers (``extra_driver_<n>``, last,
    no points) to the race, so that its result and the standings after it (30 rows a
    page, as Jolpica answers by default) take more than one page, as in the 1950s.
    """
    status, headers, body = responses[SCHEDULE_URL]
    race = json.loads(body)["MRData"]["RaceTable"]["Races"][ROUND - 1]
    whole = _answer(responses[RESULTS_SOURCE], race, "Results", "results", drivers=drivers,
                    limit=100)
    # the standings are made from the whole result
    merged = {**responses, _url("results"): whole}
    # asked with ?limit=100 (a session before live timing): every row; asked plainly:
    # Jolpica's first 30-row page
    made = {_url("results") + "?limit=100": whole,
            _url("results"): _answer(responses[RESULTS_SOURCE], race, "Results", "results",
                                     drivers=drivers, limit=DEFAULT_LIMIT)}
    made.update(standings_responses(merged, YEAR, ROUND))
    for offset in range(DEFAULT_LIMIT, drivers, DEFAULT_LIMIT):
        made.update(standings_responses(merged, YEAR, ROUND, limit=DEFAULT_LIMIT,
                                        offset=offset))
    return made


def _url(endpoint: str) -> str:
    return f"https://api.jolpi.ca/ergast/f1/{YEAR}/{ROUND}/{endpoint}.json"


def _answer(recorded, race: dict, rows_key: str, endpoint: str, *, drivers: int,
            limit: int):
    """The first page (``limit`` rows) of the round's answer, ``total`` saying how many
    there are, as Jolpica pages."""
    status, headers, body = recorded
    data = json.loads(body)
    rows = [_of_the_era(row) for row in data["MRData"]["RaceTable"]["Races"][0][rows_key]]
    rows += [_extra_driver(rows[-1], n) for n in range(len(rows) + 1, drivers + 1)]
    data["MRData"]["url"] = _url(endpoint)
    data["MRData"]["total"] = str(len(rows))
    data["MRData"]["limit"] = str(limit)
    rows = rows[:limit]
    data["MRData"]["RaceTable"] = {"season": str(YEAR), "round": str(ROUND),
                                   "Races": [{**race, rows_key: rows}]}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return status, headers, text.encode()


def _extra_driver(last: dict, number: int) -> dict:
    """A made-up driver finishing ``number``-th with no points, in ``last``'s team (car
    number 100 + ``number``: no recorded driver has it)."""
    return {**last, "number": str(100 + number), "position": str(number),
            "positionText": str(number), "points": "0", "grid": str(number),
            "Driver": {**last["Driver"], "driverId": f"extra_driver_{number}",
                       "givenName": "Extra", "familyName": f"Driver {number}",
                       "url": f"https://example.invalid/extra_driver_{number}"}}


def _of_the_era(row: dict) -> dict:
    row = {key: value for key, value in row.items() if key != "FastestLap"}
    row["Driver"] = {key: value for key, value in row["Driver"].items()
                     if key not in ("code", "permanentNumber")}
    return row
