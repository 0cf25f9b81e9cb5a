#!/usr/bin/env python
"""Fill a SQL database with seasons of Formula 1 sessions from FastF1.

Edit YEAR and MAX_EVENTS below, or override them with flags (see --help). Rerun at any
time: sessions already stored are skipped without calling FastF1, missing parts are
retried, and nothing is ever stored twice, however many runs work at once.
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
from argparse import RawDescriptionHelpFormatter
from pathlib import Path

# Only light modules here: --help and usage errors must answer without importing
# SQLAlchemy, pandas, Alembic or FastF1 (about a second); main() imports the library once
# the arguments are read (tests/test_startup.py checks both).
from f1db.cli import (ArgumentParser, add_database_url, error_line, load_env_files, number, run,
                      setup_logging, summary_path_in)
from f1db.config import BACKEND_DIR
from f1db.errors import F1DBError, Interrupted, UsageError
from f1db.outputs import SummaryFile
from f1db.progress import NullProgress, TqdmProgress
from f1db.signals import stop_on_signals

YEAR = 2018        # the season to load
MAX_EVENTS = 1     # how many events of the season (0 = all of them)
EXIT_BUDGET_SPENT = 3

# For --help only, so that it needs neither SQLAlchemy nor FastF1: the same lists as
# models.TABLE_NAMES and sources.events.SESSION_ABBREVIATIONS, which check the values
# (tests/test_startup.py fails when these differ from them).
TABLES = ("results", "laps", "weather", "telemetry", "positions", "session_status",
          "track_status", "race_control_messages", "session_info", "circuit_layouts",
          "circuit_markers", "driver_standings", "constructor_standings")
SESSION_IDS = ("FP1", "FP2", "FP3", "Q", "SQ", "SS", "S", "R")

EPILOG = """\
exit codes: 0 every selected session stored or skipped (missing upstream parts included),
            1 a session failed or the run stopped, 2 bad usage, configuration, an unusable
            FastF1 cache folder, a damaged schema or a permission the database role lacks,
            3 the hour's request budget is spent (--no-wait), 130 SIGINT, 143 SIGTERM,
            129 SIGHUP (the sessions in flight are rolled back, the summary written).
