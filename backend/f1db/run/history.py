"""A history run: Jolpica's rounds since 1950 into the history tables, from the dump or the API.

The dump way (``dump``): the delayed CSV dump downloaded and checked (or a local file),
read, every round mapped (history_rows), and each round whose digest differs from the
stored one written in its own transaction. One download instead of thousands of requests.

The API way (``api``): each season's schedule, then each round's answers through FastF1's
Ergast interface, every request counted in the request budget. A round already stored with
its results and driver standings is not asked again (``force`` asks again); a round stored
before Jolpica had them is.

Either way a round not run yet (its date after today) is left for a later run, and what
changed is written: a rerun adds nothing, a round Jolpica corrected is replaced.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from pathlib import Path

from ..claims import writing_transaction
from ..errors import F1DBError, FetchError, TransientError
from ..history_rows import DUMP_COLUMNS, RoundRows, api_round, dump_rounds, merged_references
from ..history_store import LOCK, merge_references, replace_round, stored_rounds
from ..sources import jolpica_dump
from ..sources.fastf1_source import FastF1RateLimited
from .session_job import database_errors_classified

log = logging.getLogger(__name__)

SOURCES = ("dump", "api")
DUMP_FOLDER = "jolpica"          # beside FastF1's cache: the downloaded dumps


@dataclasses.dataclass
class HistorySummary:
    """What a history run did: rounds written (new or replaced), left as they were, failed;
    rows written per table; where the rows came from."""

    source: str
    years: tuple[int, ...] | None
    database: str
    dump_date: dt.date | None = None
    dump_file: str | None = None
    downloaded: bool = False
    new: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    replaced: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    unchanged: int = 0
    kept: int = 0                                # stored rounds that have more than these
    not_run_yet: int = 0
    not_in_dump: int = 0                         # rounds of the dump's last days
    api_after_dump: bool = False                 # ... asked of the API
    left_out: Counter = dataclasses.field(default_factory=Counter)   # rows without a key
    failed: dict[str, str] = dataclasses.field(default_factory=dict)
    rows: Counter = dataclasses.field(default_factory=Counter)
    requests: int = 0
    stopped: BaseException | None = None         # the stop signal that ended the run
    aborted: Exception | None = None             # what ended it early (a spent budget)

    @property
    def exit_code(self) -> int:
        if self.stopped is not None:
            return self.stopped.exit_code
        if self.aborted is not None:
            return self.aborted.exit_code
        return 1 if self.failed else 0

    def source_text(self) -> str:
        if self.source == "api":
            return "Jolpica's API (through FastF1's Ergast interface)"
        date = self.dump_date.isoformat() if self.dump_date else "of an unknown date"
        return f"Jolpica's CSV dump {date}" + (" (downloaded)" if self.downloaded else "")

    def render(self) -> str:
        years = (f"{self.years[0]}-{self.years[-1]}" if self.years and len(self.years) > 1
                 else str(self.years[0]) if self.years else "every season")
        lines = [f"History ({years}) from {self.source_text()} into {self.database}:",
                 f"  rounds: {len(self.new)} new, {len(self.replaced)} replaced (corrected "
                 f"by Jolpica), {self.unchanged} unchanged, {self.not_run_yet} not run yet"
                 + (f", {self.not_in_dump} raced after the dump was made ("
                    + ("asked of Jolpica's API)" if self.api_after_dump
                       else "--history api has them)") if self.not_in_dump else "")
                 + (f", {self.kept} kept (what is stored has more)" if self.kept else "")
                 + (f", {len(self.failed)} failed" if self.failed else "")]
        if self.rows:
            lines.append("  rows written: " + ", ".join(
                f"{name} {count}" for name, count in self.rows.items() if count))
        if self.left_out:
            lines.append("  rows Jolpica has without a position or key, left out: " + ", ".join(
                f"{name} {count}" for name, count in self.left_out.items()))
        if self.stopped is not None:
            lines.append(f"  stopped by {self.stopped}: the rounds written so far are kept; "
                         f"run again to go on")
        if self.aborted is not None:
            lines.append(f"  ended early: {self.aborted}; the rounds written so far are kept")
        for round_name, reason in self.failed.items():
            lines.append(f"  failed {round_name}: {reason}")
        lines.append(f"  {jolpica_dump.LICENCE}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"mode": "history", "source": self.source,
                "years": list(self.years) if self.years else None,
                "database": self.database,
                "dump_date": self.dump_date.isoformat() if self.dump_date else None,
                "dump_file": self.dump_file, "downloaded": self.downloaded,
                "rounds_new": [list(key) for key in self.new],
                "rounds_replaced": [list(key) for key in self.replaced],
                "rounds_unchanged": self.unchanged, "rounds_kept": self.kept,
                "rounds_not_run_yet": self.not_run_yet,
                "rounds_after_the_dump": self.not_in_dump,
                "rounds_after_the_dump_from_the_api": self.api_after_dump, "rows_left_out": dict(self.left_out),
                "rounds_failed": dict(self.failed), "rows_written": dict(self.rows),
                "licence": jolpica_dump.LICENCE, "exit_code": self.exit_code}


class HistoryRun:
    """One history run against an open database (``engine``) and a FastF1 source.

    Each round is mapped and written on its own: a round whose rows cannot be mapped or
    stored is named in the summary (and tried again by the next run) while the others are
    written; a transient database fault is retried with ``policy``.
    """

    def __init__(self, engine, source, *, years, summary: HistorySummary, clock,
                 force: bool = False, today: dt.date | None = None, policy=None):
        self.engine, self.source, self.years = engine, source, years
        self.summary, self.clock, self.force = summary, clock, force
        self.policy = policy
        self.today = today or dt.datetime.now(dt.timezone.utc).date()
        self.after_dump: list[tuple[int, int]] = []     # rounds raced since the dump

    # -- the dump ----------------------------------------------------------------------------

    def from_dump(self, dump_file: Path | None, http=None, *, offline: bool = False
                  ) -> HistorySummary:
        dump = self._dump(dump_file, http, offline=offline)
        season, batch = None, []
        for key, mapped in dump_rounds(jolpica_dump.read_tables(dump, DUMP_COLUMNS),
                                       self.years):
            if key[0] != season:
                self._store(batch, source="dump", dump_date=dump.dump_date)
                season, batch = key[0], []
            rows = self._mapped(key, mapped)
            if rows is not None and self._in_dump(rows, dump.dump_date):
                batch.append(rows)
        self._store(batch, source="dump", dump_date=dump.dump_date)
        if self.after_dump and dump_file is None and not offline:
            # the rounds raced since the dump was made: from the API, in the budget
            self.summary.api_after_dump = True
            self.source.start()
            self.from_api(sorted({year for year, _ in self.after_dump}),
                          only=set(self.after_dump))
        return self.summary

    def _dump(self, dump_file: Path | None, http, *, offline: bool) -> jolpica_dump.DumpFile:
        folder = self.source.cache_dir / DUMP_FOLDER
        if dump_file is not None:
            dump = jolpica_dump.local_dump(Path(dump_file))
        elif offline:
            dump = jolpica_dump.newest_local_dump(folder)
        else:
            import requests

            with (http or requests.Session()) as session:
                info = jolpica_dump.fetch_manifest(session)
                dump = jolpica_dump.download(session, info, folder, sleep=self.clock.sleep)
            self.summary.requests += 2 if dump.downloaded else 1
            if dump.downloaded:
                log.warning("Downloaded Jolpica's CSV dump of %s to %s. %s",
                            dump.dump_date or "an unknown date", dump.path,
                            jolpica_dump.LICENCE)
        self.summary.dump_date, self.summary.dump_file = dump.dump_date, str(dump.path)
        self.summary.downloaded = dump.downloaded
        return dump

    def _in_dump(self, rows: RoundRows, dump_date: dt.date | None) -> bool:
        """Whether the dump can hold the round: run by today and, for a dated dump, before
        the dump was made (a round of the dump's last days may be half there)."""
        date = _race_date(rows)
        if date is not None and date > self.today:
            self.summary.not_run_yet += 1
            return False
        if date is not None and dump_date is not None and date >= dump_date:
            self.summary.not_in_dump += 1
            self.after_dump.append(rows.key)
            return False
        return True

    # -- the API -----------------------------------------------------------------------------

    def from_api(self, years=None, *, only: set[tuple[int, int]] | None = None
                 ) -> HistorySummary:
        """The run's seasons (or ``years``) round by round; ``only`` these rounds."""
        for year in years or self.years:
            races = self._asking(lambda: self.source.history_races(year))
            with self.engine.connect() as connection:
                complete = self._complete_rounds(connection, year)
            for race in races:
                if not race.get("round") or not race.get("date"):
                    continue                  # a race without a round number or date
                key = (year, int(race["round"]))
                if only is not None and key not in only:
                    continue
                if dt.date.fromisoformat(race["date"]) > self.today:
                    self.summary.not_run_yet += 1
                    continue
                if key in complete and not self.force:
                    self.summary.unchanged += 1
                    continue
                try:
                    answers = self._asking(lambda: self.source.history_round(*key))
                except (FetchError, TransientError) as error:
                    self._failed(key, error)
                    continue
                rows = self._mapped(key, lambda: api_round(race, answers))
                if rows is not None:
                    self._store([rows], source="api", dump_date=None)   # each as it comes
        return self.summary

    def _asking(self, ask):
        while True:
            try:
                return ask()
            except FastF1RateLimited as error:
                self.source.wait_out(error)

    def _complete_rounds(self, connection, year: int) -> set[tuple[int, int]]:
        """Rounds of ``year`` stored with their results and driver standings."""
        from sqlalchemy import text

        query = text("SELECT r.year, r.round_number FROM history_races r "
                     "WHERE r.year = :year "
                     "AND EXISTS (SELECT 1 FROM history_results x WHERE x.year = r.year "
                     "AND x.round_number = r.round_number) "
                     "AND EXISTS (SELECT 1 FROM history_driver_standings s "
                     "WHERE s.year = r.year AND s.round_number = r.round_number)")
        return {tuple(row) for row in connection.execute(query, {"year": year})}

    # -- each round --------------------------------------------------------------------------

    def _mapped(self, key: tuple[int, int], mapped) -> RoundRows | None:
        """The round's rows, or None when Jolpica's rows for it cannot be mapped (named in
        the summary; the other rounds go on)."""
        try:
            rows = mapped()
        except (F1DBError, KeyError, ValueError, TypeError) as error:
            self._failed(key, error)
            return None
        self.summary.left_out.update(rows.left_out)
        return rows

    def _failed(self, key: tuple[int, int], error: BaseException) -> None:
        reason = (str(error) if isinstance(error, F1DBError)
                  else f"Jolpica's rows do not map ({type(error).__name__}: {error})")
        self.summary.failed[f"{key[0]} round {key[1]}"] = reason
        log.warning("%s round %s: %s (tried again by the next run)", *key, reason)

    def _store(self, rounds: list[RoundRows], *, source: str, dump_date) -> None:
        """The drivers, constructors and circuits of ``rounds``, then each changed round in
        its own transaction. A round stored from a newer dump, or stored with results that
        these rows lack, is kept as it is."""
        if not rounds:
            return
        self._writing(lambda connection: self.summary.rows.update(
            merge_references(connection, merged_references(rounds))))
        with database_errors_classified(), self.engine.connect() as connection:
            stored = stored_rounds(connection, {rows.year for rows in rounds})
        for rows in rounds:
            digest = rows.digest()
            before = stored.get(rows.key)
            if before is not None and before.digest == digest:
                self.summary.unchanged += 1
                continue
            if before is not None and not self.force and _less_than(before, rows, dump_date):
                self.summary.kept += 1
                continue
            try:
                written = self._writing(lambda connection: replace_round(
                    connection, rows, source=source, dump_date=dump_date,
                    now=_utc(self.clock.time()), digest=digest))
            except F1DBError as error:
                self._failed(rows.key, error)
                continue
            self.summary.rows.update(written)
            (self.summary.replaced if before is not None else self.summary.new).append(
                rows.key)

    def _writing(self, write):
        """``write(connection)`` in a transaction holding the history lock; a transient
        database fault is retried with the run's policy."""
        attempt = 0
        while True:
            attempt += 1
            try:
                with database_errors_classified():
                    with writing_transaction(self.engine, LOCK) as connection:
                        return write(connection)
            except TransientError as error:
                if self.policy is None or not self.policy.retry("history", error, attempt):
                    raise


def _less_than(before, rows: RoundRows, dump_date: dt.date | None) -> bool:
    """Whether ``rows`` would replace a round with less: one stored from a newer dump, or
    stored with race results that ``rows`` has none of (an older dump, a round the API
    filled after the dump was made)."""
    if dump_date is not None and before.dump_date is not None and before.dump_date > dump_date:
        return True
    return before.has_results and rows.tables["history_results"].empty


def _race_date(rows: RoundRows) -> dt.date | None:
    import pandas as pd

    race = rows.tables["history_races"]
    value = race["race_date"].iloc[0] if len(race) else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


def _missing(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))



