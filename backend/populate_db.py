#!/usr/bin/env python
"""Fill a SQL database with a season of Formula 1 sessions from FastF1.

Edit YEAR and MAX_EVENTS below, or override them with flags (see --help). Rerun at any
time: sessions already stored are skipped without calling FastF1, missing parts are
retried, and nothing is ever stored twice.
"""

from __future__ import annotations

import sys
from argparse import RawDescriptionHelpFormatter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from f1db.cli import ArgumentParser, add_database_url, load_env_files, run, setup_logging  # noqa: E402
from f1db.config import BACKEND_DIR  # noqa: E402
from f1db.errors import UsageError  # noqa: E402
from f1db.fetch import SESSION_ABBREVIATIONS  # noqa: E402
from f1db.models import TABLE_NAMES  # noqa: E402
from f1db.populator import DatabasePopulator  # noqa: E402
from f1db.progress import NullProgress, TqdmProgress  # noqa: E402
from f1db.selection import choose_tables  # noqa: E402

YEAR = 2018        # the season to load
MAX_EVENTS = 1     # how many events of the season (0 = all of them)

EPILOG = """\
exit codes: 0 every selected session stored or skipped (missing upstream parts included),
            1 a session failed or the run stopped, 2 bad usage or configuration.
environment (also read from .env): DATABASE_URL; INSTANCE_CONNECTION_NAME, DB_USER, DB_PASS,
DB_NAME, PRIVATE_IP, DB_IAM_AUTH for Cloud SQL; FASTF1_CACHE_DIR; F1_USERNAME, F1_PASSWORD.
See README.md and .env.example."""


def season(value: str) -> int:
    if not value.strip().isdigit():
        raise UsageError(f"--year must be a season such as 2023, not '{value}'")
    return int(value)


def event_count(value: str) -> int:
    if not value.strip().lstrip("-").isdigit() or int(value) < 0:
        raise UsageError(f"--max-events must be 0 (no limit) or more, not '{value}'")
    return int(value)


def table_list(value: str | None, *, telemetry: bool) -> tuple[str, ...]:
    """``--tables t1,t2`` (None: all) less telemetry tables with ``--no-telemetry``."""
    return choose_tables(None if value is None else tuple(value.split(",")),
                         telemetry=telemetry)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="populate_db.py", description=__doc__.split("\n\n")[0],
                            epilog=EPILOG, formatter_class=RawDescriptionHelpFormatter)
    parser.add_argument("--year", type=str, default=str(YEAR),
                        help=f"season to load (default: YEAR = {YEAR})")
    parser.add_argument("--max-events", type=str, default=None, metavar="N",
                        help=f"load at most N events of the season, 0 for all (default: "
                             f"MAX_EVENTS = {MAX_EVENTS}, or all events named with --event)")
    parser.add_argument("--event", action="append", default=[], metavar="NAME_OR_ROUND",
                        help="only this event: a name (fuzzy, e.g. Monza, 'British Grand "
                             "Prix') or a round number; repeatable")
    parser.add_argument("--session", action="append", default=[], metavar="ID",
                        help=f"only this session: {' '.join(SESSION_ABBREVIATIONS)} or a full "
                             f"name such as 'Practice 1'; repeatable")
    parser.add_argument("--tables", metavar="T1,T2",
                        help=f"only these tables (default: all): {', '.join(TABLE_NAMES)}")
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
    add_database_url(parser)
    parser.add_argument("--summary-json", metavar="PATH",
                        help="also write the run summary as JSON to PATH")
    parser.add_argument("--log-file", metavar="PATH", default=str(BACKEND_DIR / "populate_db.log"),
                        help="log file (default: backend/populate_db.log); '' for none")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars, only warnings and errors (for cron)")
    parser.add_argument("--verbose", action="store_true",
                        help="also show FastF1's own log lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quiet and args.verbose:
        raise UsageError("--quiet and --verbose contradict each other: pick one")
    year = season(args.year)
    max_events = event_count(args.max_events) if args.max_events is not None else (
        None if args.event else MAX_EVENTS)
    summary_path = Path(args.summary_json) if args.summary_json else None
    if summary_path and not summary_path.parent.is_dir():
        raise UsageError(f"--summary-json: folder {summary_path.parent} does not exist")
    show_bars = not args.quiet and sys.stderr.isatty()
    setup_logging(quiet=args.quiet, verbose=args.verbose, bars=show_bars,
                  log_file=Path(args.log_file) if args.log_file else None, fastf1=True)
    load_env_files()

    populator = DatabasePopulator(
        year, database_url=args.database_url, events=tuple(args.event),
        sessions=tuple(args.session),
        tables=table_list(args.tables, telemetry=not args.no_telemetry),
        force=args.force, offline=args.offline, cache_dir=args.cache_dir,
        include_testing=args.include_testing,
        progress=TqdmProgress() if show_bars else NullProgress())
    try:
        summary = populator.populate_database(max_events=max_events or None)
    finally:
        populator.close()
    if summary_path:
        summary.write_json(summary_path)
    print(summary.render(), file=sys.stderr if args.quiet else sys.stdout)
    return summary.exit_code


if __name__ == "__main__":
    run(main)
