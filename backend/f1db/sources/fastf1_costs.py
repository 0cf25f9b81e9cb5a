"""What a cold load costs in requests, and the ``Session.load`` options a set of tables needs.

Counted through the replayed recordings (tests/test_sources.py checks the counts against
the replay): a cold ``Session.load`` requests SessionInfo, DriverList, SessionStatus,
TrackStatus, TimingData, TimingAppData and RaceControlMessages from live timing and the
results from Jolpica; WeatherData with weather; CarData.z and Position.z with telemetry.
A cached session costs nothing. The plan's estimate and the budget's "is there room for
this session" both read these numbers. A session before live timing (FastF1's
``F1ApiSupport`` false) costs its Jolpica results alone: no live timing request is made
for it (sources/fastf1_compat.load_without_live_timing).
"""

from __future__ import annotations

from ..models import fact_sources

LOAD_REQUESTS = {"base": 7, "weather": 1, "telemetry": 2}
LOAD_JOLPICA_REQUESTS = 1
# Requests of the calls some tables make besides ``Session.load`` (models.FastF1Part.call),
# as (live timing and other hosts, Jolpica): the circuit layout from the MultiViewer API,
# each standings table from Jolpica.
CALL_REQUESTS = {"circuit_info": (1, 0), "driver_standings": (0, 1),
                 "constructor_standings": (0, 1)}


def estimated_requests(tables: set[str] | tuple[str, ...], *,
                       live_timing: bool = True) -> tuple[int, int]:
    """(all requests, of which Jolpica) a cold fetch of ``tables`` makes: the
    ``Session.load`` if any table needs it, plus each distinct extra call once."""
    sources = [fact_sources()[table] for table in tables]
    live = jolpica = 0
    if any(source.needs_load for source in sources):
        options = load_options(set(tables), live_timing=live_timing)
        live = 0 if not live_timing else LOAD_REQUESTS["base"] + sum(
            count for option, count in LOAD_REQUESTS.items()
            if option != "base" and options.get(option))
        jolpica = LOAD_JOLPICA_REQUESTS
    for call in {source.call for source in sources if source.call}:
        other, from_jolpica = CALL_REQUESTS[call]
        live, jolpica = live + other, jolpica + from_jolpica
    return live + jolpica, jolpica


def load_options(tables: set[str], *, live_timing: bool = True) -> dict[str, bool]:
    """``Session.load`` keywords for ``tables``: laps and messages always, the rest on need;
    none before live timing (FastF1 would only warn that it cannot)."""
    if not live_timing:
        return {"laps": False, "telemetry": False, "weather": False, "messages": False}
    options = {"laps": True, "telemetry": False, "weather": False, "messages": True}
    for table, source in fact_sources().items():
        if table in tables and source.load_option:
            options[source.load_option] = True
    return options
