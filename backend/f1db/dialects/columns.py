"""What both row writers do to a transformed column before writing it.

A transformed frame (transform.py) holds each storage kind in one pandas dtype
(transform.STORED_DTYPES); the PostgreSQL COPY encoder and the SQLite writer each turn
those columns into their own wire form, and share these steps: integers checked against
the column's SQL type (refused, never rounded or wrapped), timestamps as naive UTC, and
every chunk of a table holding the first chunk's columns.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Column, Table

from ..errors import WriteError
from ..models import integer_range

OnRows = Callable[[int], object] | None     # told each time n more rows reached the database


def check_columns(table: Table, columns: Sequence[Column], frame: pd.DataFrame) -> None:
    """Every chunk has the first chunk's columns, in its order (COPY names them once)."""
    if len(frame.columns) != len(columns) or any(
            name != column.name for name, column in zip(frame.columns, columns)):
        raise ValueError(f"{table.name}: a chunk's columns {list(frame.columns)} differ from "
                         f"the first chunk's {[c.name for c in columns]}")


def whole_numbers(series: pd.Series, column: Column) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, missing mask) of an integer column, refusing a value that is not a
    whole number or does not fit the column's SQL type (one numpy pass, no row loop)."""
    label = f"{column.table.name}.{column.name}"
    name, low, high = integer_range(column.type)
    if series.dtype == object:
        series = pd.to_numeric(series)
    missing = series.isna().to_numpy()
    if pd.api.types.is_float_dtype(series.dtype):
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~missing & ((floats != np.round(floats)) | (np.abs(floats) >= 2.0**63))
        if bad.any():
            raise WriteError(f"{label}: {float(floats[bad][0])!r} is not a whole number that fits "
                             f"{name}; refusing rather than rounding")
        values = np.where(missing, 0, floats).astype(np.int64)
    else:
        values = series.to_numpy(dtype="int64", na_value=0)
    if name != "bigint" and len(values):
        outside = ~missing & ((values < low) | (values > high))
        if outside.any():
            raise WriteError(f"{label}: {int(values[outside][0])} does not fit {name} "
                             f"({low}..{high}); refusing rather than wrapping")
    return values, missing


def naive_utc(series: pd.Series) -> pd.Series:
    """Timestamps without a time zone, in UTC (both databases store them that way)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series
