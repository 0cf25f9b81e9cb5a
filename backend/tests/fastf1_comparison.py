"""Stored rows compared with FastF1's own frames, value for value, by the data contract.

Independent of f1db.transform: the expected value of each column is worked out here from
the models' declarations (source column and storage kind), so a transform bug cannot hide
behind the same code computing both sides.
"""

from __future__ import annotations

import math

import fastf1
import pandas as pd
import pytest
from sqlalchemy import select

from f1db.models import Base, fact_sources


def fastf1_frame(session, table):
    """FastF1's DataFrame for a table, or None when FastF1 has no such data."""
    try:
        value = getattr(session, fact_sources()[table].attribute)
    except fastf1.exceptions.DataNotLoadedError:
        return None
    if isinstance(value, dict):
        if not value:
            return None
        parts = []
        for driver, frame in value.items():
            frame = pd.DataFrame(frame).reset_index(drop=True)
            frame["driver_number"], frame["sample_index"] = driver, range(len(frame))
            parts.append(frame)
        return pd.concat(parts, ignore_index=True)
    frame = pd.DataFrame(value).reset_index(drop=True)
    return None if frame.empty and not fact_sources()[table].may_be_empty else frame


def stored_rows(engine, table_name, year, session_name):
    table = Base.metadata.tables[table_name]
    query = select(table).where(table.c.year == year, table.c.session_type == session_name)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def expected_value(value, kind):
    """FastF1's value as the data contract says it is stored (independent of f1db.transform)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "duration_ms":
        return int(math.floor(pd.Timedelta(value).value / 1e6 + 0.5))
    if kind == "timestamp_utc":
        return pd.Timestamp(value).round("us").to_pydatetime()
    if kind == "integer":
        return int(value)
    if kind == "real":
        return float(value)
    if kind == "flag":
        return bool(value)
    return str(value)


def natural_key(table, row):
    """A stored row's natural key (its primary key after the session key)."""
    return tuple(row[column.name] for column in list(table.primary_key.columns)[3:])


def expected_key(table, index, source):
    """The natural key FastF1's row ``index`` must be stored under, read from the model:
    FastF1 columns by their kind, ``sequence`` the row's position, the stacked frame's own
    ``driver_number``/``sample_index`` for telemetry."""
    key = []
    for column in list(table.primary_key.columns)[3:]:
        if "source" in column.info:
            key.append(expected_value(source.get(column.info["source"]), column.info["kind"]))
        elif column.name == "sequence":
            key.append(index)
        else:
            key.append(source.get(column.name))
    return tuple(key)


def assert_table_matches(engine, table_name, frame, year, session_name):
    """Rows stored == FastF1's rows, value for value, column by column."""
    table = Base.metadata.tables[table_name]
    rows = stored_rows(engine, table_name, year, session_name)
    assert len(rows) == len(frame), f"{table_name}: {len(rows)} rows, FastF1 has {len(frame)}"
    by_key = {natural_key(table, row): row for row in rows}
    assert len(by_key) == len(rows)
    for index, source in frame.iterrows():
        row = by_key[expected_key(table, index, source)]
        for column in table.columns:
            if "source" not in column.info:
                continue
            want = expected_value(source.get(column.info["source"]), column.info["kind"])
            got = row[column.name]
            if isinstance(want, float) and got is not None:
                assert got == pytest.approx(want, rel=1e-12), (table_name, column.name, index)
            else:
                assert got == want, (table_name, column.name, index, got, want)
