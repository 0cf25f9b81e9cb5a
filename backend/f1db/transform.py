"""Pure transforms: FastF1 DataFrames -> frames shaped and typed like our tables.

No I/O here, so every rule of the data contract is unit-testable on small frames:
snake_case columns, durations as integer milliseconds, absolute times as naive UTC,
NaN/NaT/None as missing values (NULL in the database), never 0 or a sentinel. What to
convert is read from the models (each column's ``info`` and SQL type), never listed here.
A value that cannot be stored exactly (a fraction in an integer column, a number outside
its column's SQL integer type) fails the session naming column and value; it is never
rounded, clipped or left to the database (SQLite would store it in any integer column).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Column, Table

from .errors import TransformError
from .models import PACKED_TABLES, Base, fact_sources, integer_range
from .packing import PackedLayout, pack_columns
from .records import EventRef, SessionKey

_ONE_MS = np.timedelta64(1, "ms")


def session_tables(fetched: dict[str, pd.DataFrame | dict[str, pd.DataFrame]],
                   tables: tuple[str, ...], key: SessionKey) -> dict[str, Iterator[pd.DataFrame]]:
    """FastF1's frames (``FetchedSession.take_frames()``) as lazy table chunks, in ``tables``
    order: table name -> an iterator of frames shaped like the table.

    Nothing is converted until the loader asks for it, and a per-driver source
    (``car_data``, ``pos_data``) comes a few drivers at a time: each FastF1 frame is popped
    out of ``fetched`` as it is converted, so once its chunk is written nothing keeps it
    alive. Those two are stored packed: their frames are chunk rows of
    ``models.PACKED_TABLES`` (packing.py), the rows they hold shaped like the row model.
    A race's telemetry is never held twice (FastF1's frame and a converted copy of the
    whole table), only a batch of drivers' (:func:`driver_batches`; docs/ARCHITECTURE.md,
    "The pipeline").
    """
    sources = fact_sources()
    return {table: _table_chunks(Base.metadata.tables[table], fetched, sources[table].per_driver,
                                 key)
            for table in tables if table in fetched}


def _table_chunks(table: Table, fetched: dict, per_driver: bool,
                  key: SessionKey) -> Iterator[pd.DataFrame]:
    source = fetched.pop(table.name)
    if not per_driver:
        yield table_frame(table, source, key)
        return
    # Drivers in key order: each session's rows then reach the primary key's index in
    # ascending order, which PostgreSQL appends to its rightmost page cheaply.
    packed = table.name in PACKED_TABLES
    layout = PackedLayout(table, PACKED_TABLES[table.name]) if packed else None
    for batch in driver_batches(source):
        if packed:
            yield pack_columns(table_columns(table, batch, key, broadcast_keys=True),
                               len(batch), layout)
        else:
            yield table_frame(table, batch, key)
        del batch


# Drivers converted together: pandas' per-call costs dominate a driver's few thousand
# samples (a session is 40 driver frames), while a batch this size stays small beside
# FastF1's own frames.
BATCH_SAMPLES = 1 << 15


def driver_batches(source: dict[str, pd.DataFrame], limit: int = BATCH_SAMPLES
                   ) -> Iterator[pd.DataFrame]:
    """``source``'s per-driver frames (popped in driver order) as :func:`driver_frame`
    frames, consecutive drivers concatenated while they hold at most ``limit`` samples
    together (a bigger driver comes alone) and have the same columns and dtypes, so a
    batch converts exactly as its drivers would one by one."""
    batch: list[tuple[str, pd.DataFrame]] = []
    samples, batch_shape = 0, None
    for driver in sorted(source):
        frame = pd.DataFrame(source.pop(driver))      # FastF1's subclass as a plain frame
        shape = _shape(frame)
        if batch and (samples + len(frame) > limit or shape != batch_shape):
            yield _keyed(batch)
            batch, samples = [], 0
        batch.append((driver, frame))
        samples, batch_shape = samples + len(frame), shape
    if batch:
        yield _keyed(batch)


def _shape(frame: pd.DataFrame) -> tuple:
    """A frame's columns and their dtypes: frames of one shape concatenate losslessly."""
    return tuple(frame.columns), tuple(frame.dtypes)


