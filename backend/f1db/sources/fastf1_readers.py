"""The reader of every table FastF1 fills, registered by table name (readers.py).

Most tables are a plain attribute of the loaded ``Session`` (``results``, ``laps``,
``car_data``, ...). The others read more: ``session_info`` flattened into one row, the
circuit layout and its markers (``get_circuit_info()``, step by step), and the
championship standings after the round (Jolpica, through FastF1's ``Ergast``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..errors import first_line
from ..records import FetchedSession
from .fastf1_compat import circuit_key_for_layout, ergast_page_end, request_circuit_info
from .readers import Missing, Reading, reads, reads_attribute

log = logging.getLogger(__name__)

# Sessions with a classification: results whose positions are all missing are partial.
CLASSIFIED_SESSIONS = {"Race", "Sprint", "Qualifying", "Sprint Qualifying", "Sprint Shootout"}


def unclassified_results(reading: Reading, results: pd.DataFrame) -> str | None:
    if (reading.session.name in CLASSIFIED_SESSIONS
            and results.get("Position", pd.Series(dtype=float)).isna().all()):
        return "no classification yet (positions not published)"
    return None


reads_attribute("results", partial=unclassified_results)
for _table in ("laps", "weather", "telemetry", "positions", "session_status", "track_status",
               "race_control_messages"):
    reads_attribute(_table)


@reads("session_info")
def read_session_info(reading: Reading) -> pd.DataFrame:
    """``Session.session_info`` flattened into one row, with ``t0_date``,
    ``session_start_time`` and ``total_laps`` (None where FastF1 has nothing).

    FastF1's ``StartDate``/``EndDate`` are the circuit's local time: minus ``GmtOffset``
    they are UTC (kept as ``StartDateUtc``/``EndDateUtc``, the contract's ``*_utc``).
    """
    info = reading.session.session_info       # DataNotLoadedError: missing
    if not info:
        raise Missing("FastF1 has no session info (SessionInfo)")
    meeting = info.get("Meeting") or {}
    country = meeting.get("Country") or {}
    circuit = meeting.get("Circuit") or {}
    offset = info.get("GmtOffset")

    def utc(local):
        return None if local is None or offset is None else local - offset

    return pd.DataFrame([{
        "MeetingKey": meeting.get("Key"), "MeetingName": meeting.get("Name"),
        "MeetingOfficialName": meeting.get("OfficialName"),
        "MeetingLocation": meeting.get("Location"), "CountryKey": country.get("Key"),
        "CountryCode": country.get("Code"), "CountryName": country.get("Name"),
        "CircuitKey": circuit.get("Key"), "CircuitShortName": circuit.get("ShortName"),
        "Key": info.get("Key"), "Type": info.get("Type"), "Number": info.get("Number"),
        "Name": info.get("Name"), "Path": info.get("Path"),
        "ArchiveStatus": (info.get("ArchiveStatus") or {}).get("Status"),
        "StartDateUtc": utc(info.get("StartDate")), "EndDateUtc": utc(info.get("EndDate")),
        "GmtOffset": offset, "T0Date": reading.loaded("t0_date"),
        "SessionStartTime": reading.loaded("session_start_time"),
        "TotalLaps": reading.loaded("total_laps"),
    }])


def circuit_info(reading: Reading):
    """What ``Session.get_circuit_info()`` gives, step by step, so that each way it can
    come back empty is told apart instead of ending in an AttributeError.

    FastF1 3.9 reads the circuit key from ``session_info`` (Mugello's 2020 key corrected),
    asks the MultiViewer API for the layout (None when it has none), then measures each
    marker's distance on the fastest lap's positions. Without laps FastF1 raises, and
    with position data that does not cover the fastest lap it raises a KeyError; here the
    layout is kept with its distances missing (NaN), as FastF1 leaves them when it has
    laps but no positions.
    """
    def call():
        circuit = ((reading.loaded("session_info") or {}).get("Meeting") or {}).get("Circuit")
        if not circuit or circuit.get("Key") is None:
            raise Missing("FastF1 has no circuit key (no session info)")
        try:
            info = request_circuit_info(reading.key.year, circuit_key_for_layout(circuit))
        except reading.fastf1.exceptions.RateLimitExceededError:
            raise
        except Exception as error:   # offline without the response, FastF1 fails this way
            log.debug("FastF1's circuit info failed: %s: %s", type(error).__name__, error)
            info = None
        if info is None:
            raise Missing("FastF1 could not load the circuit layout (MultiViewer API)")
        laps, positions = reading.loaded("laps"), reading.loaded("pos_data")
        fastest = (laps.pick_fastest() if laps is not None and len(laps) and positions
                   else None)      # no positions: FastF1 leaves the distances NaN too
        if fastest is not None and not getattr(fastest, "empty", False):
            try:
                info.add_marker_distance(reference_lap=fastest)
            except Exception as error:   # e.g. telemetry that does not cover the lap
                log.warning("%s: FastF1 could not measure the circuit markers' distances "
                            "(%s: %s); the layout is stored without them", reading.key,
                            type(error).__name__, first_line(error))
                for frame in _marker_frames(info).values():
                    frame["Distance"] = np.nan
        return circuit, info

    return reading.once("circuit_info", call)


@reads("circuit_layouts")
def read_circuit_layout(reading: Reading) -> pd.DataFrame:
    circuit, info = circuit_info(reading)
    measured = any(frame["Distance"].notna().any() for frame in _marker_frames(info).values())
    return pd.DataFrame([{"CircuitKey": circuit.get("Key"),
                          "CircuitShortName": circuit.get("ShortName"),
                          "Rotation": info.rotation,
                          "DistancesFrom": reading.key.session_type if measured else None}])


@reads("circuit_markers")
def read_circuit_markers(reading: Reading) -> pd.DataFrame:
    """The three marker frames in one, each row tagged with its frame and position."""
    _, info = circuit_info(reading)
    parts = []
    for marker_type, frame in _marker_frames(info).items():
        part = pd.DataFrame(frame).reset_index(drop=True)
        part.insert(0, "sequence", np.arange(len(part), dtype=np.int64))
        part.insert(0, "marker_type", marker_type)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def unmeasured_layout(fetched: FetchedSession) -> bool:
    """Whether the fetched circuit layout has no marker distances (no laps or no
    positions in this load): it must not replace a stored layout that has them."""
    layout = fetched.frames.get("circuit_layouts")
    return layout is not None and layout["DistancesFrom"].isna().all()


def _marker_frames(info) -> dict[str, pd.DataFrame]:
    return {"corner": info.corners, "marshal_light": info.marshal_lights,
            "marshal_sector": info.marshal_sectors}


def _standings_reader(kind: str):
    def read(reading: Reading) -> pd.DataFrame:
        """The championship after the session's round, from Jolpica through FastF1."""
        from fastf1.ergast import Ergast

        year, round_number = reading.key.year, reading.key.round_number
        try:
            pages = every_page(getattr(Ergast(result_type="pandas", auto_cast=True),
                                        f"get_{kind}_standings")(season=year,
                                                                 round=round_number))
        except reading.fastf1.exceptions.ErgastError as error:
            raise Missing(f"Jolpica gave no {kind} standings: {first_line(error)}") from None
        published = [frame for page in pages
                     for frame, (_, row) in zip(page.content, page.description.iterrows())
                     if int(row.get("round", -1)) == round_number]
        if not published or published[0].empty:
            raise Missing(f"Jolpica has not published the {kind} standings after round "
                          f"{round_number} yet")
        return pd.concat(published, ignore_index=True) if len(published) > 1 else published[0]
    return read


def every_page(response) -> list:
    """``response`` and the pages after it: Jolpica answers 30 rows a page unless asked
    for more, and a championship of the 1950s had over 30 drivers; a first page alone
    would store it cut short."""
    pages = [response]
    while not pages[-1].is_complete and (
            pages[-1].total_results > ergast_page_end(pages[-1])):
        pages.append(pages[-1].get_next_result_page())
    return pages


reads("driver_standings")(_standings_reader("driver"))
reads("constructor_standings")(_standings_reader("constructor"))

