#!/usr/bin/env python
"""Create or upgrade the F1 database schema to the newest revision (Alembic).

Safe to run any number of times, also several at once: an up-to-date database is left as
it is. Run it as the role that owns the tables (docs/OPERATIONS.md, "Least privilege").
"""

from __future__ import annotations

# Light modules only: --help answers without SQLAlchemy or Alembic (main imports them).
from f1db.cli import ArgumentParser, add_database_url, load_env_files, run, setup_logging
from f1db.config import resolve_database


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="migrate_db.py", description=__doc__.split("\n\n")[0])
    add_database_url(parser)
    parser.add_argument("--sql", action="store_true",
                        help="print the DDL for an empty database instead of running it "
                             "(for DBAs; nothing is connected to)")
    args = parser.parse_args(argv)
    from f1db.db import open_database
    from f1db.schema import upgrade, upgrade_sql

    setup_logging()
    load_env_files()
    target = resolve_database(args.database_url)
    if args.sql:
        dialect = "postgresql" if target.dialect == "postgresql" else "sqlite"
        print(upgrade_sql(f"{dialect}://"), end="")
        return 0
    with open_database(target) as database:
        # upgrade() holds the schema lock while it checks and migrates: a run started at the
        # same time waits, then finds nothing to do.
        before, after = upgrade(database)
        if before == after:
            print(f"{database.describe()} is up to date (revision {after}); nothing to do.")
        else:
            print(f"{database.describe()}: migrated from {before or 'an empty database'} "
                  f"to revision {after}.")
    return 0


if __name__ == "__main__":
    run(main)
