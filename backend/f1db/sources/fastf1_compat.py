"""Every reach into FastF1's internals, in one place, pinned to the FastF1 this project pins.

FastF1's public API has no answer for a few things the loader needs; each is read here
from FastF1 3.9's private names, so that a FastF1 upgrade that renames one breaks this
module alone (tests/test_sources.py runs each function against the installed FastF1):

* the session names behind the abbreviations (``fastf1.events._SESSION_TYPE_ABBREVIATIONS``),
  so ``--session FP2`` means exactly what ``Event.get_session("FP2")`` means;
* the HTTP sessions FastF1 sends requests through (``fastf1.req.Cache._requests_session``
  and ``_requests_session_cached``), where the request meter is mounted;
* how long FastF1's own per-hour limiters (``fastf1.req._SessionWithRateLimiting``) will
  refuse requests, to wait that out instead of failing;
* the MultiViewer circuit request behind ``Session.get_circuit_info()``
  (``fastf1.mvapi.get_circuit_info``) and the circuit-key correction FastF1 applies first;
* a ``Session.load`` of a session before live timing without its one live timing request
  (``Session._load_session_info``), its Jolpica results asked for whole
  (``Session._ergast``);
* where a page of a Jolpica answer ends (``ErgastResponseMixin._response_headers``: its
  offset and limit), to know whether another page follows.
"""

from __future__ import annotations

import time

PINNED_FASTF1 = "3.9"       # the release these names were read from (requirements.txt)
JOLPICA_MAX_PAGE = 100      # the most rows Jolpica answers in one page


def session_names() -> dict[str, str]:
    """Abbreviation (``FP1``, ``SQ``, ``R``, ...) -> FastF1's session name."""
    from fastf1.events import _SESSION_TYPE_ABBREVIATIONS

    return dict(_SESSION_TYPE_ABBREVIATIONS)


def http_sessions() -> list:
    """FastF1's ``requests`` sessions (cached and plain) that exist so far."""
    from fastf1.req import Cache

    return [session for session in (Cache._requests_session_cached, Cache._requests_session)
            if session is not None]


def limiter_wait_seconds() -> float:
    """Seconds until FastF1's own per-hour limiters (``fastf1.req``, in this process) let a
    request through again; 0 when they would now."""
    from fastf1 import req

    now, wait = time.time(), 0.0
    for limiters in req._SessionWithRateLimiting._RATE_LIMITS.values():
        for limiter in limiters:
            stamps = getattr(limiter, "_timestamps", None)
            interval = getattr(limiter, "_interval", 0)
            # The next request pushes out the oldest stamp; FastF1 then compares the
            # second oldest with the hour.
            if stamps is not None and len(stamps) == stamps.maxlen and len(stamps) > 1:
                wait = max(wait, stamps[1] + interval - now)
    return wait


def circuit_key_for_layout(circuit: dict) -> int:
    """The MultiViewer circuit key of a session's ``Meeting.Circuit``, corrected as FastF1
    3.9's ``Session.get_circuit_info`` corrects it (Mugello 2020 is listed as 149)."""
    key = circuit["Key"]
    if key == 149 and circuit.get("ShortName") == "Mugello":
        key = 146
    return key


def request_circuit_info(year: int, circuit_key: int):
    """FastF1's ``CircuitInfo`` from the MultiViewer API (None when it has none)."""
    from fastf1.mvapi import get_circuit_info

    return get_circuit_info(year=year, circuit_key=circuit_key)


def load_without_live_timing(session, **options) -> None:
    """``session.load(**options)`` for a session F1's live timing does not have
    (``F1ApiSupport`` false, before 2018) without asking live timing for it.

    FastF1 3.9's ``Session.load`` requests the session's SessionInfo page before it looks
    at ``f1_api_support``, although for such a session it then skips every other live
    timing page and reads the results from Jolpica alone; that one request can only fail
    (and costs a request of the hour's budget). The instance's ``_load_session_info`` is
    replaced for this load, so the session has no ``session_info``, as it has none.

    FastF1 asks Jolpica for the results with its default page of 30 rows and reads that
    page only; a race of the 1950s-1990s lists more entries (the non-qualifiers too), so
    the session's ``Ergast`` asks for Jolpica's largest page (100), more than any round
    ever had.
    """
    from fastf1.ergast import Ergast

    if session.f1_api_support:
        raise ValueError("load_without_live_timing is for sessions before live timing")
    session._ergast = Ergast(limit=JOLPICA_MAX_PAGE)
    session._load_session_info = lambda livedata=None: None
    try:
        session.load(**options)
    finally:
        del session._load_session_info


def ergast_page_end(response) -> int:
    """The position after the last row of an Ergast response's page (offset + limit);
    another page follows while it is below ``response.total_results``."""
    headers = response._response_headers
    return int(headers.get("offset", 0)) + int(headers.get("limit", 0))
