"""populate_db.py on a terminal: it never waits for an F1 login, and --quiet keeps the
terminal free of progress bars while the default shows them."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from support.entry_scripts import ITALY_FP2, ITALY_QUALIFYING, offline, populate, sqlite_url_of
from support.pseudo_terminal import Terminal

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions


def test_never_prompts_for_f1_account_on_a_terminal(recorded_cache, tmp_path):
    """FastF1 asks for an F1 login when stdin is a terminal; a batch run must not wait on it.

    Online mode, a session not in the cache, no credentials: FastF1 goes to the network
    (the dead proxy fails it at once) and would prompt if it could read the terminal. Every
    cached answer has expired, as in a cache left for a day: FastF1's HTTP cache tries the
    network, falls back to the stale answer and logs the failure with its traceback, which
    belongs in the log file, not on the console.
    """
    cache = tmp_path / "fastf1-cache"
    shutil.copytree(recorded_cache, cache)   # online mode may write to the cache
    _expire_every_cached_answer(cache)
    with Terminal() as terminal:
        result = populate(tmp_path, *ITALY_QUALIFYING, "--cache-dir", cache,
                          "--database-url", sqlite_url_of(tmp_path / "f1.db"),
                          stdin=terminal.slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True, timeout=120)
    output = result.stdout + result.stderr + terminal.text
    assert "F1 account email" not in output
    assert "Traceback" not in output
    assert result.returncode == 1, output
    assert "FAILED" in result.stdout


def _expire_every_cached_answer(cache: Path) -> None:
    """Mark every answer in FastF1's HTTP cache as expired an hour ago."""
    from requests_cache import SQLiteCache

    http_cache = SQLiteCache(cache / "fastf1_http_cache.sqlite")
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    for key in list(http_cache.responses.keys()):
        answer = http_cache.responses[key]
        answer.expires = an_hour_ago
        http_cache.responses[key] = answer
    http_cache.close()


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "quiet"])
def test_quiet_prints_no_progress_and_summary_on_stderr(quiet, cli_cache, tmp_path):
    """--quiet is for cron: no bars, nothing on stdout; without it a terminal gets bars."""
    with Terminal() as terminal:
        result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--tables", "results",
                          "--database-url", sqlite_url_of(tmp_path / "f1.db"),
                          *(["--quiet"] if quiet else []),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=terminal.slave, start_new_session=True, timeout=120)
    assert result.returncode == 0, terminal.text
    progress_bar = re.compile(r"\d+%\|")
    if quiet:
        assert result.stdout == ""
        assert "Summary for 2021" in terminal.text
        assert not progress_bar.search(terminal.text), terminal.text
        assert "Populating" not in terminal.text       # INFO lines are off too
    else:   # the control: the same terminal does show bars and INFO lines, so the checks
        # above mean something
        assert "Summary for 2021" in result.stdout
        assert progress_bar.search(terminal.text), terminal.text
        assert "Populating" in terminal.text
