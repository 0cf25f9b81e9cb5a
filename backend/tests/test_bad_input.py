"""populate_db.py refusing bad input: one line on stderr, exit 2, no traceback, the flag to
fix, and no database touched or created."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.database import row_counts
from support.entry_scripts import (ITALY_FP2, SECRET, assert_one_line_error, offline, populate,
                                   script_env, sqlite_url_of)

# In the arguments below, {empty} is an empty folder and {missing} a folder that does not
# exist, both in the run's own tmp folder.

# Arguments refused while the command line is read; each runs against a copy of the
# populated database, which must not change.
BAD_ARGUMENTS = {
    "year-not-a-number": ["--year", "abc"],
    "year-before-1950": ["--year", "1800"],
    "unknown-session": ["--year", "2021", "--session", "XX"],
    "negative-max-events": ["--max-events", "-1"],
    "unknown-table": ["--tables", "foo"],
    "quiet-and-verbose": ["--quiet", "--verbose"],
    "unknown-flag": ["--no-such-flag"],
    "summary-folder-missing": ["--summary-json", "{missing}/s.json"],
}
# Selections refused only once FastF1's schedule or cache has been read: these also run
# against a fresh SQLite path, which must not appear.
BAD_SELECTIONS = {
    "unknown-event": ["--year", "2021", "--event", "Narnia"],
    "no-such-round": ["--year", "2021", "--event", "99"],
    "no-sprint-that-weekend": ["--year", "2021", "--event", "Mexico City", "--session", "S"],
    "season-not-in-cache": ["--year", "2019"],
    "empty-cache-offline": ["--year", "2021", "--offline", "--cache-dir", "{empty}"],
}
# Database URLs that must be refused, with a valid selection that would otherwise load,
# and what the line must say for each.
BAD_DATABASE_URLS = {
    "mysql": "mysql://u@h/db",
    "not-a-url": "not a url",
    "unreachable-postgres": f"postgresql://postgres:{SECRET}@127.0.0.1:5999/x",
    "sqlite-folder-missing": "sqlite:///{missing}/x.db",
}
DATABASE_URL_LINE = {
    "mysql": ("'mysql'", "sqlite:///"),            # the scheme refused, and a URL to use
    "not-a-url": ("sqlite:///",),
    "unreachable-postgres": ("127.0.0.1:5999",),   # the server it could not reach
    "sqlite-folder-missing": ("{missing}/x.db",),
}

# The flag each line points at. "see": the library raised the error about one of its
# arguments (F1DBError.parameter) and the command line added " (see FLAG)" (argparse's
# own errors get " (see --help)"); "in message": populate_db.py raised it with the flag
# already in the message, so nothing is added.
POINTS_AT = {
    "year-not-a-number": ("--year", "see"),           # selection.parse_years
    "year-before-1950": ("--year", "see"),
    "unknown-session": ("--session", "see"),
    "negative-max-events": ("--max-events", "in message"),
    "unknown-table": ("--tables", "see"),
    "quiet-and-verbose": ("--quiet", "in message"),
    "unknown-flag": ("--help", "see"),
    "summary-folder-missing": ("--summary-json", "see"),
    "unknown-event": ("--event", "see"),
    "no-such-round": ("--event", "see"),
    "no-sprint-that-weekend": ("--session", "see"),
    "season-not-in-cache": ("--offline", "see"),    # the cache lacks it: not the year's fault
    "empty-cache-offline": ("--offline", "see"),
    "mysql": ("--database-url", "see"),
    "not-a-url": ("--database-url", "see"),
    "unreachable-postgres": ("--database-url", "see"),   # the URL came from the flag
    "sqlite-folder-missing": ("--database-url", "see"),
}
assert set(POINTS_AT) == {*BAD_ARGUMENTS, *BAD_SELECTIONS, *BAD_DATABASE_URLS}


def in_folder(text: str, folder) -> str:
    """``text`` with {empty} and {missing} made paths in the run's folder."""
    return text.format(empty=folder / "empty", missing=folder / "no-such-folder")


