"""populate_db.py keeps the database password out of every output, and reads DATABASE_URL
from .env unless --database-url is given."""

from __future__ import annotations

import pytest

from support.database import row_counts
from support.entry_scripts import (ITALY_FP2, SECRET, assert_one_line_error, offline, populate,
                                   script_env, sqlite_url_of)

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions


def test_password_in_unreachable_database_url_is_never_shown(cli_cache, tmp_path):
    """A failed connection reports the server, not the password from DATABASE_URL."""
    log_file = tmp_path / "populate.log"
    env = script_env(DATABASE_URL=f"postgresql://postgres:{SECRET}@127.0.0.1:5999/x")
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), log_file=log_file, env=env)
    line = assert_one_line_error(result)
    assert "127.0.0.1:5999" in line
    assert SECRET not in result.stdout + result.stderr
    log = log_file.read_text()
    assert line in log, log       # the log has the error too, so the check below means something
    assert SECRET not in log


def test_password_never_shown_during_a_successful_load(cli_cache, postgres_url, tmp_path):
    """Logs and summaries get shared; the password of a real server must not be in them."""
    name = postgres_url.rsplit("/", 1)[1]
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/{name}"   # trust auth ignores it
    log_file, summary_path = tmp_path / "populate.log", tmp_path / "summary.json"
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", url,
                      "--summary-json", summary_path, log_file=log_file)
    assert result.returncode == 0, result.stderr
    assert row_counts(postgres_url)["sessions"] == 1
    assert "***" in result.stdout
    for text in (result.stdout, result.stderr, log_file.read_text(), summary_path.read_text()):
        assert SECRET not in text


def test_dotenv_in_current_folder_names_the_database(cli_cache, tmp_path):
    """Users keep DATABASE_URL in .env; with no flag, that database is created and filled."""
    from_env = tmp_path / "fromenv.db"
    (tmp_path / ".env").write_text(f"DATABASE_URL={sqlite_url_of(from_env)}\n")
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--tables", "results")
    assert result.returncode == 0, result.stderr
    assert row_counts(sqlite_url_of(from_env))["results"] == 20


def test_database_url_flag_beats_dotenv(cli_cache, tmp_path):
    """The flag is the most specific setting: .env's database is not even created."""
    from_env, from_flag = tmp_path / "fromenv.db", tmp_path / "fromflag.db"
    (tmp_path / ".env").write_text(f"DATABASE_URL={sqlite_url_of(from_env)}\n")
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--tables", "results",
                      "--database-url", sqlite_url_of(from_flag))
    assert result.returncode == 0, result.stderr
    assert row_counts(sqlite_url_of(from_flag))["results"] == 20
    assert not from_env.exists()