environment (also read from .env): DATABASE_URL; INSTANCE_CONNECTION_NAME, DB_USER, DB_PASS,
DB_NAME, PRIVATE_IP, DB_IAM_AUTH for Cloud SQL; FASTF1_CACHE_DIR; F1_USERNAME, F1_PASSWORD;
CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT or JOB_COMPLETION_INDEX/SHARD_COUNT (the shard).
See docs/USAGE.md and .env.example."""


def table_list(value: str | None, *, telemetry: bool) -> tuple[str, ...]:
    """``--tables t1,t2`` (None: all) less telemetry tables with ``--no-telemetry``."""
    from f1db.selection import choose_tables

    return choose_tables(None if value is None else tuple(value.split(",")),
                         telemetry=telemetry)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="populate_db.py", description=__doc__.split("\n\n")[0],
                            epilog=EPILOG, formatter_class=RawDescriptionHelpFormatter)
    parser.add_argument("--year", type=str, default=None, metavar="YEARS",
                        help=f"season(s) to load: 2023, 2018-2024, 2019,2021 (default: YEAR = "
                             f"{YEAR}; with --watch, the current season)")
    parser.add_argument("--max-events", type=str, default=None, metavar="N",
                        help=f"load at most N events of the season, 0 for all (default: "
                             f"MAX_EVENTS = {MAX_EVENTS}, or all events named with --event)")
    parser.add_argument("--event", action="append", default=[], metavar="NAME_OR_ROUND",
                        help="only this event: a name (fuzzy, e.g. Monza, 'British Grand "
                             "Prix') or a round number; repeatable")
    parser.add_argument("--session", action="append", default=[], metavar="ID",
                        help=f"only this session: {' '.join(SESSION_IDS)} or a full "
                             f"name such as 'Practice 1'; repeatable")
    parser.add_argument("--tables", metavar="T1,T2",
                        help=f"only these tables (default: all): {', '.join(TABLES)}")
    parser.add_argument("--no-telemetry", action="store_true",
                        help="leave out telemetry and positions (far fewer rows and downloads)")
    parser.add_argument("--include-testing", action="store_true",
                        help="also load pre-season testing (stored as round -1, -2, ...)")
    parser.add_argument("--force", action="store_true",
                        help="reload sessions already stored, replacing their rows")
    parser.add_argument("--offline", action="store_true",
                        help="FastF1 offline mode: use only its cache, never the network")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="FastF1 cache folder, created if missing (default: "
                             "FASTF1_CACHE_DIR, then backend/fastf1_cache)")
    parser.add_argument("--refresh-older-than", metavar="DAYS_OR_VERSION",
                        help="also reload sessions stored more than DAYS ago, or by a FastF1 "
                             "older than VERSION (e.g. 3.9.0)")
    add_database_url(parser)
    runs = parser.add_argument_group("long runs and many workers")
    runs.add_argument("--plan", action="store_true",
                      help="print what is stored, partial, missing or failed per season and "
                           "event, and the requests and time the rest needs; loads nothing, "
                           "writes nothing")
    runs.add_argument("--shard", metavar="K/N",
                      help="only shard K of N of the selection (split by estimated cost; the "
                           "same split in every worker); default from CLOUD_RUN_TASK_INDEX/"
                           "CLOUD_RUN_TASK_COUNT or JOB_COMPLETION_INDEX/SHARD_COUNT")
    runs.add_argument("--jobs", metavar="N", default="1",
                      help="load N sessions at once in N worker processes on this machine, "
                           "each a FastF1 of its own (about 0.5 GB for a race with "
                           "telemetry); one progress display, summary and log (default 1)")
    runs.add_argument("--retries", metavar="N", default="3",
                      help="new attempts of a session after a transient fault (default 3)")
    runs.add_argument("--retry-wait", metavar="SECONDS", default="10",
                      help="first backoff wait, doubled per attempt, with jitter, at most "
                           "300 s (default 10)")
    runs.add_argument("--requests-per-hour", metavar="N", default="500",
                      help="the hourly request budget, shared by every run on the same "
                           "PostgreSQL database (SQLite: on the same FastF1 cache folder); "
                           "default and most: FastF1's 500; Jolpica gets 2/5 of it")
    runs.add_argument("--no-wait", action="store_true",
                      help="when the hour's request budget is spent, stop (exit 3) instead "
                           "of waiting for it")
    runs.add_argument("--watch", action="store_true",
                      help="keep the season current: load each session once it has ended "
                           "plus --watch-delay; runs until SIGTERM or Ctrl-C")
    runs.add_argument("--poll-interval", metavar="MINUTES", default="15",
                      help="--watch: minutes between polls (default 15)")
    runs.add_argument("--watch-delay", metavar="MINUTES", default="90",
                      help="--watch: minutes after a session's end before loading it "
                           "(default 90: data arrives 30-120 minutes late)")
    runs.add_argument("--give-up-after", metavar="DAYS", default="7",
                      help="--watch: stop retrying a session's missing parts once it is this "
                           "many days old (default 7)")
    history = parser.add_argument_group("history (Jolpica's data since 1950)")
    history.add_argument("--history", nargs="?", const="dump", choices=("dump", "api"),
                         help="load Jolpica's history tables instead of FastF1 sessions: "
                              "from its CSV dump (the default: one download, every season "
                              "unless --year) or from its API (needs --year; every request "
                              "counted in the budget); see docs/USAGE.md")
    history.add_argument("--history-file", metavar="ZIP",
                         help="a Jolpica CSV dump already on disk (implies --history dump; "
                              "no network)")
    parser.add_argument("--summary-json", metavar="PATH",
                        help="also write the run summary as JSON to PATH")
    parser.add_argument("--log-file", metavar="PATH", default=str(BACKEND_DIR / "populate_db.log"),
                        help="log file (default: backend/populate_db.log); '' for none")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars, only warnings and errors (for cron)")
    parser.add_argument("--verbose", action="store_true",
                        help="also show FastF1's own log lines")
    return parser


# Bounds of the numeric flags: (low, high, whole number?). A value outside is one usage
# line; none is ever clipped to a default.
NUMBERS = {"--max-events": (0, 1000, True), "--retries": (0, 100, True),
           "--jobs": (1, 64, True),
           "--retry-wait": (0, 300, False), "--requests-per-hour": (1, 500, True),
           "--poll-interval": (1, 10080, False), "--watch-delay": (0, 10080, False),
           "--give-up-after": (0, 3650, False)}
# Flags whose empty value means something: --log-file '' writes no log file.
EMPTY_ALLOWED = {"log_file"}


def checked(args) -> dict:
    """Every flag's value checked before any work: one UsageError line for the first bad
    one. Numbers are parsed here, within NUMBERS' bounds."""
    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        if name not in EMPTY_ALLOWED and any(isinstance(v, str) and not v.strip()
                                             for v in values):
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} is empty: give a value (see --help)")
    if args.quiet and args.verbose:
        raise UsageError("--quiet and --verbose contradict each other: pick one")
    if args.plan and args.watch:
        raise UsageError("--plan and --watch contradict each other: pick one")
    if args.jobs.strip() != "1" and args.watch:
        raise UsageError("--watch loads each session as it ends, one at a time: it takes no "
                         "--jobs")
    if args.jobs.strip() != "1" and (args.history or args.history_file):
        raise UsageError("--jobs loads FastF1 sessions in worker processes; --history "
                         "loads Jolpica's history in one process: drop --jobs")
    if args.history_file and args.history == "api":
        raise UsageError("--history-file is a dump: it goes with --history dump, not api")
    if (args.history or args.history_file) and args.watch:
        raise UsageError("--history loads Jolpica's history; --watch is for FastF1 "
                         "sessions: run them separately")
    if args.history or args.history_file:
        for flag in ("shard", "tables", "event", "session", "max_events", "no_telemetry",
                     "include_testing", "refresh_older_than"):
            if getattr(args, flag):
                raise UsageError(f"--{flag.replace('_', '-')} chooses FastF1 sessions; "
                                 f"--history loads whole rounds of Jolpica's history (choose "
                                 f"seasons with --year)")
    if args.history == "api" and not args.year and not args.plan:
        raise UsageError("--history api needs --year (the API takes a few hundred requests "
                         "a season at 200 an hour); the dump has every season at once")
    given = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in NUMBERS}
    return {flag: number(flag, value, *NUMBERS[flag]) for flag, value in given.items()
            if value is not None}


