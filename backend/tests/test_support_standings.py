"""The synthetic Jolpica standings (synthetic_jolpica.py), read through FastF1's own Ergast
interface from a replay into a scratch FastF1 cache, never from the network.

Also pins what FastF1 3.9 makes of them (columns and dtypes of ``.content[0]``, the
``.description``) and how it fails when the standings are missing (404, offline cache miss).
"""

from __future__ import annotations

import json

import pytest

from support.fastf1_replay import normalise_url, recordings_available, replaying
from support.synthetic_jolpica import (BAHRAIN_2022, FIRST_ROUNDS_WITH_RESULTS, JOLPICA_URL,
                                       RECORDED_RESULTS, constructor_standings_url,
                                       driver_standings_url, empty_standings_responses,
                                       recorded_results_rounds, results_url, standings_responses)
from support.synthetic_telemetry import scratch_fastf1_cache, unthrottled

pytestmark = pytest.mark.skipif(
    not recordings_available(),
    reason="../shared/fastf1-recorded is absent: the standings are made from recorded "
           "race results")

DRIVER_DTYPES = {
    "position": "int64", "positionText": "object", "points": "float64", "wins": "int64",
    "driverId": "object", "driverNumber": "int64", "driverCode": "object",
    "driverUrl": "object", "givenName": "object", "familyName": "object",
    "dateOfBirth": "datetime64[ns]", "driverNationality": "object",
    "constructorIds": "object", "constructorUrls": "object", "constructorNames": "object",
    "constructorNationalities": "object"}
CONSTRUCTOR_DTYPES = {
    "position": "int64", "positionText": "object", "points": "float64", "wins": "int64",
    "constructorId": "object", "constructorUrl": "object", "constructorName": "object",
    "constructorNationality": "object"}
DRIVER_FIELDS = ["driverId", "driverNumber", "driverCode", "driverUrl", "givenName",
                 "familyName", "dateOfBirth", "driverNationality"]
CONSTRUCTOR_FIELDS = ["constructorId", "constructorUrl", "constructorName",
                      "constructorNationality"]


@pytest.fixture
def fastf1_scratch():
    """FastF1 with a throw-away cache and no client-side rate limits; restored afterwards."""
    import fastf1

    with scratch_fastf1_cache(), unthrottled():
        yield fastf1
        fastf1.Cache.offline_mode(False)


def _ergast(**kwargs):
    from fastf1.ergast import Ergast

    return Ergast(**kwargs)


def _standings(year: int, round_number: int, **kwargs):
    ergast = _ergast(**kwargs)
    return (ergast.get_driver_standings(season=year, round=round_number),
            ergast.get_constructor_standings(season=year, round=round_number))


def _race_results(recordings, year, round_number):
    """The recorded race result as FastF1 parses it (replayed), ordered by position."""
    with replaying(recordings):
        results = _ergast().get_race_results(season=year, round=round_number)
    return results.content[0].sort_values("position").reset_index(drop=True)


# --- what is recorded -------------------------------------------------------------------------

def test_the_constants_list_the_recorded_race_results(recordings):
    assert recorded_results_rounds(recordings) == list(RECORDED_RESULTS)
    assert FIRST_ROUNDS_WITH_RESULTS == tuple(r for r in RECORDED_RESULTS if r[1] == 1)
    assert BAHRAIN_2022 in FIRST_ROUNDS_WITH_RESULTS
    assert not any("Standings" in url or "standings" in url for url in recordings)


# --- the wire format ----------------------------------------------------------------------------

def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def test_the_envelope_is_jolpicas(recordings):
    year, round_number = BAHRAIN_2022
    made = standings_responses(recordings, year, round_number)
    recorded = json.loads(recordings[results_url(year, round_number)][2])["MRData"]
    assert set(made) == {driver_standings_url(year, round_number),
                         constructor_standings_url(year, round_number)}
    for (url, (status, headers, body)), key in zip(
            made.items(), ("DriverStandings", "ConstructorStandings")):
        assert status == 200 and headers["Content-Type"] == "application/json"
        mrdata = json.loads(body.decode("utf-8"))["MRData"]
        # Same envelope as a recorded Jolpica answer, the table aside.
        assert list(mrdata)[:-1] == list(recorded)[:-1]
        assert mrdata["url"] == url and "?" not in url
        assert (mrdata["xmlns"], mrdata["series"], mrdata["limit"], mrdata["offset"]) == \
            ("", "f1", "30", "0")
        table = mrdata["StandingsTable"]
        assert list(table) == ["season", "round", "StandingsLists"]
        assert (table["season"], table["round"]) == (str(year), str(round_number))
        [standings] = table["StandingsLists"]
        assert list(standings) == ["season", "round", key]
        assert mrdata["total"] == str(len(standings[key])) and standings[key]
        assert all(isinstance(leaf, str) for leaf in _leaves(mrdata))
        assert [row["position"] for row in standings[key]] == \
            [str(n) for n in range(1, len(standings[key]) + 1)]


