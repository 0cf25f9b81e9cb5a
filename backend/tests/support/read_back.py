"""What the read-back tests store and compare (conftest's ``read_back_cache`` and
``read_back_database`` fixtures).

The recorded sessions (../shared/fastf1-recorded) plus synthetic car data and positions,
made in the live timing wire format (support/synthetic_telemetry.py), for two sessions
with laps: covering the whole session, every driver's samples at one time (as in the real
feed's entries), so that FastF1's own ``Lap.get_telemetry()`` works on every fastest lap.
"""

from __future__ import annotations

from pathlib import Path

import fastf1
import pandas as pd
from pandas.testing import assert_frame_equal, assert_series_equal

from support.recorded_cache import build_recorded_cache
from support.synthetic_telemetry import add_session_telemetry

# Sessions that get synthetic telemetry here: (year, event, session, seconds, Hz). The
# stream starts at the session's first race control message, or without one (the Sprint)
# at the scheduled start: an hour before the sprint's laps.
TELEMETRY_SESSIONS = [(2021, "Italian Grand Prix", "FP2", 4500, 2.0),
                      (2023, "Azerbaijan Grand Prix", "Sprint", 6000, 1.0)]
# The Session properties a load_session fills, compared with FastF1's after Session.load().
FRAME_PARTS = ("results", "laps", "weather_data", "track_status", "session_status",
               "race_control_messages")
TELEMETRY_PARTS = ("car_data", "pos_data")
VALUE_PARTS = ("session_info", "t0_date", "session_start_time", "total_laps")


def build_read_back_cache(directory: Path) -> Path:
    """A FastF1 cache of every recorded session, with the synthetic telemetry above."""
    def add_telemetry(responses: dict) -> dict:
        for year, event, session, seconds, hz in TELEMETRY_SESSIONS:
            responses = add_session_telemetry(responses, year=year, event=event,
                                              session=session, seconds=seconds, hz=hz,
                                              aligned=True)
        return responses

    return build_recorded_cache(directory, add_telemetry)


def fastf1_part(session, name: str):
    """FastF1's value of a Session property, or None when FastF1 has not loaded it (or
    has an empty telemetry dict: nothing to store)."""
    try:
        value = getattr(session, name)
    except fastf1.exceptions.DataNotLoadedError:
        return None
    return None if isinstance(value, dict) and not value and name in TELEMETRY_PARTS else value


def assert_part_equal(name: str, ours, theirs) -> None:
    """One Session property equal to FastF1's: frames with assert_frame_equal (values,
    dtypes, column order, index), each driver's Telemetry likewise, values with ==."""
    if name in TELEMETRY_PARTS:     # the same drivers (the read side lists them by number)
        assert sorted(ours) == sorted(theirs), name
        for driver in theirs:
            assert_frame_equal(ours[driver], theirs[driver], obj=f"{name}[{driver}]")
            assert type(ours[driver]) is type(theirs[driver])
            assert ours[driver].driver == theirs[driver].driver
    elif isinstance(theirs, pd.DataFrame):
        assert_frame_equal(ours, theirs, obj=name)
        assert type(ours) is type(theirs), name
    else:
        assert ours == theirs, (name, ours, theirs)


def assert_event_equal(ours, theirs) -> None:
    """``Session.event``: every field FastF1 has (its label, the event's position in the
    full schedule, is not stored)."""
    assert_series_equal(ours, theirs, check_names=False)
