"""Reading stored rows into typed columns, the way both databases can (the read side's).

A stored frame holds each column in one dtype per SQL type, whatever the database:
integers as pandas' ``Int64`` (NULL masked, never a float), floats as ``float64`` (NULL as
NaN), booleans as ``boolean``, timestamps and dates as ``datetime64[ns]`` (NULL as NaT),
text as ``object`` (NULL as None). The read side turns those into FastF1's dtypes; the
dialects only promise these.

Timestamps and dates are selected as text on SQLite (its own ISO strings, parsed here in
one vectorised call instead of SQLAlchemy's per-row parser); PostgreSQL's driver already
gives them as datetimes, which the same call takes.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (BigInteger, Boolean, Column, Connection, Date, DateTime, Float, Integer,
                        SmallInteger, Text, select, type_coerce)
from sqlalchemy.exc import DBAPIError


def stored_frame(columns: Sequence[Column], rows: Sequence[tuple]) -> pd.DataFrame:
    """Rows (tuples in ``columns`` order) as a stored frame (module doc)."""
    values = list(zip(*rows)) if rows else [() for _ in columns]
    return pd.DataFrame({column.name: stored_values(column, list(column_values))
                         for column, column_values in zip(columns, values)},
                        columns=[column.name for column in columns])


def stored_values(column: Column, values: list):
    """One column's values (None for NULL) in the dtype of its SQL type."""
    sql_type = column.type
    if isinstance(sql_type, Boolean):
        return pd.array(values, dtype="boolean")
    if isinstance(sql_type, (SmallInteger, Integer, BigInteger)):
        return pd.array(values, dtype="Int64")
    if isinstance(sql_type, Float):
        return np.array(values, dtype=np.float64)          # None becomes NaN
    if isinstance(sql_type, (DateTime, Date)):
        return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").to_numpy(
            dtype="datetime64[ns]")
    return np.array(values, dtype=object)


def as_read(column: Column):
    """The column as selected for :func:`stored_frame`: timestamps and dates as text."""
    if isinstance(column.type, (DateTime, Date)):
        return type_coerce(column, Text)
    return column


def read_frame(connection: Connection, columns: Sequence[Column], where: Sequence,
               order_by: Sequence[Column]) -> pd.DataFrame:
    """The rows of ``columns``' table that match ``where``, in ``order_by`` order."""
    statement = select(*(as_read(column).label(column.name) for column in columns)).where(
        *where).order_by(*order_by)
    result = connection.execute(statement)
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        # The driver's own rows: every column is converted here, a column at a time, so
        # SQLAlchemy's per-row Row objects would only be built to be taken apart again.
        rows = result.cursor.fetchall()
    except driver_error as error:
        # What SQLAlchemy would have raised (callers turn its errors into one line).
        raise DBAPIError.instance(str(statement), None, error, driver_error) from None
    finally:
        result.close()
    return stored_frame(columns, rows)