def test_the_empty_answer_has_no_standings_lists():
    made = empty_standings_responses(2026, 5)
    assert set(made) == {driver_standings_url(2026, 5), constructor_standings_url(2026, 5)}
    for url, (status, _headers, body) in made.items():
        mrdata = json.loads(body)["MRData"]
        assert status == 200 and mrdata["total"] == "0" and mrdata["url"] == url
        assert mrdata["StandingsTable"] == {"season": "2026", "round": "5",
                                            "StandingsLists": []}


def test_only_first_rounds_unless_pretending(recordings):
    with pytest.raises(ValueError, match="not that race alone"):
        standings_responses(recordings, 2022, 2)
    assert len(standings_responses(recordings, 2022, 2, pretend_first_round=True)) == 2
    with pytest.raises(KeyError, match="no recorded race result for 2024 round 1"):
        standings_responses(recordings, 2024, 1)


# --- through FastF1 -----------------------------------------------------------------------------

def test_fastf1_requests_exactly_these_urls(recordings, fastf1_scratch):
    year, round_number = BAHRAIN_2022
    made = standings_responses(recordings, year, round_number)
    with replaying(made) as adapter:
        _standings(year, round_number)
    assert adapter.requested == [f"{JOLPICA_URL}/2022/1/driverStandings.json",
                                 f"{JOLPICA_URL}/2022/1/constructorStandings.json"]
    assert [normalise_url(url) for url in adapter.requested] == list(made)


def test_a_limit_goes_into_the_query(recordings, fastf1_scratch):
    made = standings_responses(recordings, 2022, 1, limit=100)
    with replaying(made) as adapter:
        drivers, constructors = _standings(2022, 1, limit=100)
    assert adapter.requested[0] == f"{JOLPICA_URL}/2022/1/driverStandings.json?limit=100"
    assert len(drivers.content[0]) == 20 and len(constructors.content[0]) == 10
    assert drivers._response_headers["limit"] == "100"


@pytest.mark.parametrize("year, round_number", FIRST_ROUNDS_WITH_RESULTS)
def test_driver_standings_are_the_recorded_race(recordings, fastf1_scratch, year,
                                                round_number):
    race = _race_results(recordings, year, round_number)
    with replaying(standings_responses(recordings, year, round_number)):
        response, _ = _standings(year, round_number)

    assert len(response.content) == 1
    assert response.description.to_dict("records") == [
        {"season": year, "round": round_number}]
    assert response.total_results == len(race) and response.is_complete
    standings = response.content[0]
    assert len(standings) == len(race) > 0
    # A first round: standings order is the race order (points, then finishing position).
    expected = race.sort_values(["points", "position"], ascending=[False, True],
                                ignore_index=True)
    assert standings["driverId"].tolist() == expected["driverId"].tolist()
    assert standings[DRIVER_FIELDS].equals(expected[DRIVER_FIELDS])
    assert standings["points"].tolist() == expected["points"].tolist()
    assert standings["position"].tolist() == list(range(1, len(race) + 1))
    assert standings["positionText"].tolist() == [str(n) for n in standings["position"]]
    assert standings["wins"].tolist() == (expected["position"] == 1).astype(int).tolist()
    assert standings["constructorIds"].tolist() == [[c] for c in expected["constructorId"]]
    assert standings["constructorNames"].tolist() == [[c] for c in expected["constructorName"]]


