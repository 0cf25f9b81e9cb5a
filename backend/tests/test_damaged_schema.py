"""A schema changed by hand (a table renamed, a column dropped) is found before any load, on
both databases: populate_db.py, --plan and migrate_db.py say so in one line with exit 2 and
load nothing, and the smoke check fails it. Before, every session was loaded with FastF1 and
then failed, leaving a failure row per run, while migrate_db.py said "up to date"."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine

from f1db.config import normalise_url
from support.database import row_counts
from support.entry_scripts import (ITALY_FP2, MIGRATE, SMOKE, assert_one_line_error, offline,
                                   populate, run_script)

pytestmark = pytest.mark.slow      # runs the scripts

DAMAGE = {
    "table-renamed": ("ALTER TABLE session_status RENAME TO session_status_old",
                      "table session_status is missing"),
    "column-dropped": ("ALTER TABLE laps DROP COLUMN speed_i1",
                       "table laps has no column speed_i1"),
    "view-dropped": ("DROP VIEW pit_stops", "view pit_stops is missing"),
}


def damage(url: str, statement: str) -> None:
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_schema_is_one_line_before_any_load(case, cli_cache, database_url,
                                                      tmp_path):
    statement, words = DAMAGE[case]
    first = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", database_url,
                     "--tables", "results")
    assert first.returncode == 0, first.stderr
    damage(database_url, statement)
    before = row_counts(database_url, ("results", "sessions", "session_failures"))

    summary_json = tmp_path / "summary.json"
    run = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", database_url,
                   "--force", "--summary-json", summary_json)
    plan = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", database_url,
                    "--plan")
    migrate = run_script(MIGRATE, "--database-url", database_url, cwd=tmp_path)
    smoke = run_script(SMOKE, "--database-url", database_url, cwd=tmp_path)

    for result, script in ((run, "populate_db.py"), (plan, "populate_db.py"),
                           (migrate, "migrate_db.py")):
        line = assert_one_line_error(result, script)
        assert words in line and "changed by hand" in line, line
    # FastF1 loaded the session once: for the first run, none after the damage.
    assert (tmp_path / "populate.log").read_text().count("with FastF1") == 1
    assert json.loads(summary_json.read_text())["exit_code"] == 2
    assert row_counts(database_url, ("results", "sessions", "session_failures")) == before
    assert smoke.returncode == 1 and f"FAIL  {words}" in smoke.stdout
