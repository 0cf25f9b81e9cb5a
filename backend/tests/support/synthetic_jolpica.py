"""Synthetic championship standings in the Jolpica (Ergast successor) JSON format.

SYNTHETIC DATA: the recordings in ``../shared/fastf1-recorded`` hold no standings responses
(no ``driverStandings`` / ``constructorStandings`` URL at all). These functions make them
from a *recorded race result* (``https://api.jolpi.ca/ergast/f1/{year}/{round}/results.json``)
so that FastF1's own Ergast interface (``fastf1.ergast.Ergast().get_driver_standings`` /
``get_constructor_standings``) parses them exactly as it parses a real download.

The standings are those after a season's first round, so they equal that race:

- drivers: ``Driver`` and ``Constructor`` objects as recorded in the result; points = the
  race points (as recorded: a string such as ``"26"``), wins = ``"1"`` for the winner,
  ``"0"`` otherwise; ordered by points, ties by finishing position (the countback of a
  single race); ``position`` / ``positionText`` are that order as strings;
- constructors: points and wins summed over their drivers, ordered by points, ties by
  their drivers' finishing positions (best first).

They answer at exactly the URLs FastF1 3.9 requests with ``Ergast()`` defaults::

    https://api.jolpi.ca/ergast/f1/{year}/{round}/driverStandings.json
    https://api.jolpi.ca/ergast/f1/{year}/{round}/constructorStandings.json

(``Ergast._build_url``: season, round, then the endpoint; ``Ergast._get`` sends
``params={"limit": None, "offset": None}`` and requests leaves out parameters whose value is
None, so there is no query string unless ``Ergast(limit=...)`` or ``offset=`` is used.)

The envelope is Jolpica's: ``MRData`` with ``xmlns`` (``""``), ``series`` (``"f1"``),
``url`` (the requested URL without its query, as Jolpica echoes it), ``limit`` (30 by
default, at most 100), ``offset``, ``total`` (number of standings rows) and
``StandingsTable {season, round, StandingsLists: [{season, round, DriverStandings |
ConstructorStandings: [...]}]}``; every value is a string, the JSON is compact UTF-8 (Django
REST framework's defaults), as Jolpica sends it. Before Jolpica has published a round it
answers 200 with an empty ``StandingsLists`` and ``total`` ``"0"``
(:func:`empty_standings_responses`).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from support.fastf1_replay import load_recordings, normalise_url

JOLPICA_URL = "https://api.jolpi.ca/ergast/f1"
DEFAULT_LIMIT = 30   # Jolpica's page size when the request gives no limit
MAX_LIMIT = 100      # Jolpica answers at most this many rows per page

# Response headers of the recorded Jolpica responses that matter to a client (the rest are
# Cloudflare's). ``Cache-Control: max-age=600`` makes FastF1's requests-cache treat a
# response as fresh for 10 minutes (then stale; offline mode still serves it).
JOLPICA_HEADERS = {"Content-Type": "application/json", "Cache-Control": "max-age=600",
                   "allow": "GET, HEAD, OPTIONS", "vary": "Accept, origin, accept-encoding"}

# Every recorded (year, round) with a race result (``{year}/{round}/results.json``), from
# INDEX.tsv of ../shared/fastf1-recorded.
RECORDED_RESULTS = ((2020, 7), (2020, 8), (2020, 12), (2021, 1), (2021, 10), (2021, 14),
                    (2021, 21), (2022, 1), (2022, 2), (2022, 10), (2023, 1), (2023, 5),
                    (2025, 1), (2025, 4), (2025, 12), (2025, 16), (2026, 2))
# The first rounds among them: standings after them equal the race, so only these make
# truthful standings. 2022 round 1 (Bahrain) is also a recorded Race session
# (conftest.RECORDED_SESSIONS), the one a standings load goes with.
FIRST_ROUNDS_WITH_RESULTS = ((2021, 1), (2022, 1), (2023, 1), (2025, 1))
BAHRAIN_2022 = (2022, 1)


def results_url(year: int, round_number: int) -> str:
    return f"{JOLPICA_URL}/{year}/{round_number}/results.json"


def driver_standings_url(year: int, round_number: int, *, limit: int | None = None,
                         offset: int | None = None) -> str:
    """The URL ``Ergast(limit=limit).get_driver_standings(season=year, round=round_number,
    offset=offset)`` requests (normalised: query parameters sorted)."""
    return _url(year, round_number, "driverStandings", limit, offset)


def constructor_standings_url(year: int, round_number: int, *, limit: int | None = None,
                              offset: int | None = None) -> str:
    """The URL ``Ergast(...).get_constructor_standings(season=year, round=round_number)``
    requests (normalised)."""
    return _url(year, round_number, "constructorStandings", limit, offset)


def _url(year, round_number, endpoint, limit, offset) -> str:
    query = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
    url = f"{JOLPICA_URL}/{year}/{round_number}/{endpoint}.json"
    return normalise_url(url + ("?" + urlencode(query) if query else ""))


def recorded_results_rounds(responses: dict | None = None) -> list[tuple[int, int]]:
    """(year, round) of every race result in ``responses`` (default: the recordings)."""
    responses = load_recordings() if responses is None else responses
    prefix = JOLPICA_URL + "/"
    found = []
    for url, (status, _headers, _body) in responses.items():
        if status != 200 or not url.startswith(prefix) or not url.endswith("/results.json"):
            continue
        parts = url[len(prefix):].split("/")
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            found.append((int(parts[0]), int(parts[1])))
    return sorted(found)


# --- standings -------------------------------------------------------------------------------

def standings_responses(responses: dict, year: int, round_number: int, *,
                        limit: int | None = None, offset: int | None = None,
                        pretend_first_round: bool = False) -> dict:
    """Driver and constructor standings after ``round_number`` of ``year``, synthetic.

    Built from the recorded race result of that round in ``responses`` (e.g.
    ``load_recordings()``). Returns only the new entries, ``{normalised URL: (200, headers,
    body)}``; merge them into the responses given to ``replaying``/``serving``.

    Args:
        limit, offset: as given to FastF1 (``Ergast(limit=...)``, ``offset=``), which puts
            them in the query string; default: none, as ``Ergast()`` sends.
        pretend_first_round: standings after a later round are not the race alone; they
            are refused unless this is set, and then still made from that race only.

    Raises:
        ValueError: not a first round (see ``pretend_first_round``).
        KeyError: no recorded 200 result for that round in ``responses``.
    """
    if round_number != 1 and not pretend_first_round:
        raise ValueError(f"standings after {year} round {round_number} are not that race "
                         "alone; use a first round (FIRST_ROUNDS_WITH_RESULTS) or "
                         "pretend_first_round=True")
    results = _recorded_results(responses, year, round_number)
    return _standings_answers(year, round_number, _driver_standings(results),
                              _constructor_standings(results), limit, offset)


def empty_standings_responses(year: int, round_number: int, *, limit: int | None = None,
                              offset: int | None = None) -> dict:
    """The same URLs answering as Jolpica does before it has published the round: 200,
    ``StandingsTable`` with ``season``, ``round`` and an empty ``StandingsLists``, total "0".
    """
    return _standings_answers(year, round_number, None, None, limit, offset)


def _standings_answers(year, round_number, drivers, constructors, limit, offset) -> dict:
    """Both standings URLs with their answers (``None`` rows: the unpublished answer)."""
    return {
        driver_standings_url(year, round_number, limit=limit, offset=offset): _answer(
            year, round_number, "driverStandings", "DriverStandings", drivers, limit, offset),
        constructor_standings_url(year, round_number, limit=limit, offset=offset): _answer(
            year, round_number, "constructorStandings", "ConstructorStandings", constructors,
            limit, offset),
    }


def _recorded_results(responses: dict, year: int, round_number: int) -> list[dict]:
    url = normalise_url(results_url(year, round_number))
    recorded = responses.get(url)
    if recorded is None or recorded[0] != 200:
        raise KeyError(f"no recorded race result for {year} round {round_number} ({url})")
    races = json.loads(recorded[2])["MRData"]["RaceTable"]["Races"]
    if len(races) != 1 or not races[0].get("Results"):
        raise KeyError(f"the recorded result of {year} round {round_number} has no results")
    return races[0]["Results"]


def _finish(result: dict) -> int:
    return int(result["position"])


def _driver_standings(results: list[dict]) -> list[dict]:
    ranked = sorted(results, key=lambda r: (-float(r["points"]), _finish(r)))
    return [{"position": str(n), "positionText": str(n), "points": r["points"],
             "wins": "1" if _finish(r) == 1 else "0",
             "Driver": r["Driver"], "Constructors": [r["Constructor"]]}
            for n, r in enumerate(ranked, start=1)]


def _constructor_standings(results: list[dict]) -> list[dict]:
    teams: dict[str, dict] = {}   # constructorId -> totals, in order of first appearance
    for r in results:
        team = teams.setdefault(r["Constructor"]["constructorId"], {
            "Constructor": r["Constructor"], "points": 0.0, "wins": 0, "finishes": []})
        team["points"] += float(r["points"])
        team["wins"] += _finish(r) == 1
        team["finishes"].append(_finish(r))
    ranked = sorted(teams.values(), key=lambda t: (-t["points"], sorted(t["finishes"])))
    return [{"position": str(n), "positionText": str(n), "points": _points_text(t["points"]),
             "wins": str(t["wins"]), "Constructor": t["Constructor"]}
            for n, t in enumerate(ranked, start=1)]


def _points_text(points: float) -> str:
    """Points as Jolpica writes them: "43", "0", "12.5"."""
    return str(int(points)) if points == int(points) else repr(points)


def _answer(year, round_number, endpoint, list_key, rows, limit, offset):
    page_limit = DEFAULT_LIMIT if limit is None else min(int(limit), MAX_LIMIT)
    page_offset = 0 if offset is None else int(offset)
    rows = rows or []
    page = rows[page_offset:page_offset + page_limit]
    standings_lists = ([{"season": str(year), "round": str(round_number), list_key: page}]
                       if page else [])
    document = {"MRData": {
        "xmlns": "", "series": "f1",
        "url": f"{JOLPICA_URL}/{year}/{round_number}/{endpoint}.json",
        "limit": str(page_limit), "offset": str(page_offset), "total": str(len(rows)),
        "StandingsTable": {"season": str(year), "round": str(round_number),
                           "StandingsLists": standings_lists}}}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return 200, dict(JOLPICA_HEADERS), body
