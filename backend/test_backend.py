#!/usr/bin/env python
"""Smoke check of the F1 database: connection, tables with row counts, duplicate prevention.

Leaves the database exactly as it found it. Exit code 0 when every check passes, else 1.
"""

from __future__ import annotations

# Light modules only: --help answers without SQLAlchemy (main imports it).
from f1db.cli import ArgumentParser, add_database_url, load_env_files, run, setup_logging
from f1db.config import resolve_database


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="test_backend.py", description=__doc__.split("\n\n")[0])
    add_database_url(parser)
    args = parser.parse_args(argv)
    from f1db.db import open_database
    from f1db.smoke import run_smoke_check

    setup_logging()
    load_env_files()
    with open_database(resolve_database(args.database_url), must_exist=True,
                       write=False) as database:
        report = run_smoke_check(database)
    print(report.render())
    return 0 if report.passed else 1


if __name__ == "__main__":
    run(main)
