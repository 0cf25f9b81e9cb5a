"""Stored frames back into FastF1's frames: FastF1's column names, order and dtypes (pure).

The inverse of f1db.transform. What each FastF1 frame looks like after ``Session.load()``
(FastF1 3.9) is declared once here, in ``FRAMES``: its columns in FastF1's order, each with
the dtype FastF1 gives it; which stored column holds it comes from the models
(``info["source"]``), never repeated. The dtypes are FastF1's own, including its quirks:
whole-number channels as float64 (``RPM``, ``Position``, ``LapNumber``), a flag that may be
unknown as object (``Deleted``, ``IsPersonalBest``: True/False/None), a race control
message's ``Sector`` and ``Lap`` as pandas infers them from FastF1's lists (int64, float64
with a gap, object when all are None). Where FastF1's dtype cannot hold a missing value
(``int64``, ``bool``), a column with NULLs comes back as FastF1 itself gives it then:
float64 with NaN, object with None. tests/test_read_back.py compares every frame with
FastF1's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models import Base

_MS = np.int64(1_000_000)        # nanoseconds in a millisecond

TEXT, FLOAT, INT, BOOL, OBJECT = "object", "float64", "int64", "bool", "python"
INFERRED = "inferred"      # as pandas infers a list of Python numbers and None
DURATION, TIMESTAMP = "timedelta64[ns]", "datetime64[ns]"


@dataclass(frozen=True)
class FrameSpec:
    """One FastF1 frame: the table that stores it and its columns (name, FastF1 dtype) in
    FastF1's order. ``python``: an object column of Python values (None where missing);
    ``inferred``: int64, float64 or all-None object, as pandas infers Python numbers."""

    table: str
    columns: tuple[tuple[str, str], ...]

    def stored_columns(self) -> dict[str, str]:
        """FastF1 column -> the stored column holding it (from the models)."""
        by_source = {column.info["source"]: column.name
                     for column in Base.metadata.tables[self.table].columns
                     if "source" in column.info}
        return {name: by_source[name] for name, _ in self.columns}


_TIMING = (("Time", DURATION),)
_TELEMETRY_TIMES = (("Time", DURATION), ("SessionTime", DURATION))

FRAMES = {
    "results": FrameSpec("results", (
        ("DriverNumber", TEXT), ("BroadcastName", TEXT), ("Abbreviation", TEXT),
        ("DriverId", TEXT), ("TeamName", TEXT), ("TeamColor", TEXT), ("TeamId", TEXT),
        ("FirstName", TEXT), ("LastName", TEXT), ("FullName", TEXT), ("HeadshotUrl", TEXT),
        ("CountryCode", TEXT), ("Position", FLOAT), ("ClassifiedPosition", TEXT),
        ("GridPosition", FLOAT), ("Q1", DURATION), ("Q2", DURATION), ("Q3", DURATION),
        ("Time", DURATION), ("Status", TEXT), ("Points", FLOAT), ("Laps", FLOAT))),
    "laps": FrameSpec("laps", (
        ("Time", DURATION), ("Driver", TEXT), ("DriverNumber", TEXT), ("LapTime", DURATION),
        ("LapNumber", FLOAT), ("Stint", FLOAT), ("PitOutTime", DURATION),
        ("PitInTime", DURATION), ("Sector1Time", DURATION), ("Sector2Time", DURATION),
        ("Sector3Time", DURATION), ("Sector1SessionTime", DURATION),
        ("Sector2SessionTime", DURATION), ("Sector3SessionTime", DURATION),
        ("SpeedI1", FLOAT), ("SpeedI2", FLOAT), ("SpeedFL", FLOAT), ("SpeedST", FLOAT),
        ("IsPersonalBest", BOOL), ("Compound", TEXT), ("TyreLife", FLOAT),
        ("FreshTyre", BOOL), ("Team", TEXT), ("LapStartTime", DURATION),
        ("LapStartDate", TIMESTAMP), ("TrackStatus", TEXT), ("Position", FLOAT),
        ("Deleted", BOOL), ("DeletedReason", TEXT), ("FastF1Generated", BOOL),
        ("IsAccurate", BOOL))),
    "weather": FrameSpec("weather", (
        *_TIMING, ("AirTemp", FLOAT), ("Humidity", FLOAT), ("Pressure", FLOAT),
        ("Rainfall", BOOL), ("TrackTemp", FLOAT), ("WindDirection", INT),
        ("WindSpeed", FLOAT))),
    "track_status": FrameSpec("track_status", (*_TIMING, ("Status", TEXT),
                                               ("Message", TEXT))),
    "session_status": FrameSpec("session_status", (*_TIMING, ("Status", TEXT))),
    "race_control_messages": FrameSpec("race_control_messages", (
        ("Time", TIMESTAMP), ("Category", TEXT), ("Message", TEXT), ("Status", TEXT),
        ("Flag", TEXT), ("Scope", TEXT), ("Sector", INFERRED), ("RacingNumber", TEXT),
        ("Lap", INFERRED))),
    "telemetry": FrameSpec("telemetry", (
        ("Date", TIMESTAMP), ("RPM", FLOAT), ("Speed", FLOAT), ("nGear", INT),
        ("Throttle", FLOAT), ("Brake", BOOL), ("DRS", INT), ("Source", TEXT),
        *_TELEMETRY_TIMES)),
    "positions": FrameSpec("positions", (
        ("Date", TIMESTAMP), ("Status", TEXT), ("X", FLOAT), ("Y", FLOAT), ("Z", FLOAT),
        ("Source", TEXT), *_TELEMETRY_TIMES)),
}


def fastf1_frame(stored: pd.DataFrame, spec: FrameSpec) -> pd.DataFrame:
    """A stored frame (one column per stored column) as FastF1's frame, RangeIndex."""
    names = spec.stored_columns()
    frame = pd.DataFrame({name: fastf1_values(stored[names[name]], dtype)
                          for name, dtype in spec.columns},
                         columns=[name for name, _ in spec.columns])
    return _generated_laps_unknowns(frame) if spec.table == "laps" else frame


