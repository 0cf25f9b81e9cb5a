"""A SQLite database on a read-only disk: loading is refused in one line before anything is
done (before: "Check that the server runs"), while --plan and the smoke check read it."""

from __future__ import annotations

import shutil

import pytest

from support.disks import read_only, small_disk
from support.entry_scripts import (ITALY_FP2, SMOKE, assert_one_line_error, offline, populate,
                                   run_script, sqlite_url_of)

pytestmark = pytest.mark.slow      # runs the scripts


def test_a_read_only_sqlite_file_is_refused_for_loading_and_read_for_a_plan(
        cli_cache, populated, tmp_path):
    with small_disk(tmp_path / "disk", 64) as disk:
        shutil.copyfile(populated["path"], disk / "f1.db")
        read_only(disk)
        url = sqlite_url_of(disk / "f1.db")
        load = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", url,
                        "--force")
        plan = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", url,
                        "--plan")
        smoke = run_script(SMOKE, "--database-url", url, cwd=tmp_path)
    line = assert_one_line_error(load)
    assert "cannot be written" in line and "read-only" in line, line
    assert line.endswith("(see --database-url)") and "server runs" not in line
    assert plan.returncode == 0, plan.stderr
    assert "2021 Italian Grand Prix" in plan.stdout and "stored" in plan.stdout
    assert smoke.returncode == 1 and "Traceback" not in smoke.stdout + smoke.stderr
    assert "read-only, so duplicate prevention cannot be proven" in smoke.stdout
    assert "ok    table laps" in smoke.stdout