@pytest.mark.parametrize("year, round_number", FIRST_ROUNDS_WITH_RESULTS)
def test_constructor_standings_sum_their_drivers(recordings, fastf1_scratch, year,
                                                 round_number):
    race = _race_results(recordings, year, round_number)
    with replaying(standings_responses(recordings, year, round_number)):
        _, response = _standings(year, round_number)

    assert len(response.content) == 1
    assert response.description.to_dict("records") == [
        {"season": year, "round": round_number}]
    standings = response.content[0]
    teams = race.groupby("constructorId")
    assert sorted(standings["constructorId"]) == sorted(teams.groups) and len(standings)
    by_team = standings.set_index("constructorId")
    assert by_team["points"].to_dict() == teams["points"].sum().to_dict()
    wins = teams["position"].apply(lambda positions: int((positions == 1).sum()))
    assert by_team["wins"].to_dict() == wins.to_dict()
    recorded = race.drop_duplicates("constructorId").set_index("constructorId")
    assert by_team[CONSTRUCTOR_FIELDS[1:]].sort_index().equals(
        recorded[CONSTRUCTOR_FIELDS[1:]].sort_index())
    assert standings["points"].is_monotonic_decreasing
    assert standings["position"].tolist() == list(range(1, len(standings) + 1))
    assert standings["positionText"].tolist() == [str(n) for n in standings["position"]]
    assert response.total_results == len(standings)


def test_columns_and_dtypes_fastf1_returns(recordings, fastf1_scratch):
    year, round_number = BAHRAIN_2022
    with replaying(standings_responses(recordings, year, round_number)):
        drivers, constructors = _standings(year, round_number)
    assert drivers.content[0].dtypes.astype(str).to_dict() == DRIVER_DTYPES
    assert list(drivers.content[0].columns) == list(DRIVER_DTYPES)
    assert constructors.content[0].dtypes.astype(str).to_dict() == CONSTRUCTOR_DTYPES
    assert list(constructors.content[0].columns) == list(CONSTRUCTOR_DTYPES)
    for response in (drivers, constructors):
        assert response.description.dtypes.astype(str).to_dict() == {
            "season": "int64", "round": "int64"}
    first = drivers.content[0].iloc[0]
    assert first["constructorIds"] == ["ferrari"]          # a Python list per cell
    assert str(first["dateOfBirth"]) == "1997-10-16 00:00:00"


def test_the_empty_answer_gives_empty_content(fastf1_scratch):
    with replaying(empty_standings_responses(2026, 5)) as adapter:
        drivers, constructors = _standings(2026, 5)
    assert len(adapter.requested) == 2
    for response in (drivers, constructors):
        assert response.content == []
        assert response.description.empty and list(response.description.columns) == []
        assert response.total_results == 0 and response.is_complete


def test_an_empty_answer_is_cached_like_any_other(recordings, fastf1_scratch):
    """Jolpica's Cache-Control (max-age=600) keeps FastF1 from asking again for 10 minutes,
    and offline mode serves the cached empty answer for good."""
    with replaying(empty_standings_responses(2022, 1)):
        assert _standings(2022, 1)[0].content == []
    with replaying(standings_responses(recordings, 2022, 1)) as adapter:
        assert _standings(2022, 1)[0].content == []
    assert adapter.requested == []
    fastf1_scratch.Cache.offline_mode(True)
    assert _standings(2022, 1)[1].content == []


def test_a_404_raises_ergast_invalid_request_error(fastf1_scratch):
    from fastf1.exceptions import ErgastInvalidRequestError

    with replaying({}) as adapter:
        with pytest.raises(ErgastInvalidRequestError, match="Server response: 'Not Found'"):
            _ergast().get_driver_standings(season=2022, round=1)
        with pytest.raises(ErgastInvalidRequestError, match="Server response: 'Not Found'"):
            _ergast().get_constructor_standings(season=2022, round=1)
    assert len(adapter.requested) == 2


def test_offline_without_a_cached_answer_raises(fastf1_scratch):
    from fastf1.exceptions import ErgastInvalidRequestError

    fastf1_scratch.Cache.offline_mode(True)
    with replaying({}) as adapter:
        with pytest.raises(ErgastInvalidRequestError, match="Server response: 'Not Cached'"):
            _ergast().get_driver_standings(season=2022, round=1)
        with pytest.raises(ErgastInvalidRequestError, match="Server response: 'Not Cached'"):
            _ergast().get_constructor_standings(season=2022, round=1)
    assert adapter.requested == []


def test_offline_reads_the_replayed_standings_back(recordings, fastf1_scratch):
    year, round_number = BAHRAIN_2022
    with replaying(standings_responses(recordings, year, round_number)):
        online = _standings(year, round_number)
    fastf1_scratch.Cache.offline_mode(True)
    with replaying({}) as adapter:
        offline = _standings(year, round_number)
    assert adapter.requested == []
    for a, b in zip(online, offline):
        assert a.content[0].equals(b.content[0]) and a.description.equals(b.description)