def _generated_laps_unknowns(laps: pd.DataFrame) -> pd.DataFrame:
    """The laps FastF1 adds itself (``FastF1Generated``) leave what it cannot know as NaN,
    where its timed laps have None: an unknown object value of such a lap is NaN."""
    generated = laps["FastF1Generated"].to_numpy(dtype=bool, na_value=False)
    if generated.any():
        for name in laps.columns:
            if laps[name].dtype == object:
                unknown = generated & laps[name].isna().to_numpy()
                if unknown.any():
                    laps.loc[unknown, name] = np.nan
    return laps


def fastf1_values(values: pd.Series, dtype: str):
    """One stored column as FastF1's ``dtype`` (see the module doc for missing values)."""
    array = values.array if isinstance(values, pd.Series) else values
    missing = np.asarray(pd.isna(array), dtype=bool)
    if dtype == DURATION:
        whole = np.asarray(array.to_numpy(dtype=np.int64, na_value=0), dtype=np.int64)
        out = (whole * _MS).view("timedelta64[ns]")
        out[missing] = np.timedelta64("NaT")
        return out
    if dtype == TIMESTAMP:
        return np.asarray(array, dtype="datetime64[ns]")
    if dtype == INFERRED:
        dtype = OBJECT if missing.all() else INT if not missing.any() else FLOAT
    if dtype == FLOAT or (dtype == INT and missing.any()):
        return np.asarray(array.to_numpy(dtype=np.float64, na_value=np.nan)
                          if hasattr(array, "to_numpy") else array, dtype=np.float64)
    if dtype == INT:
        return np.asarray(array.to_numpy(dtype=np.int64), dtype=np.int64)
    if dtype == BOOL and not missing.any():
        return np.asarray(array.to_numpy(dtype=bool), dtype=bool)
    if dtype in (BOOL, OBJECT):
        return _python_objects(array, missing)
    return np.asarray(array, dtype=object)


def _python_objects(array, missing: np.ndarray) -> np.ndarray:
    """Python scalars (bool, int) with None where missing, in an object array."""
    out = np.empty(len(array), dtype=object)
    present = ~missing
    out[present] = [value.item() if isinstance(value, np.generic) else value
                    for value in np.asarray(array, dtype=object)[present]]
    out[missing] = None
    return out


def results_index(frame: pd.DataFrame, *, live_timing: bool = True) -> pd.DataFrame:
    """FastF1 indexes ``Session.results`` by driver number: an unnamed index when the
    driver list came from live timing, one named ``DriverNumber`` when it came from
    Jolpica alone (a session before live timing)."""
    frame.index = pd.Index(frame["DriverNumber"].to_numpy(dtype=object), dtype=object,
                           name=None if live_timing else "DriverNumber")
    return frame


def stored_order(stored: pd.DataFrame, fallback: list[str]) -> pd.DataFrame:
    """Rows in FastF1's order: ``row_order`` where every row has it, else ``fallback``
    (sessions stored before revision 0007; docs/READING.md, "Row order")."""
    order = stored["row_order"]
    if len(stored) and not order.isna().any():
        return stored.sort_values("row_order", kind="stable").reset_index(drop=True)
    return stored.sort_values(fallback, kind="stable", na_position="last").reset_index(
        drop=True)
