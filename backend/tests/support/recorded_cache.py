"""A FastF1 cache built from the recorded sessions, as a real run would leave it: what the
``recorded_cache`` and ``read_back_cache`` fixtures share (they differ only in the
synthetic telemetry they add).

FastF1 loads each of RECORDED_SESSIONS from the replayed recordings, through its own
parsing code, with its years' schedules, the circuit layouts where recorded (2021 Monza:
synthetic_circuits.py) and the synthetic standings of RECORDED_STANDINGS. FastF1's cache
configuration and log level are put back afterwards.
"""

from __future__ import annotations

from pathlib import Path

from support.fastf1_replay import load_recordings, replaying
from support.recorded import RECORDED_SESSIONS, RECORDED_STANDINGS
from support.synthetic_circuits import monza_2021
from support.synthetic_jolpica import standings_responses
from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled


def build_recorded_cache(directory: Path, add_telemetry) -> Path:
    """Fill ``directory``; ``add_telemetry(responses) -> responses`` adds the synthetic
    car data and positions (support/synthetic_telemetry.py) before FastF1 loads."""
    import fastf1
    from fastf1.logger import LoggingManager

    log_level = LoggingManager._console_handler.level
    fastf1.set_log_level("WARNING")
    try:
        with restoring_fastf1_cache(), unthrottled():
            responses = add_telemetry(load_recordings())
            responses.update(monza_2021(responses))     # synthetic: the 2020 layout reused
            for year, round_number in RECORDED_STANDINGS:     # synthetic standings
                responses.update(standings_responses(responses, year, round_number))
            fastf1.Cache.configure(cache_dir=str(directory))
            with replaying(responses):
                for year in sorted({year for year, _, _ in RECORDED_SESSIONS}):
                    fastf1.get_event_schedule(year, include_testing=True)
                for year, event, name in RECORDED_SESSIONS:
                    session = fastf1.get_session(year, event, name)
                    session.load()
                    _request_circuit_layout(session)
                for year, round_number in RECORDED_STANDINGS:
                    _request_standings(year, round_number)
    finally:
        LoggingManager.set_level(log_level)
    return directory


def _request_circuit_layout(session) -> None:
    """Let FastF1 ask for the session's circuit layout, so that the cache holds the answer
    as a real run would leave it (a layout; where none is recorded the replay's 404, which
    FastF1's cache does not keep: offline, that layout is missing)."""
    try:
        session.get_circuit_info()
    except Exception:   # FastF1 3.9 raises when there is no layout or no laps
        pass


def _request_standings(year: int, round_number: int) -> None:
    """Let FastF1's Ergast interface ask for the standings after the round, as a run does."""
    from fastf1.ergast import Ergast

    ergast = Ergast()
    ergast.get_driver_standings(season=year, round=round_number)
    ergast.get_constructor_standings(season=year, round=round_number)
