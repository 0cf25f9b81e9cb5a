"""The read side: stored sessions back as FastF1 objects and frames (docs/READING.md).

Reading needs SELECT alone: nothing here writes, migrates or takes a lock, and it needs no
FastF1 cache and no network. Every function takes a database URL (None: as populate_db.py
picks it) or a :class:`StoredData` opened once with :func:`open_stored` and reused.

* :func:`load_session`: a stored session as a ``fastf1.core.Session``;
* :func:`read_frame`, :func:`iter_frames`: one table across a selection of sessions;
* :func:`driver_laps`, :func:`lap_telemetry`, :func:`telemetry_window`: sliced reads;
* :func:`race_features`: one row per driver and race, for predictors (docs/FEATURES.md);
* :func:`history_frame`: a table of Jolpica's history (``--history``).
"""

from ..errors import NotStored
from .access import StoredData, open_stored
from .across import iter_frames, read_frame
from .fastf1_compat import PartNotStored, StoredSession
from .features import race_features
from .history import history_frame
from .session import load_session
from .slices import driver_laps, lap_telemetry, telemetry_window

__all__ = ["NotStored", "PartNotStored", "StoredData", "StoredSession", "driver_laps",
           "history_frame", "iter_frames",
           "lap_telemetry", "load_session", "open_stored", "race_features", "read_frame",
           "telemetry_window"]
