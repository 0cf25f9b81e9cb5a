"""The read side's one contact with FastF1's internals (FastF1 3.9).

A ``fastf1.core.Session`` keeps what ``Session.load()`` found in private attributes behind
its public properties (``results`` reads ``_results``, ``car_data`` ``_car_data``, ...); a
property whose attribute was never set raises ``DataNotLoadedError`` through
``_get_property_warn_not_loaded``. :class:`StoredSession` is a real ``Session`` whose
attributes are set from the database instead of by ``load()``, and whose missing parts
raise :class:`PartNotStored` (a ``DataNotLoadedError`` too) naming what is missing and the
command that would store it. Every private FastF1 name the read side uses is in this file
(tests/test_architecture.py checks), so a FastF1 upgrade that renames one breaks here
alone, and tests/test_read_back.py fails on the first frame that differs.
"""

from __future__ import annotations

import fastf1.core
import fastf1.events
import fastf1.exceptions
import pandas as pd
from fastf1.mvapi import CircuitInfo

from ..errors import NotStored

# Session property -> the private attribute ``Session.load()`` sets for it.
ATTRIBUTES = {
    "results": "_results", "laps": "_laps", "car_data": "_car_data",
    "pos_data": "_pos_data", "weather_data": "_weather_data",
    "track_status": "_track_status", "session_status": "_session_status",
    "race_control_messages": "_race_control_messages", "session_info": "_session_info",
    "t0_date": "_t0_date", "session_start_time": "_session_start_time",
    "total_laps": "_total_laps",
}
_PROPERTY_OF = {attribute: name for name, attribute in ATTRIBUTES.items()}


class PartNotStored(NotStored, fastf1.exceptions.DataNotLoadedError):
    """A part of a stored session that the database does not hold: FastF1's own
    "not loaded" error, with a message that says what to run."""


class StoredSession(fastf1.core.Session):
    """A FastF1 ``Session`` filled from the database (f1db.read.load_session).

    ``f1db_missing``: session property -> why it is not there (and what to run);
    ``f1db_parts``: stored table -> its status in the ledger.
    """

    f1db_missing: dict[str, str]
    f1db_parts: dict[str, str]
    _f1db_circuit: CircuitInfo | None = None

    def _get_property_warn_not_loaded(self, name):
        if not hasattr(self, name):
            property_name = _PROPERTY_OF.get(name, name.lstrip("_"))
            why = self.f1db_missing.get(property_name)
            raise PartNotStored(why or f"{property_name} was not asked for: "
                                       f"load_session(..., {_OPTION.get(property_name)}=True)")
        return getattr(self, name, None)

    def get_circuit_info(self) -> CircuitInfo | None:
        """The stored circuit layout; its markers' distances measured on this session's
        fastest lap as FastF1 measures them, or as stored when that cannot be done here
        (no laps or positions read, or FastF1 fails on them)."""
        if self._f1db_circuit is None:
            raise PartNotStored(self.f1db_missing.get(
                "circuit_info", "the circuit layout is not stored for this event"))
        info = CircuitInfo(corners=self._f1db_circuit.corners.copy(),
                           marshal_lights=self._f1db_circuit.marshal_lights.copy(),
                           marshal_sectors=self._f1db_circuit.marshal_sectors.copy(),
                           rotation=self._f1db_circuit.rotation)
        try:
            info.add_marker_distance(reference_lap=self.laps.pick_fastest())
        except Exception:   # FastF1 raises on sessions it cannot measure; keep the stored
            return self._f1db_circuit
        return info


# The load_session option that reads each property (for the "not asked for" message).
_OPTION = {"laps": "laps", "session_status": "laps", "track_status": "laps",
           "total_laps": "laps", "session_start_time": "laps", "car_data": "telemetry",
           "pos_data": "telemetry", "t0_date": "telemetry", "weather_data": "weather",
           "race_control_messages": "messages"}


def new_session(event, name: str) -> StoredSession:
    """An empty StoredSession of ``event`` (FastF1's ``Event``) named ``name``."""
    session = StoredSession(event, name, f1_api_support=bool(event["F1ApiSupport"]))
    session.f1db_missing, session.f1db_parts = {}, {}
    return session


def set_part(session: StoredSession, name: str, value) -> None:
    """Set the Session property ``name`` as ``Session.load()`` would have."""
    setattr(session, ATTRIBUTES[name], value)


def set_circuit(session: StoredSession, info: CircuitInfo | None) -> None:
    session._f1db_circuit = info


def session_results(frame: pd.DataFrame) -> fastf1.core.SessionResults:
    return fastf1.core.SessionResults(frame)


def laps(frame: pd.DataFrame, session: StoredSession) -> fastf1.core.Laps:
    return fastf1.core.Laps(frame, session=session)


def telemetry(frame: pd.DataFrame, session: StoredSession, driver: str
              ) -> fastf1.core.Telemetry:
    return fastf1.core.Telemetry(frame, session=session, driver=driver)


def event_schedule(frame: pd.DataFrame, year: int) -> fastf1.events.EventSchedule:
    return fastf1.events.EventSchedule(frame, year=year)


def circuit_info(frames: dict[str, pd.DataFrame], rotation: float) -> CircuitInfo:
    """FastF1's ``CircuitInfo`` of the three marker frames (corners, marshal_lights,
    marshal_sectors) and the map's rotation."""
    return CircuitInfo(rotation=rotation, **frames)
