"""The entry scripts' --help, and populate_db.py run from the repository root or backend/."""

from __future__ import annotations

import re

import pytest

from f1db.models import TABLE_NAMES
from f1db.selection import tables_of_session
from support.database import ledger_row, stored_sessions
from support.entry_scripts import (BACKEND, ITALY_FP2, ITALY_FP2_STORED, MIGRATE, POPULATE, SMOKE,
                                   offline, run_script, sqlite_url_of)

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

POPULATE_FLAGS = ("--year", "--max-events", "--event", "--session", "--tables", "--no-telemetry",
                  "--include-testing", "--force", "--offline", "--cache-dir", "--database-url",
                  "--summary-json", "--log-file", "--quiet", "--verbose")


@pytest.mark.parametrize("script, flags", [
    (POPULATE, POPULATE_FLAGS),
    (MIGRATE, ("--database-url", "--sql")),
    (SMOKE, ("--database-url",)),
], ids=["populate_db", "migrate_db", "test_backend"])
def test_help_lists_every_flag(script, flags, tmp_path):
    """--help is the reference a user reads first: it must name every flag and exit 0."""
    result = run_script(script, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    missing = [flag for flag in flags if not re.search(rf"{flag}\b", result.stdout)]
    assert not missing, result.stdout


def test_runs_from_repo_root(populated):
    """`python backend/populate_db.py` from the repository root (the populated fixture)."""
    assert "Summary for 2021" in populated["result"].stdout, populated["result"].stdout
    assert stored_sessions(populated["url"]) == [ITALY_FP2_STORED]
    year, _, session_type = ITALY_FP2_STORED
    statuses = ledger_row(populated["url"], year, session_type)["statuses"]
    assert statuses == dict.fromkeys(tables_of_session(TABLE_NAMES, session_type), "loaded")


def test_runs_from_backend_folder(cli_cache, tmp_path):
    """`cd backend && python populate_db.py`: the script finds its package from there too."""
    path = tmp_path / "f1.db"
    result = run_script("populate_db.py", *ITALY_FP2, *offline(cli_cache), "--no-telemetry",
                        "--database-url", sqlite_url_of(path),
                        "--log-file", tmp_path / "populate.log", cwd=BACKEND)
    assert result.returncode == 0, result.stderr
    assert stored_sessions(sqlite_url_of(path)) == [ITALY_FP2_STORED]
