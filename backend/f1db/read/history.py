"""Jolpica's history tables read back as frames (``read.history_frame``).

The rows as stored (docs/DATA.md, "History tables"): ``_ms`` columns as integer
milliseconds, dates as ``datetime64``, every integer column ``Int64`` whatever the
database, rows in key order; a season or several, and round numbers, to choose.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd
from sqlalchemy import select

from ..errors import UsageError
from ..models import HISTORY_TABLES, Base
from .access import StoredData, opened

_KINDS = {"integer": "Int64", "duration_ms": "Int64", "real": "float64"}


def history_frame(database: str | StoredData | None, table: str, *,
                  years: int | Iterable[int] | None = None,
                  rounds: int | Iterable[int] | None = None) -> pd.DataFrame:
    """``table`` (one of models.HISTORY_TABLES) as a DataFrame: of ``years`` and, in
    those, ``rounds`` (round numbers) for the tables kept per round; the drivers,
    constructors and circuits whole."""
    if table not in HISTORY_TABLES:
        raise UsageError(f"Unknown history table {table!r}: read one of "
                         f"{', '.join(HISTORY_TABLES)}", parameter="table")
    of = Base.metadata.tables[table]
    query = select(of).order_by(*of.primary_key.columns)
    per_round = "round_number" in of.c
    if (years is not None or rounds is not None) and not per_round:
        raise UsageError(f"{table} is not kept per round: read it without years or rounds",
                         parameter="table")
    for column, chosen in (("year", years), ("round_number", rounds)):
        if chosen is not None:
            values = [chosen] if isinstance(chosen, int) else [int(v) for v in chosen]
            query = query.where(of.c[column].in_(values))
    with opened(database) as stored, stored.reading(table) as connection:
        result = connection.execute(query)
        frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    for column in of.columns:
        kind = column.info.get("kind")
        if kind in _KINDS:
            frame[column.name] = pd.to_numeric(frame[column.name]).astype(_KINDS[kind])
        elif kind in ("date", "timestamp_utc"):
            frame[column.name] = pd.to_datetime(frame[column.name]).astype("datetime64[ns]")
        else:
            frame[column.name] = frame[column.name].astype(object).where(
                frame[column.name].notna(), None)
    return frame
