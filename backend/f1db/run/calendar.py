"""The calendar (``events``, ``event_sessions``) refreshed from the schedules a run read.

No extra request: the schedules were read to select the sessions. One transaction per
season under the season's named lock; rows that already match are not rewritten, so a
rerun writes nothing. A transient fault here is logged and left for the next run: the
sessions matter more than a calendar that every run refreshes.
"""

from __future__ import annotations

import logging

from ..claims import writing_transaction
from ..db import Database
from ..errors import TransientError
from ..load import replace_season_schedule
from ..sources.fastf1_source import FastF1Source
from ..summary import RunSummary
from ..transform import schedule_tables
from .session_job import database_errors_classified

log = logging.getLogger("f1db")


def refresh_calendar(database: Database, source: FastF1Source, years: tuple[int, ...], *,
                     testing: bool, summary: RunSummary) -> None:
    for year in years:
        frames = schedule_tables(source.schedules[year], source.seasons[year])
        try:
            with database_errors_classified():
                with writing_transaction(database.engine, lock=f"events {year}") as connection:
                    changed = replace_season_schedule(connection, year, frames,
                                                      testing=testing)
        except TransientError as error:
            log.warning("Could not refresh the %s events (retried by the next run): %s",
                        year, error)
            continue
        summary.record_schedule(year, len(frames["events"]), len(frames["event_sessions"]),
                                refreshed=changed)