# --- the plan -------------------------------------------------------------------------------

@dataclasses.dataclass
class PlannedHistorySeason:
    """A season of ``--history --plan``: rounds run so far, of them stored (with results
    and driver standings), the rest and what they cost through the API."""

    year: int
    rounds_run: int
    stored: int
    requests: int = 0
    seconds: float = 0.0

    @property
    def left(self) -> int:
        return self.rounds_run - self.stored


@dataclasses.dataclass
class HistoryPlan:
    """What ``--history`` would do: per season, what is stored and what a run costs, one
    download for every season from the dump, or the requests (and hours at the budget's
    pace) through the API."""

    database: str
    seasons: list[PlannedHistorySeason] = dataclasses.field(default_factory=list)
    exit_code: int = 0

    def render(self) -> str:
        lines = [f"History plan into {self.database} (Jolpica; stored = with results and "
                 f"driver standings):"]
        for season in self.seasons:
            line = (f"  {season.year}: {season.rounds_run} rounds run, {season.stored} "
                    f"stored, {season.left} left")
            if season.left:
                line += (f": {season.requests} requests through the API "
                         f"({_hours(season.seconds)})")
            lines.append(line)
        left = sum(season.left for season in self.seasons)
        requests = sum(season.requests for season in self.seasons)
        seconds = sum(season.seconds for season in self.seasons)
        if left:
            lines.append(f"  In all: {left} rounds left: the dump is one download (every "
                         f"season at once, 14 days behind), the API {requests} requests "
                         f"({_hours(seconds)})")
        else:
            lines.append("  In all: every round that has run is stored")
        lines.append(f"  {jolpica_dump.LICENCE}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"mode": "history plan", "database": self.database,
                "seasons": [{"year": s.year, "rounds_run": s.rounds_run, "stored": s.stored,
                             "left": s.left, "api_requests": s.requests,
                             "api_seconds": round(s.seconds, 1)} for s in self.seasons],
                "exit_code": self.exit_code}