def _keyed(batch: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """The batch's frames end to end (one copy), with :func:`driver_frame`'s key columns
    made for all its drivers at once."""
    lengths = [len(frame) for _, frame in batch]
    frames = [frame for _, frame in batch]
    whole = (frames[0].reset_index(drop=True) if len(frames) == 1
             else pd.concat(frames, ignore_index=True))
    whole.insert(0, "sample_index", np.concatenate(
        [np.arange(length, dtype=np.int64) for length in lengths]))
    whole.insert(0, "driver_number", np.repeat(
        np.array([str(driver) for driver, _ in batch], dtype=object), lengths))
    batch.clear()
    return whole


def driver_frame(frame: pd.DataFrame, driver: str) -> pd.DataFrame:
    """One driver's ``car_data`` / ``pos_data`` frame with the natural key added.

    ``sample_index`` is the sample's position in its driver's frame: live timing repeats
    timestamps, so a (driver, date) key would merge real samples.
    """
    return _keyed([(driver, pd.DataFrame(frame))])


def table_frame(table: Table, source: pd.DataFrame, key: SessionKey) -> pd.DataFrame:
    """Return ``source`` as a frame with exactly ``table``'s columns, in table order.

    Columns named in ``info["source"]`` are converted by their ``info["kind"]``; a source
    column FastF1 did not provide becomes all-missing. Derived keys come from the frame
    itself (``driver_number``/``sample_index`` from :func:`driver_frame`, a reader's
    ``marker_type``, the schedule's ``year``/``round_number``) or, for a ``sequence`` or
    ``row_order`` the frame does not have, are the row's position.
    """
    source = pd.DataFrame(source).reset_index(drop=True)
    return pd.DataFrame(table_columns(table, source, key),
                        columns=[c.name for c in table.columns])


def table_columns(table: Table, source: pd.DataFrame, key: SessionKey, *,
                  broadcast_keys: bool = False) -> dict[str, pd.Series | np.ndarray]:
    """:func:`table_frame`'s columns by name, before they become a frame (``source``
    indexed 0..n-1). ``broadcast_keys``: each session key column a read-only view of its
    one value (for packing, which reads a chunk's key once) instead of n copies."""
    rows = len(source)
    out = {}
    for column in table.columns:
        name = column.name
        if column.info.get("session_key"):
            value = getattr(key, name)
            dtype = object if isinstance(value, str) else np.int64
            out[name] = (np.broadcast_to(np.array(value, dtype=dtype), (rows,))
                         if broadcast_keys else np.full(rows, value, dtype=dtype))
        elif column.info.get("derived"):
            out[name] = (source[name].to_numpy() if name in source.columns
                         else np.arange(rows, dtype=np.int64))   # the row's place
        elif column.info["source"] in source.columns:
            out[name] = convert(source[column.info["source"]], column.info["kind"],
                                column=f"{table.name}.{name}")
        else:
            out[name] = missing_column(column.info["kind"], rows)
        check_fits(out[name], column, column_name=f"{table.name}.{name}")
    return out


def convert(series: pd.Series, kind: str, *, column: str = "?") -> pd.Series:
    """Convert one FastF1 column to the storage ``kind`` (see models.KINDS)."""
    try:
        converter = _CONVERTERS[kind]
    except KeyError:
        raise ValueError(f"unknown column kind {kind!r}") from None
    index = series.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        series = series.reset_index(drop=True)
    return converter(series, column)


def check_fits(values: pd.Series | np.ndarray, column: Column, *, column_name: str = "?") -> None:
    """Refuse a whole column of converted values if one does not fit ``column``'s SQL
    integer type (any other type: nothing to check).

    Both databases must hold exactly FastF1's value: PostgreSQL would refuse it mid-COPY
    with a message naming no column, and SQLite would store it whatever the declared type.
    Vectorised (min and max), so it costs next to nothing per chunk of rows.
    """
    bounds = integer_range(column.type)
    if bounds is None:
        return
    type_name, low, high = bounds
    values = pd.Series(values, copy=False)
    lowest, highest = values.min(), values.max()
    if values.empty or pd.isna(lowest) or (lowest >= low and highest <= high):
        return
    value = lowest if lowest < low else highest
    raise TransformError(f"{column_name}: value {int(value)} does not fit {type_name} "
                         f"({low}..{high}); refusing rather than storing another value")


def missing_column(kind: str, rows: int) -> pd.Series:
    """An all-missing column of ``kind``: what a column FastF1 did not give becomes."""
    return pd.Series([None] * rows, dtype=STORED_DTYPES[kind])


# Each converter has a fast path for the dtype FastF1 gives (numpy int64/float64/bool,
# datetime64, timedelta64, object holding str), working on whole numpy arrays; anything
# else takes the general path through pandas' parsers. Both give the same values (a race
# is 40 per-driver chunks of a dozen columns each, so the general path's per-call costs,
# e.g. pd.to_datetime iterating every stamp to decide on caching, add up to seconds).

def _to_text(series: pd.Series, column: str) -> pd.Series:
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        values = series.to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        return pd.Series(values, dtype=object)
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
    numpy_kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else None
    if numpy_kind in ("i", "b"):
        return _integers(series.to_numpy().astype(np.int64))
    if numpy_kind == "f":
        values = series.to_numpy()
    else:
        if pd.api.types.is_bool_dtype(series):
            series = series.astype("Int64")
        numbers = _to_numeric(series, column)
        values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    fractional = ~np.isnan(values) & (values != np.round(values))
    if fractional.any():
        raise TransformError(f"{column}: value {float(values[fractional][0])!r} is not a whole number")
    # Whole but beyond 64 bits (or infinite): no integer column holds it (check_fits names
    # the narrower types' ranges; this is the widest).
    huge = (values < -2.0**63) | (values >= 2.0**63)
    if huge.any():
        raise TransformError(f"{column}: value {float(values[huge][0])!r} does not fit bigint "
                             f"({-2**63}..{2**63 - 1}); refusing rather than storing another "
                             f"value")
    missing = np.isnan(values)
    return _integers(np.where(missing, 0.0, values).astype(np.int64), missing)


def _integers(values: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    """int64 values (and where they are missing) as an Int64 column, without a copy."""
    if missing is None:
        missing = np.zeros(len(values), dtype=bool)
    return pd.Series(pd.arrays.IntegerArray(values, missing))


def _to_flag(series: pd.Series, column: str) -> pd.Series:
    if series.dtype == np.dtype(bool):
        return pd.Series(pd.arrays.BooleanArray(series.to_numpy(),
                                                np.zeros(len(series), dtype=bool)))
    try:
        return series.astype(object).where(series.notna(), None).astype("boolean")
    except (ValueError, TypeError) as error:
        raise TransformError(f"{column}: {error}") from None


def _to_milliseconds(series: pd.Series, column: str) -> pd.Series:
    if series.dtype.kind != "m" or not isinstance(series.dtype, np.dtype):
        try:
            series = pd.to_timedelta(series)
        except (ValueError, TypeError) as error:
            raise TransformError(f"{column}: {error}") from None
    ms = series.to_numpy() / _ONE_MS  # float, NaN where NaT
    missing = np.isnan(ms)
    return _integers(np.floor(np.where(missing, 0.0, ms) + 0.5).astype(np.int64), missing)


def _to_naive_utc(series: pd.Series, column: str) -> pd.Series:
    if series.dtype.kind == "M" and isinstance(series.dtype, np.dtype):
        stamps = series                 # already naive datetime64: nothing to parse
    else:
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


def _to_date(series: pd.Series, column: str) -> pd.Series:
    """A calendar day (midnight); a time of day would be lost, so it is refused. A day
    with a time zone keeps its own day (no conversion to UTC, which could change it)."""
    try:
        stamps = pd.to_datetime(series)
    except (ValueError, TypeError) as error:
        raise TransformError(f"{column}: {error}") from None
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    stamps = stamps.astype("datetime64[ns]")
    timed = stamps.notna() & (stamps != stamps.dt.normalize())
    if timed.any():
        raise TransformError(f"{column}: value {stamps[timed].iloc[0]} is not a date "
                             f"(it has a time of day)")
    return stamps


def _to_json_list(series: pd.Series, column: str) -> pd.Series:
    """Lists (a driver's constructors in a season) as JSON array text; a lone value is
    a one-item list, a missing one stays missing."""
    def as_json(value):
        if value is None or (not isinstance(value, (list, tuple, np.ndarray))
                             and pd.isna(value)):
            return None
        items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
        return json.dumps([item.item() if isinstance(item, np.generic) else item
                           for item in items], ensure_ascii=False)
    return pd.Series([as_json(value) for value in series], dtype=object)


def schedule_tables(schedule: pd.DataFrame, events: list[EventRef]) -> dict[str, pd.DataFrame]:
    """FastF1's ``EventSchedule`` as the ``events`` and ``event_sessions`` frames.

    ``events`` (fetch.events_from_schedule) give each schedule row its stored round
    number (testing: -1, -2, ...). A session's ``GmtOffset`` is the UTC offset of
    FastF1's local ``SessionNDate``.
    """
    rounds = {event.schedule_index: event for event in events}
    event_rows, session_rows = [], []
    for index, row in schedule.iterrows():
        event = rounds[index]
        event_rows.append({**row.to_dict(), "year": event.year,
                           "round_number": event.round_number})
        for ref in event.sessions:
            local = row.get(f"Session{ref.session_number}Date")
            offset = (local.utcoffset() if isinstance(local, (pd.Timestamp, dt.datetime))
                      and local.tzinfo is not None else None)
            session_rows.append({"year": event.year, "round_number": event.round_number,
                                 "session_type": ref.key.session_type,
                                 "SessionNumber": ref.session_number,
                                 "SessionDateUtc": ref.start_utc, "GmtOffset": offset})
    key = SessionKey(0, 0, "")      # the schedule tables carry their own keys
    return {name: table_frame(Base.metadata.tables[name], pd.DataFrame(rows), key)
            for name, rows in (("events", event_rows), ("event_sessions", session_rows))}


# Storage kind -> the pandas dtype a transformed column has, and the function making it.
# The loaders (load.py) write each kind from exactly these dtypes.
STORED_DTYPES = {"text": object, "integer": "Int64", "real": "float64", "flag": "boolean",
                 "duration_ms": "Int64", "timestamp_utc": "datetime64[ns]",
                 "date": "datetime64[ns]", "json_list": object, "bytes": object}
_CONVERTERS = {"text": _to_text, "integer": _to_integer, "real": _to_real, "flag": _to_flag,
               "duration_ms": _to_milliseconds, "timestamp_utc": _to_naive_utc,
               "date": _to_date, "json_list": _to_json_list}
