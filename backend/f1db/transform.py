"""Pure transforms: FastF1 DataFrames -> frames shaped and typed like our tables.

No I/O here, so every rule of the data contract is unit-testable on small frames:
snake_case columns, durations as integer milliseconds, absolute times as naive UTC,
NaN/NaT/None as missing values (NULL in the database), never 0 or a sentinel. What to
convert is read from the models (each column's ``info``), never listed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Table

from .errors import TransformError
from .models import Base, fact_sources
from .records import SessionKey

_ONE_MS = np.timedelta64(1, "ms")


def session_frames(fetched: dict[str, pd.DataFrame | dict[str, pd.DataFrame]],
                   tables: tuple[str, ...], key: SessionKey) -> dict[str, pd.DataFrame]:
    """FastF1's frames (``FetchedSession.take_frames()``) as table frames, in ``tables`` order.

    Per-driver sources (``car_data``, ``pos_data``) are stacked first. Each FastF1 frame is
    removed from ``fetched`` once transformed, so that only one table's source and its
    stacked copy are alive at a time next to the finished table frames.
    """
    sources = fact_sources()
    frames = {}
    for table in tables:
        source = fetched.pop(table, None)
        if source is None:
            continue
        if sources[table].per_driver:
            source = combine_driver_frames(source)
        frames[table] = table_frame(Base.metadata.tables[table], source, key)
        del source
    return frames


def combine_driver_frames(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack ``car_data`` / ``pos_data`` per-driver frames into one, adding the natural key.

    ``sample_index`` is the sample's position in its driver's frame: live timing repeats
    timestamps, so a (driver, date) key would merge real samples.
    """
    parts = []
    for driver, frame in frames.items():
        part = pd.DataFrame(frame).reset_index(drop=True)
        part.insert(0, "sample_index", np.arange(len(part), dtype=np.int64))
        part.insert(0, "driver_number", str(driver))
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["driver_number", "sample_index"])
    return pd.concat(parts, ignore_index=True)


def table_frame(table: Table, source: pd.DataFrame, key: SessionKey) -> pd.DataFrame:
    """Return ``source`` as a frame with exactly ``table``'s columns, in table order.

    Columns named in ``info["source"]`` are converted by their ``info["kind"]``; a source
    column FastF1 did not provide becomes all-missing. Derived keys come from the frame
    itself (``driver_number``/``sample_index`` from :func:`combine_driver_frames`) or are
    the row's position (``sequence``).
    """
    source = pd.DataFrame(source).reset_index(drop=True)
    rows = len(source)
    out = {}
    for column in table.columns:
        name = column.name
        if column.info.get("session_key"):
            value = getattr(key, name)
            out[name] = np.full(rows, value, dtype=object if isinstance(value, str) else np.int64)
        elif column.info.get("derived"):
            out[name] = (np.arange(rows, dtype=np.int64) if name == "sequence"
                         else source[name].to_numpy())
        elif column.info["source"] in source.columns:
            out[name] = convert(source[column.info["source"]], column.info["kind"],
                                column=f"{table.name}.{name}")
        else:
            out[name] = missing_column(column.info["kind"], rows)
    return pd.DataFrame(out, columns=[c.name for c in table.columns])


def convert(series: pd.Series, kind: str, *, column: str = "?") -> pd.Series:
    """Convert one FastF1 column to the storage ``kind`` (see models.KINDS)."""
    try:
        converter = _CONVERTERS[kind]
    except KeyError:
        raise ValueError(f"unknown column kind {kind!r}") from None
    return converter(series.reset_index(drop=True), column)


def missing_column(kind: str, rows: int) -> pd.Series:
    """An all-missing column of ``kind``: what a column FastF1 did not give becomes."""
    return pd.Series([None] * rows, dtype=STORED_DTYPES[kind])


def _to_text(series: pd.Series, column: str) -> pd.Series:
    values = series.astype(object)
    present = values.notna()
    # Strings stay as they are ('' included); other scalars (e.g. numbers) become text.
    return values.where(~present, values[present].map(str)).where(present, None)


def _to_numeric(series: pd.Series, column: str) -> pd.Series:
    if series.dtype == object:
        series = series.where(series.notna(), np.nan).replace("", np.nan)
    try:
        return pd.to_numeric(series)
    except (ValueError, TypeError) as error:
        raise TransformError(f"{column}: {error}") from None


def _to_integer(series: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        series = series.astype("Int64")
    numbers = _to_numeric(series, column)
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    fractional = ~np.isnan(values) & (values != np.round(values))
    if fractional.any():
        raise TransformError(f"{column}: value {float(values[fractional][0])!r} is not a whole number")
    return pd.Series(numbers, dtype="float64").round().astype("Int64")


def _to_flag(series: pd.Series, column: str) -> pd.Series:
    try:
        return series.astype(object).where(series.notna(), None).astype("boolean")
    except (ValueError, TypeError) as error:
        raise TransformError(f"{column}: {error}") from None


def _to_milliseconds(series: pd.Series, column: str) -> pd.Series:
    try:
        deltas = pd.to_timedelta(series)
    except (ValueError, TypeError) as error:
        raise TransformError(f"{column}: {error}") from None
    ms = deltas.to_numpy() / _ONE_MS  # float, NaN where NaT
    return pd.Series(np.floor(ms + 0.5)).astype("Int64")


def _to_naive_utc(series: pd.Series, column: str) -> pd.Series:
    try:
        stamps = pd.to_datetime(series)
    except (ValueError, TypeError) as error:
        raise TransformError(f"{column}: {error}") from None
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    # Both databases keep microseconds; round once here so they agree.
    return stamps.dt.round("us").astype("datetime64[ns]")


def _to_real(series: pd.Series, column: str) -> pd.Series:
    return _to_numeric(series, column).astype("float64")


# Storage kind -> the pandas dtype a transformed column has, and the function making it.
# The loaders (load.py) write each kind from exactly these dtypes.
STORED_DTYPES = {"text": object, "integer": "Int64", "real": "float64", "flag": "boolean",
                 "duration_ms": "Int64", "timestamp_utc": "datetime64[ns]"}
_CONVERTERS = {"text": _to_text, "integer": _to_integer, "real": _to_real, "flag": _to_flag,
               "duration_ms": _to_milliseconds, "timestamp_utc": _to_naive_utc}