@pytest.fixture(scope="module")
def bad_input_runs(cli_cache, populated, tmp_path_factory) -> dict:
    """Every bad-input run, a few at a time (each is mostly Python start-up).

    Returns {(case, target): (result, folder)}; target "populated" (a copy of the populated
    database at folder/f1.db), "fresh" (no file at folder/f1.db) or "url" (its own URL).
    The run's log file is folder/populate.log.
    """
    cases = [(case, "populated", args) for case, args in {**BAD_ARGUMENTS,
                                                            **BAD_SELECTIONS}.items()]
    cases += [(case, "fresh", args) for case, args in BAD_SELECTIONS.items()]
    cases += [(case, "url", [*ITALY_FP2, "--database-url", url])
              for case, url in BAD_DATABASE_URLS.items()]
    jobs = {}
    for case, target, args in cases:
        folder = tmp_path_factory.mktemp(f"bad-{case}-{target}")
        (folder / "empty").mkdir()
        args = [in_folder(arg, folder) for arg in args]
        if "--cache-dir" not in args:
            args += offline(cli_cache)
        if target == "populated":
            shutil.copyfile(populated["path"], folder / "f1.db")
        if "--database-url" not in args:
            args += ["--database-url", sqlite_url_of(folder / "f1.db")]
        jobs[(case, target)] = (folder, args)

    def run(key):
        folder, args = jobs[key]
        return key, (populate(folder, *args, timeout=60), folder)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        return dict(pool.map(run, jobs))


@pytest.mark.parametrize("case", [*BAD_ARGUMENTS, *BAD_SELECTIONS])
def test_bad_input_is_one_line_and_changes_nothing(case, bad_input_runs, populated):
    """A typo must cost one readable line, never a traceback or a touched database."""
    result, folder = bad_input_runs[(case, "populated")]
    assert_one_line_error(result)
    assert row_counts(sqlite_url_of(folder / "f1.db")) == populated["counts"]


@pytest.mark.parametrize("case", BAD_SELECTIONS)
def test_bad_selection_creates_no_database(case, bad_input_runs):
    """The selection is checked before the database is opened, so no empty file is left."""
    result, folder = bad_input_runs[(case, "fresh")]
    assert_one_line_error(result)
    assert not (folder / "f1.db").exists(), "a refused run created the database file"


@pytest.mark.parametrize("case", POINTS_AT)
def test_bad_input_line_points_at_the_flag_once(case, bad_input_runs):
    """The line names the flag to fix exactly once: the library's errors get "(see --flag)"
    added, the script's own errors (which name their flag) get nothing added."""
    target = "url" if case in BAD_DATABASE_URLS else "populated"
    result, _ = bad_input_runs[(case, target)]
    line = assert_one_line_error(result)
    flag, how = POINTS_AT[case]
    assert line.count(flag) == 1, line
    if how == "see":
        assert line.endswith(f" (see {flag})"), line
    else:
        assert "(see " not in line, line


@pytest.mark.parametrize("case", BAD_DATABASE_URLS)
def test_bad_database_urls_are_one_line(case, bad_input_runs):
    """Unsupported, malformed or unreachable databases: one line saying what to fix, and
    never the password (not in the log file either, which holds the line too)."""
    result, folder = bad_input_runs[(case, "url")]
    line = assert_one_line_error(result)
    for fragment in DATABASE_URL_LINE[case]:
        assert in_folder(fragment, folder) in line, (fragment, line)
    log = (folder / "populate.log").read_text()
    assert line in log, log
    assert SECRET not in result.stdout + result.stderr + log


@pytest.mark.parametrize("case, target", [("summary-folder-missing", "populated"),
                                          ("sqlite-folder-missing", "url")])
def test_missing_folder_is_named_and_not_created(case, target, bad_input_runs):
    """A mistyped folder is named on its own (not only inside the file path) and is left
    missing: the run creates no folder the user did not ask for."""
    result, folder = bad_input_runs[(case, target)]
    line = assert_one_line_error(result)
    missing = in_folder("{missing}", folder)
    assert missing in line.replace(f"{missing}/", ""), line
    assert not (folder / "no-such-folder").exists()


def test_a_bad_database_url_from_the_environment_names_no_flag(cli_cache, tmp_path):
    """DATABASE_URL is not --database-url: the line names the variable, points at no flag."""
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:5999/x"
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache),
                      env=script_env(DATABASE_URL=url))
    line = assert_one_line_error(result)
    assert "127.0.0.1:5999" in line and "(see " not in line, line
    assert SECRET not in result.stdout + result.stderr


def test_a_database_the_server_does_not_have_is_postgresqls_own_words(cli_cache, postgres_url,
                                                                      tmp_path):
    """The server answers with an error: the line gives PostgreSQL's message, not the
    driver's dict of error fields."""
    missing = postgres_url.rsplit("/", 1)[0] + "/f1db_no_such_database"
    result = populate(tmp_path, *ITALY_FP2, *offline(cli_cache), "--database-url", missing)
    line = assert_one_line_error(result)
    assert 'database "f1db_no_such_database" does not exist' in line, line
    assert line.endswith("(see --database-url)"), line
