"""Pure transforms between the rows of ``telemetry`` / ``positions`` and their stored
chunks: one row per driver and up to ``CHUNK_SAMPLES`` samples (docs/DATA.md, "Storage of
the big tables").

Car data and positions are 99 % of the rows, so they are stored compactly, in plain SQL
types both databases have (Cloud SQL has no columnar extension):

* a chunk is a run of consecutive ``sample_index`` values of one driver whose text columns
  (``source``, ``status``) hold one value each: those are stored once, as text, in the
  chunk row. A chunk ends after ``CHUNK_SAMPLES`` samples or where a text value changes;
* every other column (times, timestamps as microseconds since 1970, channels, the brake
  flag as 0/1) is a whole number, stored as ``<column>_base`` (the smallest value in the
  chunk, NULL when none is present) and ``<column>``: the offsets from it, little-endian,
  0, 1, 2, 4 or 8 bytes each (width = bytes / samples). The all-ones offset of a width
  means NULL; width 0 means every sample has the base;
* ``session_time_ms`` is stored relative to ``date_utc`` (in whole ms, truncated toward
  zero) and ``time_ms`` relative to ``session_time_ms`` (0 where the reference is NULL):
  FastF1 derives one from the other, so the offsets are nearly constant and take 0-1
  bytes;
* ``start_ms``/``end_ms`` (the chunk's least and greatest ``session_time_ms``) let a
  sliced read pick the few chunks of a lap through the primary key.

The same decoding is spelled in SQL by the ``telemetry`` and ``positions`` views
(revision 0010), so existing queries keep reading rows; a test holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Table

from .errors import TransformError

CHUNK_SAMPLES = 512      # samples a chunk holds at most (revision 0010's sample_numbers)
KEY_COLUMNS = ("year", "round_number", "session_type", "driver_number")
# Stored relative to another column: column -> (reference, divisor of the reference).
RELATIVE_TO = {"session_time_ms": ("date_utc", 1000), "time_ms": ("session_time_ms", 1)}
WIDTHS = (0, 1, 2, 4, 8)
_EPOCH = np.datetime64("1970-01-01T00:00:00", "us")
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def null_offset(width: int) -> int:
    """The offset meaning NULL at ``width`` bytes: all ones (as a signed int64 at 8)."""
    return -1 if width == 8 else 2 ** (8 * width) - 1


@dataclass(frozen=True)
class PackedLayout:
    """How one row table (``telemetry``, ``positions``) is stored as chunks."""

    rows: Table           # the row table (the view's columns, the transform's frames)
    chunks: Table         # the stored chunk table

    # Which row columns are offsets and which stay text is the chunk table's to say
    # (models.packed_chunks): read from its column kinds, in the row table's order.

    @property
    def numbers(self) -> tuple[str, ...]:
        """Row columns stored as offsets (a ``bytes`` column of the chunk table)."""
        return tuple(c.name for c in self.chunks.columns if c.info["kind"] == "bytes")

    @property
    def texts(self) -> tuple[str, ...]:
        """Row columns stored once a chunk, as text (beside the key's)."""
        return tuple(c.name for c in self.chunks.columns
                     if c.info["kind"] == "text" and c.name not in KEY_COLUMNS)

    def kind(self, name: str) -> str:
        return self.rows.c[name].info["kind"]


# -- packing -------------------------------------------------------------------------------

def pack(frame: pd.DataFrame, layout: PackedLayout) -> pd.DataFrame:
    """Rows shaped like ``layout.rows`` (``transform.table_frame``, or read back from a row
    table), in ``sample_index`` order within each driver, as a frame of chunk rows with
    ``layout.chunks``' columns."""
    frame = frame.reset_index(drop=True)
    return pack_columns(frame, len(frame), layout)


def pack_columns(rows: Mapping[str, pd.Series | np.ndarray], count: int,
                 layout: PackedLayout) -> pd.DataFrame:
    """:func:`pack` of ``count`` rows given column by column (``transform.table_columns``:
    no frame of rows is built; a session key may be a read-only broadcast array)."""
    columns = [c.name for c in layout.chunks.columns]
    if not count:
        return pd.DataFrame({name: [] for name in columns}, columns=columns)
    starts = _chunk_starts(rows, count, layout)
    ends = np.append(starts[1:], count)
    out: dict[str, object] = {name: _array(rows[name])[starts] for name in KEY_COLUMNS}
    for name in ("year", "round_number"):
        out[name] = _whole(out[name].astype(np.int64))
    out["first_sample"] = _whole(_array(rows["sample_index"]).astype(np.int64)[starts])
    out["samples"] = _whole((ends - starts).astype(np.int64))
    absolute = {name: whole_numbers(rows[name], layout.kind(name)) for name in layout.numbers}
    session_time, missing_time = absolute["session_time_ms"]
    low, high, empty = _bounds(session_time, missing_time, starts)
    out["start_ms"], out["end_ms"] = _whole(low, empty), _whole(high, empty)
    for name in layout.numbers:
        values, missing = absolute[name]
        if name in RELATIVE_TO:
            reference, divisor = RELATIVE_TO[name]
            values = values - _reference(*absolute[reference], divisor)
        base, no_base, out[name] = _offsets(values, missing, starts, ends,
                                            f"{layout.rows.name}.{name}")
        out[name + "_base"] = _whole(base, no_base)
    for name in layout.texts:
        out[name] = _array(rows[name]).astype(object)[starts]
    return pd.DataFrame({name: out[name] for name in columns}, columns=columns)


def _array(column: pd.Series | np.ndarray) -> np.ndarray:
    return column.to_numpy() if isinstance(column, pd.Series) else np.asarray(column)


def _whole(values: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """int64 ``values`` (NULL where ``missing``) as an ``Int64`` column, without a copy."""
    return pd.arrays.IntegerArray(values, np.zeros(len(values), dtype=bool)
                                  if missing is None else missing)


def _chunk_starts(frame: Mapping[str, pd.Series | np.ndarray], rows: int,
                  layout: PackedLayout) -> np.ndarray:
    """Where each chunk starts: a new driver, a gap in ``sample_index``, a new text value,
    or ``CHUNK_SAMPLES`` samples since the last start."""
    change = np.zeros(rows, dtype=bool)
    change[0] = True
    index = _array(frame["sample_index"]).astype(np.int64)
    change[1:] |= index[1:] != index[:-1] + 1
    for name in ("driver_number",) + layout.texts:
        codes = pd.factorize(_array(frame[name]), use_na_sentinel=True)[0]
        change[1:] |= codes[1:] != codes[:-1]
    run_start = np.flatnonzero(change)
    place = np.arange(rows) - np.repeat(run_start, np.diff(np.append(run_start, rows)))
    return np.flatnonzero(change | (place % CHUNK_SAMPLES == 0))


def whole_numbers(series: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, missing mask) of a transformed column: timestamps as microseconds
    since 1970, flags as 0/1, integers as they are."""
    if kind == "timestamp_utc":
        stamps = series.to_numpy(dtype="datetime64[ns]")
        missing = np.isnat(stamps)
        micro = stamps.astype("datetime64[us]")
        if (micro != stamps)[~missing].any():
            raise TransformError(f"{series.name}: a timestamp finer than a microsecond")
        values = (micro - _EPOCH).astype(np.int64)
        return np.where(missing, 0, values), missing
    missing = series.isna().to_numpy()
    return series.to_numpy(dtype=np.int64, na_value=0), missing     # a flag as 0/1


def _reference(values: np.ndarray, missing: np.ndarray, divisor: int) -> np.ndarray:
    """The reference a relative column is stored against: ``values`` divided by
    ``divisor`` truncated toward zero (as SQL's integer division), 0 where missing."""
    quotient = np.abs(values) // divisor * np.sign(values)
    return np.where(missing, 0, quotient)


def _bounds(values: np.ndarray, missing: np.ndarray, starts: np.ndarray):
    """Each chunk's least and greatest present value, and whether it has none (both 0)."""
    low = np.minimum.reduceat(np.where(missing, _INT64_MAX, values), starts)
    high = np.maximum.reduceat(np.where(missing, _INT64_MIN, values), starts)
    empty = np.logical_and.reduceat(missing, starts)
    return np.where(empty, 0, low), np.where(empty, 0, high), empty


def _offsets(values: np.ndarray, missing: np.ndarray, starts: np.ndarray, ends: np.ndarray,
             label: str) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    """Each chunk's base, whether it has none (no value present), and its offsets' bytes."""
    base, high, absent = _bounds(values, missing, starts)
    span = high.astype(object) - base.astype(object)      # may pass int64 (refused below)
    has_missing = np.logical_or.reduceat(missing, starts)
    width = np.full(len(starts), 8, dtype=np.int64)
    for candidate in (4, 2, 1):
        width[span < null_offset(candidate)] = candidate
    width[(span == 0) & ~has_missing] = 0
    width[absent] = 0
    if (span >= 2**63 - 1).any():
        raise TransformError(f"{label}: values too far apart to store "
                             f"({int(high[span >= 2**63 - 1][0])} and "
                             f"{int(base[span >= 2**63 - 1][0])})")
    sample_base = np.repeat(base, ends - starts)
    sample_width = np.repeat(width, ends - starts)
    offsets = values - sample_base
    encoded: list[bytes] = [b""] * len(starts)
    for size in WIDTHS[1:]:
        chosen = np.flatnonzero(width == size)
        if not len(chosen):
            continue
        at = sample_width == size
        dtype = "<i8" if size == 8 else f"<u{size}"
        data = np.where(missing[at], null_offset(size), offsets[at]).astype(dtype).tobytes()
        lengths = (ends[chosen] - starts[chosen]) * size
        cuts = np.concatenate(([0], np.cumsum(lengths)))
        for place, chunk in enumerate(chosen.tolist()):
            encoded[chunk] = data[cuts[place]:cuts[place + 1]]
    return base, absent, encoded


# -- unpacking -----------------------------------------------------------------------------

def unpack(chunks: pd.DataFrame, layout: PackedLayout) -> pd.DataFrame:
    """Chunk rows (as stored, in key order) as the rows they hold, with ``layout.rows``'
    columns in the dtypes of a stored frame (dialects/reading.py): ``Int64``,
    ``boolean``, ``datetime64[ns]``, text as ``object``."""
    samples = chunks["samples"].to_numpy(dtype=np.int64)
    rows = int(samples.sum())
    within = np.arange(rows) - np.repeat(np.cumsum(samples) - samples, samples)
    out: dict[str, object] = {
        name: np.repeat(chunks[name].to_numpy(dtype=object), samples) for name in KEY_COLUMNS}
    for name in ("year", "round_number"):
        out[name] = pd.array(out[name], dtype="Int64")
    out["sample_index"] = pd.arrays.IntegerArray(
        np.repeat(chunks["first_sample"].to_numpy(dtype=np.int64), samples) + within,
        np.zeros(rows, dtype=bool))
    absolute: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in layout.numbers:
        values, missing = _decode(chunks[name + "_base"], chunks[name], samples)
        if name in RELATIVE_TO:
            reference, divisor = RELATIVE_TO[name]
            values = values + _reference(*absolute[reference], divisor)
        absolute[name] = values, missing
        out[name] = _typed(values, missing, layout.kind(name))
    for name in layout.texts:
        out[name] = np.repeat(chunks[name].to_numpy(dtype=object), samples)
    return pd.DataFrame({c.name: out[c.name] for c in layout.rows.columns},
                        columns=[c.name for c in layout.rows.columns])


def _decode(bases: pd.Series, data: pd.Series, samples: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """One column's values (int64, 0 where missing) and missing mask from its chunks."""
    rows = int(samples.sum())
    present = bases.notna().to_numpy()
    base = bases.to_numpy(dtype=np.int64, na_value=0)
    blobs = [bytes(blob) for blob in data]
    width = np.array([len(blob) for blob in blobs], dtype=np.int64) // np.maximum(samples, 1)
    offsets = np.zeros(rows, dtype=np.int64)
    missing = np.repeat(~present, samples)
    for size in WIDTHS[1:]:
        chosen = np.flatnonzero((width == size) & present)
        if not len(chosen):
            continue
        dtype = "<i8" if size == 8 else f"<u{size}"
        decoded = np.frombuffer(b"".join(blobs[i] for i in chosen.tolist()),
                                dtype=dtype).astype(np.int64)
        at = np.repeat((width == size) & present, samples)
        offsets[at] = decoded
        missing[at] = decoded == null_offset(size)
    values = np.where(missing, 0, np.repeat(base, samples) + offsets)
    return values, missing


def _typed(values: np.ndarray, missing: np.ndarray, kind: str):
    if kind == "timestamp_utc":
        stamps = (_EPOCH + values.astype("timedelta64[us]")).astype("datetime64[ns]")
        stamps[missing] = np.datetime64("NaT")
        return stamps
    if kind == "flag":
        return pd.arrays.BooleanArray(values.astype(bool), missing)
    return pd.arrays.IntegerArray(values, missing)
