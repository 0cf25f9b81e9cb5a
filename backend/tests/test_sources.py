"""The sources package: one reader per table, FastF1's internals as the compatibility module
reads them, and request estimates equal to what a cold fetch really asks for (the replay
standing in for the network, an empty FastF1 cache)."""

from __future__ import annotations

import inspect

import pytest

from f1db.models import TABLE_NAMES, fact_sources
from f1db.sources import fastf1_compat
from f1db.sources.fastf1_costs import estimated_requests
from f1db.sources.fastf1_source import FastF1Source
from f1db.sources.readers import READERS, Reader, reads
from support.fastf1_replay import serving
from support.recorded import RECORDED_STANDINGS, RECORDED_TELEMETRY
from support.synthetic_circuits import monza_2021
from support.synthetic_jolpica import standings_responses
from support.synthetic_telemetry import add_session_telemetry, restoring_fastf1_cache, unthrottled


def test_every_table_has_exactly_one_registered_reader():
    assert set(READERS) == set(TABLE_NAMES)
    assert all(isinstance(reader, Reader) and reader.table == table
               for table, reader in READERS.items())
    plain = {table for table, reader in READERS.items() if not reader.own_code}
    assert plain == {"results", "laps", "weather", "telemetry", "positions",
                     "session_status", "track_status", "race_control_messages"}


def test_a_reader_for_no_table_or_a_second_reader_is_refused():
    with pytest.raises(ValueError, match="no fact table"):
        reads("no_such_table")(lambda reading: None)
    with pytest.raises(ValueError, match="two readers"):
        reads("laps")(lambda reading: None)
    assert READERS["laps"].own_code is False          # the registered one is kept


def test_the_compatibility_module_reads_the_installed_fastf1(tmp_path):
    import fastf1
    from fastf1.events import Event

    assert fastf1.__version__.startswith(fastf1_compat.PINNED_FASTF1)
    names = fastf1_compat.session_names()
    assert {names[short] for short in ("FP1", "FP2", "FP3", "Q", "R")} == {
        "Practice 1", "Practice 2", "Practice 3", "Qualifying", "Race"}
    assert "get_session" in vars(Event)
    assert fastf1_compat.limiter_wait_seconds() >= 0.0
    assert fastf1_compat.circuit_key_for_layout({"Key": 149, "ShortName": "Mugello"}) == 146
    assert fastf1_compat.circuit_key_for_layout({"Key": 149, "ShortName": "Other"}) == 149
    assert list(inspect.signature(fastf1_compat.request_circuit_info).parameters) == [
        "year", "circuit_key"]
    with restoring_fastf1_cache():
        fastf1.Cache.configure(cache_dir=str(tmp_path))
        assert len(fastf1_compat.http_sessions()) == 2     # cached and plain
    # FastF1's Ergast responses keep the page's MRData header where the compat reads it
    from fastf1.ergast.interface import ErgastRawResponse

    page = ErgastRawResponse(response_headers={"offset": "30", "limit": "30", "total": "35"},
                             query_filters={}, metadata={}, selectors={}, query_result=[],
                             category={}, auto_cast=False)
    assert fastf1_compat.ergast_page_end(page) == 60 and page.total_results == 35
    # and a session before live timing loads without its SessionInfo request
    assert callable(fastf1.core.Session._load_session_info)


# --- what a cold fetch asks for ---------------------------------------------------------------

FP2_TABLES = tuple(table for table in TABLE_NAMES if fact_sources()[table].applies_to(
    "Practice 2"))
RACE = (2022, "Bahrain", "Race")
FP2 = (RECORDED_TELEMETRY["year"], "Italian", "Practice 2")


@pytest.mark.slow
@pytest.mark.parametrize("session, tables", [
    (FP2, ("results", "laps")),
    (FP2, ("results", "laps", "weather")),
    (FP2, FP2_TABLES),
    (RACE, ("driver_standings", "constructor_standings")),
], ids=["laps", "weather", "every-table-telemetry-too", "standings-only"])
def test_a_cold_fetch_costs_exactly_the_estimate(recordings, tmp_path, session, tables):
    """Every table of a fully recorded session is answered by the replay, so the estimate
    (an upper bound for sessions with parts not published) is met exactly."""
    responses = add_session_telemetry(dict(recordings), **RECORDED_TELEMETRY)
    responses.update(monza_2021(responses))             # synthetic: the 2020 layout reused
    for year, round_number in RECORDED_STANDINGS:
        responses.update(standings_responses(responses, year, round_number))
    year, event, session_type = session
    cache = tmp_path / "fastf1-cache"
    cache.mkdir()
    with restoring_fastf1_cache(), unthrottled(), serving(responses) as replay:
        source = FastF1Source(cache_dir=cache)
        source.start()
        [found] = [ref for ref in source.find_event(source.season(year), event).sessions
                   if ref.key.session_type == session_type]
        before = source.requests
        fetched = source.fetch_session(found, set(tables))
        made = source.requests - before
    assert not fetched.missing, fetched.missing
    assert made == estimated_requests(tables)[0], replay.requested[-made:]
    jolpica = [url for url in replay.requested[-made:] if "jolpi.ca" in url]
    assert len(jolpica) == estimated_requests(tables)[1]