def _hours(seconds: float) -> str:
    return (f"{seconds / 3600:.1f} h at the budget's pace" if seconds >= 360
            else f"{seconds / 60:.0f} min at the budget's pace")


def plan_history(engine, source, years, *, today: dt.date, database: str,
                 tables_exist: bool) -> HistoryPlan:
    """Each season's rounds (FastF1's schedule: a run round is one whose race has started
    by ``today``) against the stored ones; what the rest costs through the API."""
    from ..sources.jolpica_api import round_requests

    plan = HistoryPlan(database)
    run = HistoryRun(engine, source, years=years, summary=None, clock=None, today=today)
    for year in years:
        events = [event for event in source.season(year) if event.round_number > 0]
        run_rounds = [event for event in events if _has_started(event, today)]
        stored = 0
        if tables_exist:
            with engine.connect() as connection:
                stored = len(run._complete_rounds(connection, year))
        season = PlannedHistorySeason(year, len(run_rounds), min(stored, len(run_rounds)))
        if season.left:
            season.requests = 1 + season.left * round_requests(year)
            budget = source.budget
            season.seconds = (budget.seconds_needed(season.requests, season.requests)
                              if budget is not None else 0.0)
        plan.seasons.append(season)
    return plan


def _has_started(event, today: dt.date) -> bool:
    starts = [ref.start_utc for ref in event.sessions if ref.start_utc is not None]
    return bool(starts) and max(starts).date() <= today
