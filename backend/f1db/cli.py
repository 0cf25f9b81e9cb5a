"""What the three entry scripts share: argument errors, .env, logging, error -> exit code.

Light on purpose: the scripts import this (and config, errors) before parsing their
arguments, so that ``--help`` and a usage error answer without importing SQLAlchemy,
pandas, Alembic or FastF1 (about a second together); each script imports the library
once its arguments are read.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Callable

from .config import BACKEND_DIR
from .errors import F1DBError, Interrupted, UsageError, first_line

EXIT_OK = 0
_FILE_ONLY_LOGGER = "f1db.exit"
# Until setup_logging gives it the log file, errors logged here go nowhere (never twice
# to the console through logging's last-resort handler).
logging.getLogger(_FILE_ONLY_LOGGER).addHandler(logging.NullHandler())
logging.getLogger(_FILE_ONLY_LOGGER).propagate = False


class ArgumentsError(UsageError):
    """argparse refused the command line; the message is argparse's own line."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) and exit code 2, raised as a
    UsageError so that the script can still write its summary file."""

    def error(self, message):
        raise ArgumentsError(f"{self.prog}: error: {message} (see --help)")


def summary_path_in(argv: list[str] | None) -> str | None:
    """``--summary-json``'s value, read before the whole command line is (so that an error
    in any other flag still reaches the summary file); None when not given."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    found = None
    for index, argument in enumerate(arguments):
        if argument == "--":
            break
        if argument == "--summary-json" and index + 1 < len(arguments):
            found = arguments[index + 1]
        elif argument.startswith("--summary-json="):
            found = argument.split("=", 1)[1]
    return found or None


def number(flag: str, text: str, low: float, high: float, whole: bool) -> int | float:
    """A flag's number within [low, high]: one UsageError line otherwise (also for nan,
    inf, and a fraction where a whole number is wanted)."""
    kind = "a whole number" if whole else "a number"
    try:
        value = int(text.strip()) if whole else float(text.strip())
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"{flag} must be {kind} from {low:g} to {high:g}, not '{text}'")
    return value


def add_database_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", metavar="URL",
                        help="SQLAlchemy URL, e.g. sqlite:///f1.db or "
                             "postgresql://user:pass@host:5432/db (default: DATABASE_URL, then "
                             "Cloud SQL from INSTANCE_CONNECTION_NAME, then backend/f1_data.db)")


def load_env_files() -> None:
    """Read .env from the current folder and from backend/ (the environment wins)."""
    from dotenv import load_dotenv

    for candidate in (Path.cwd() / ".env", BACKEND_DIR / ".env"):
        if candidate.is_file():
            load_dotenv(candidate, override=False)


class _MessageOnly(logging.Formatter):
    """The console's format: the message alone, never a traceback.

    Handled faults are reported as one line; their tracebacks belong in the log file.
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info = record.exc_text = record.stack_info = None
        return super().format(record)


def setup_logging(*, quiet: bool = False, verbose: bool = False,
                  log_file: Path | None = None, bars: bool = False,
                  fastf1: bool = False) -> None:
    """Console (above the bars) and optional file logging; FastF1's INFO chatter quietened.

    FastF1's warnings (missing parts, offline cache misses) go to the log file, and to the
    console only with ``--verbose``: the populator reports missing parts itself.
    """
    from .progress import TqdmLoggingHandler

    console = TqdmLoggingHandler(sys.stderr) if bars else logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING if quiet else logging.INFO)
    console.setFormatter(_MessageOnly("%(message)s"))
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        try:
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"Cannot write the log file {log_file}: {error.strerror}: give "
                             f"another --log-file, or --log-file '' for none") from None
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        handlers.append(file_handler)

    # Errors that end a run are printed by `run`; this logger adds them to the log file.
    file_only = logging.getLogger(_FILE_ONLY_LOGGER)
    file_only.handlers[:] = handlers[1:] or [logging.NullHandler()]
    file_only.propagate = False

    ours = logging.getLogger("f1db")
    ours.handlers[:] = handlers
    ours.setLevel(logging.INFO)
    ours.propagate = False

    if fastf1:
        from .sources.fastf1_source import import_fastf1

        import_fastf1()   # FastF1 installs its own log handler on import: replaced below
    # FastF1's log lines and library warnings (FastF1 uses warnings.warn too) go to the
    # log file, and to the screen only with --verbose.
    library_handlers = (handlers if verbose else handlers[1:]) or [logging.NullHandler()]
    logging.captureWarnings(True)
    # SQLAlchemy's pool logs a full traceback when it drops a broken connection that the
    # populator then retries: handled faults are for the log file, not the console.
    for name in ("fastf1", "py.warnings", "sqlalchemy"):
        library_logger = logging.getLogger(name)
        library_logger.handlers[:] = library_handlers
        library_logger.propagate = False
    # Any other library's records (requests_cache logs a traceback when it falls back to a
    # stale cached response) reach the root logger: without a handler there, Python's
    # last-resort handler would print them, traceback and all, on the console.
    # Handlers others put on the root logger (pytest's, an embedding program's) stay.
    root = logging.getLogger()
    root.handlers[:] = [handler for handler in root.handlers
                        if not getattr(handler, "f1db_installed", False)]
    for handler in library_handlers:
        handler.f1db_installed = True
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    logging.getLogger("fastf1").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    for noisy in ("alembic", "google", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# The library names the argument an error is about by its keyword (F1DBError.parameter);
# the scripts name it by their flag.
FLAGS = {"year": "--year", "max_events": "--max-events", "events": "--event",
         "sessions": "--session", "tables": "--tables", "offline": "--offline",
         "cache_dir": "--cache-dir", "database_url": "--database-url", "shard": "--shard",
         "retries": "--retries", "retry_wait": "--retry-wait",
         "requests_per_hour": "--requests-per-hour",
         "refresh_older_than": "--refresh-older-than", "summary_json": "--summary-json"}


def error_line(error: F1DBError) -> str:
    """``error: <message> (see <flag>)``: the library's message, worded for the command line."""
    if isinstance(error, ArgumentsError):
        return str(error)
    flag = FLAGS.get(error.parameter or "")
    return f"error: {error}" + (f" (see {flag})" if flag else "")


def run(main: Callable[[], int]) -> None:
    """Call ``main`` and exit with its code; library errors become one line on stderr."""
    try:
        code = main()
    except F1DBError as error:
        line = error_line(error)
        print(line, file=sys.stderr)
        logging.getLogger(_FILE_ONLY_LOGGER).error("%s", line)
        code = error.exit_code
    except BrokenPipeError:  # output piped into head & co.
        code = EXIT_OK
    except Exception as error:
        if not _is_sqlalchemy_error(error):
            raise
        # a database fault outside any session (migrations)
        line = f"error: database error: {first_line(error)}: check the database and retry"
        print(line, file=sys.stderr)
        logging.getLogger(_FILE_ONLY_LOGGER).error("%s", line, exc_info=True)
        code = 1
    except KeyboardInterrupt:
        print("Interrupted: sessions stored so far are kept; run again to resume.",
              file=sys.stderr)
        code = 130
    except Interrupted as stop:
        print(f"Stopped by {stop.signal_name}: sessions stored so far are kept; run again to "
              f"resume.", file=sys.stderr)
        code = stop.exit_code
    sys.exit(code)


def _is_sqlalchemy_error(error: Exception) -> bool:
    """Whether ``error`` is SQLAlchemy's, without importing SQLAlchemy: a run that never
    imported it cannot have raised one."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.SQLAlchemyError)