def main(argv: list[str] | None = None) -> int:
    summary_path = summary_path_in(argv)
    summary_file = SummaryFile(Path(summary_path)) if summary_path else None
    try:
        if summary_file:
            summary_file.check()
        args = build_parser().parse_args(argv)
        numbers = checked(args)
        if summary_file:
            summary_file.started()
        return populate(args, numbers, summary_file)
    except (F1DBError, Interrupted) as error:
        if summary_file and not (isinstance(error, UsageError)
                                 and error.parameter == "summary_json"):
            summary_file.failed(error.exit_code, error_line(error)
                                if isinstance(error, F1DBError) else str(error))
        raise
    except Exception as error:                 # a bug: the summary says so, then the traceback
        if summary_file:
            summary_file.failed(1, f"crashed: {type(error).__name__}: {error} (the traceback "
                                   f"is on the console)")
        raise


def populate(args, numbers: dict, summary_file: SummaryFile | None) -> int:
    from f1db.populator import DatabasePopulator
    from f1db.selection import parse_years

    this_year = dt.datetime.now(dt.timezone.utc).year
    history_plan = bool(args.history or args.history_file) and args.plan
    years = parse_years(args.year or (f"1950-{this_year}" if history_plan else
                                      str(this_year) if args.watch else YEAR))
    max_events = numbers.get("--max-events", None if args.event else MAX_EVENTS)
    show_bars = not args.quiet and sys.stderr.isatty()
    setup_logging(quiet=args.quiet, verbose=args.verbose, bars=show_bars,
                  log_file=Path(args.log_file) if args.log_file else None, fastf1=True)
    load_env_files()
    # What the imports made (130,000 objects of SQLAlchemy, pandas, FastF1...) lives as long
    # as the process: frozen, it is left out of every later garbage collection, which then
    # scans only what the run makes.
    gc.freeze()

    populator = DatabasePopulator(
        years, database_url=args.database_url, events=tuple(args.event),
        sessions=tuple(args.session),
        tables=table_list(args.tables, telemetry=not args.no_telemetry),
        force=args.force, offline=args.offline, cache_dir=args.cache_dir,
        include_testing=args.include_testing,
        progress=TqdmProgress() if show_bars else NullProgress(),
        shard=args.shard, retries=numbers["--retries"], retry_wait=numbers["--retry-wait"],
        wait_for_budget=not args.no_wait, requests_per_hour=numbers["--requests-per-hour"],
        refresh_older_than=args.refresh_older_than, jobs=numbers["--jobs"])
    if args.history or args.history_file:
        return load_history(args, populator, output=sys.stderr if args.quiet else sys.stdout,
                            summary_file=summary_file)
    with stop_on_signals():
        try:
            if args.plan:
                summary = populator.plan_run(max_events=max_events or None)
            elif args.watch:
                summary = populator.watch(
                    max_events=max_events or None, poll_seconds=60 * numbers["--poll-interval"],
                    delay=dt.timedelta(minutes=numbers["--watch-delay"]),
                    give_up_after=dt.timedelta(days=numbers["--give-up-after"]))
            else:
                summary = populator.populate_database(max_events=max_events or None)
        finally:
            populator.close()
        output = sys.stderr if args.quiet else sys.stdout
        print(summary.render(), file=output)
        if summary.exit_code == EXIT_BUDGET_SPENT:
            print("Resume: run the same command again once the budget frees up; stored "
                  "sessions are skipped.", file=output)
        if summary_file:
            write_summary(summary_file, summary.to_json())
    return summary.exit_code


def load_history(args, populator, *, output, summary_file: SummaryFile | None) -> int:
    """``--history``: Jolpica's history into the history tables (or, with ``--plan``,
    what that would cost); the summary printed."""
    with stop_on_signals():
        try:
            if args.plan:
                summary = populator.plan_history()
            else:
                summary = populator.load_history(
                    "dump" if args.history_file else args.history, all_seasons=not args.year,
                    dump_file=args.history_file, force=args.force)
        finally:
            populator.close()
    print(summary.render(), file=output)
    if summary_file:
        write_summary(summary_file, summary.to_json())
    return summary.exit_code


def write_summary(summary_file: SummaryFile, data: dict) -> None:
    """The run's summary; a file that could no longer be written (a disk filled during the
    run) is one line and exit code 1, the run's own outcome already printed above."""
    try:
        summary_file.write(data)
    except OSError as error:
        raise F1DBError(f"The run ended (exit code {data['exit_code']}) but its summary "
                        f"could not be written to {summary_file.path}: "
                        f"{error.strerror or error}") from None


if __name__ == "__main__":
    run(main)
