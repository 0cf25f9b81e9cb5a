"""Every flag and environment variable of populate_db.py, tried systematically: empty,
negative, zero, huge, not a number, not finite, and almost right. Each gives one line naming
what to fix, exit code 2, no traceback, no database made, and a summary file saying so;
never a silent default (docs/RELIABILITY.md)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.entry_scripts import (POPULATE, assert_one_line_error, run_script, script_env,
                                   sqlite_url_of)

pytestmark = pytest.mark.slow      # a hundred runs of the script

ITALY = {"--year": "2021", "--event": "Italian Grand Prix", "--session": "FP2"}
NOT_NUMBERS = ["", " ", "x", "1,5", "nan", "inf", "-inf", "1e999"]

# flag -> values that must be refused (a value is given as the flag's own argument).
FLAG_VALUES = {
    "--year": ["", " ", "-2021", "0", "1949", "99999", "2021.5", "twenty", "2021-",
               "1950-99999", "2021,,2022", "2024-2018"],
    "--max-events": ["", "-1", "1001", "1.5", "ten", "1e3", "10000000000000000000000"],
    "--event": ["", " ", "Narnia", "Vegas", "Grand Prix", "99", "0", "-9"],
    "--session": ["", "XX", "FP4", "Practice 5", "Sprint Qualifying Race"],
    "--tables": ["", ",", "laps,foo", "Laps", "telemetry;laps"],
    "--cache-dir": ["", "{file}"],
    "--refresh-older-than": ["", "-1", "inf", "nan", "1e9", "36501", "3.9.x", "yesterday"],
    "--database-url": ["", " ", "mysql://u@h/db", "sqlite://", "sqlite:///:memory:",
                       "not a url", "sqlite:///{missing}/f1.db"],
    "--shard": ["", "0/2", "3/2", "1/0", "a/b", "1", "-1/2", "1/2/3"],
    "--retries": ["", "-1", "101", "1.5", *NOT_NUMBERS[2:]],
    "--jobs": ["", "0", "-1", "65", "1.5", "two", *NOT_NUMBERS[2:]],
    "--retry-wait": ["", "-1", "301", *NOT_NUMBERS[2:]],
    "--requests-per-hour": ["", "0", "-5", "501", "1.5", *NOT_NUMBERS[2:]],
    "--poll-interval": ["", "0", "0.5", "-1", "10081", *NOT_NUMBERS[2:]],
    "--watch-delay": ["", "-1", "10081", *NOT_NUMBERS[2:]],
    "--give-up-after": ["", "-1", "3651", *NOT_NUMBERS[2:]],
    "--summary-json": ["", "{folder}", "{missing}/s.json"],
    "--log-file": ["{folder}", "{missing}/populate.log"],
}
# Flags only read in a mode: given with it.
MODE = {"--poll-interval": ["--watch"], "--watch-delay": ["--watch"],
        "--give-up-after": ["--watch"]}

# variable -> (values that must be refused, other variables set with it).
CLOUD_SQL = {"INSTANCE_CONNECTION_NAME": "p:r:i", "DB_USER": "u", "DB_PASS": "p", "DB_NAME": "d"}
VARIABLE_VALUES = {
    "DATABASE_URL": (["", " ", "mysql://u@h/db", "sqlite:///:memory:"], {}),
    "INSTANCE_CONNECTION_NAME": (["", " "], {}),
    "DB_USER": ([""], {key: value for key, value in CLOUD_SQL.items() if key != "DB_USER"}),
    "DB_NAME": ([""], {key: value for key, value in CLOUD_SQL.items() if key != "DB_NAME"}),
    "PRIVATE_IP": (["", "maybe", "2"], CLOUD_SQL),
    "DB_IAM_AUTH": (["", "yes please"], CLOUD_SQL),
    "FASTF1_CACHE_DIR": (["", " "], {}),
    "CLOUD_RUN_TASK_INDEX": (["", "x", "3", "-1"], {"CLOUD_RUN_TASK_COUNT": "3"}),
    "CLOUD_RUN_TASK_COUNT": (["", "0", "x"], {"CLOUD_RUN_TASK_INDEX": "0"}),
    "JOB_COMPLETION_INDEX": (["", "x", "2"], {"SHARD_COUNT": "2"}),
    "SHARD_COUNT": (["", "0", "x"], {"JOB_COMPLETION_INDEX": "0"}),
}
# The variable a case's line must name, where it is not the variable itself (a Cloud SQL
# setting that is missing is named as missing).
NAMED = {"DB_USER": "DB_USER", "DB_NAME": "DB_NAME"}

CASES = ([("flag", flag, value) for flag, values in FLAG_VALUES.items() for value in values]
         + [("variable", name, value) for name, (values, _) in VARIABLE_VALUES.items()
            for value in values])


def case_id(case) -> str:
    kind, name, value = case
    return f"{name}={value!r}"


# Variables that choose the database: their cases give no --database-url.
DATABASE_VARIABLES = {"DATABASE_URL", "INSTANCE_CONNECTION_NAME", "DB_USER", "DB_NAME",
                      "PRIVATE_IP", "DB_IAM_AUTH"}


def arguments(kind: str, name: str, value: str, folder, cache) -> tuple[list[str], dict]:
    """The command line and environment of one case, in its own ``folder``."""
    value = value.format(file=folder / "a-file.txt", folder=folder,
                         missing=folder / "no-such-folder")
    given = {name: value} if kind == "flag" else {}
    defaults = {"--cache-dir": str(cache), "--database-url": sqlite_url_of(folder / "f1.db"),
                "--summary-json": str(folder / "summary.json"),
                "--log-file": str(folder / "populate.log")}
    if kind == "variable" and name in DATABASE_VARIABLES:
        del defaults["--database-url"]
    if kind == "variable" and name == "FASTF1_CACHE_DIR":
        del defaults["--cache-dir"]
    args = [*MODE.get(name, []), "--offline"]
    for flag, default in {**ITALY, **defaults}.items():
        args += [flag, given.pop(flag, default)]
    for flag, bad in given.items():
        args += [flag, bad]
    env = script_env()
    if kind == "variable":
        env.update(VARIABLE_VALUES[name][1])
        env[name] = value
    return args, env


@pytest.fixture(scope="module")
def runs(cli_cache, tmp_path_factory) -> dict:
    """Every case run once, a few at a time: {case: (result, folder)}."""
    def run(case):
        folder = tmp_path_factory.mktemp("input")
        (folder / "a-file.txt").write_text("not a folder")
        args, env = arguments(*case, folder, cli_cache)
        return case, (run_script(POPULATE, *args, cwd=folder, env=env, timeout=120), folder)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_bad_value_is_one_line_naming_it_and_changes_nothing(case, runs):
    kind, name, value = case
    result, folder = runs[case]
    line = assert_one_line_error(result)
    assert NAMED.get(name, name) in line, line
    assert not (folder / "f1.db").exists(), "a refused run made the database file"
    assert not (folder / "no-such-folder").exists()
    if name != "--summary-json":
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["exit_code"] == 2 and summary["error"] == line, summary
