"""Start-up: what the entry scripts import before they do anything, and the shortcuts that
keep a rerun of stored sessions quick, checked against what they stand for.

``--help`` and a usage error answer without importing SQLAlchemy, pandas, Alembic or
FastF1 (together about a second of every start); a rerun that finds the schema current
never imports Alembic (f1db.schema reads the head from the revision files and the stored
revision with one query). Checked on ``sys.modules`` of a real child process, never by
timing: the machine is shared, a timing would be noise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import populate_db
import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, text

from f1db import cli, schema
from f1db.config import resolve_database
from f1db.db import open_database
from f1db.models import TABLE_NAMES
from f1db.sources.events import SESSION_ABBREVIATIONS
from support.entry_scripts import (ITALY_FP2, MIGRATE, POPULATE, SMOKE, offline, script_env,
                                   sqlite_url_of)

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

HEAVY = ("pandas", "numpy", "sqlalchemy", "alembic", "fastf1")

# Runs an entry script as its __main__ block does, then writes the top-level packages the
# process imported and how many objects it froze out of the garbage collector's way to a
# file (stdout and stderr stay the script's own).
PROBE = textwrap.dedent("""
    import gc, json, runpy, sys
    script, report = sys.argv[1], sys.argv[2]
    sys.argv = [script, *sys.argv[3:]]
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        with open(report, "w") as out:
            json.dump({"imported": sorted({name.split(".")[0] for name in sys.modules}),
                       "frozen": gc.get_freeze_count()}, out)
""")


class Probed(NamedTuple):
    result: subprocess.CompletedProcess
    imported: set[str]      # top-level packages
    frozen: int             # objects moved out of the garbage collector's way (gc.freeze)


def run_probed(script: Path, *args, tmp_path: Path) -> Probed:
    """Run ``script args`` in a child process, as a user does, and report what it imported."""
    report = tmp_path / "imported.json"
    result = subprocess.run([sys.executable, "-c", PROBE, str(script), str(report),
                             *map(str, args)], cwd=tmp_path, env=script_env(),
                            capture_output=True, text=True, timeout=120)
    found = json.loads(report.read_text())
    return Probed(result, set(found["imported"]), found["frozen"])


# -- what a start imports -------------------------------------------------------------------

@pytest.mark.parametrize("script", [POPULATE, MIGRATE, SMOKE],
                         ids=["populate_db", "migrate_db", "test_backend"])
def test_help_imports_no_heavy_library(script, tmp_path):
    result, imported, _ = run_probed(script, "--help", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--database-url" in result.stdout
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.parametrize("args", [("--quiet", "--verbose"), ("--plan", "--watch"),
                                  ("--no-such-flag",)], ids=["contradiction", "plan-watch",
                                                             "unknown-flag"])
def test_a_usage_error_found_by_the_parser_imports_no_heavy_library(args, tmp_path):
    result, imported, _ = run_probed(POPULATE, *args, tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "error" in result.stderr, result.stderr
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_the_probe_sees_the_libraries_a_run_imports(tmp_path, empty_cache_dir):
    """The control for the two tests above: a run that reaches the library (and stops at
    the empty offline cache) shows SQLAlchemy, pandas and FastF1; ``migrate_db.py --sql``
    shows Alembic."""
    result, imported, _ = run_probed(POPULATE, *ITALY_FP2, *offline(empty_cache_dir),
                                     "--database-url", sqlite_url_of(tmp_path / "f1.db"),
                                     "--log-file", "", tmp_path=tmp_path)
    assert result.returncode == 2 and "Offline mode needs a FastF1 cache" in result.stderr
    assert {"pandas", "numpy", "sqlalchemy", "fastf1"} <= imported
    result, imported, _ = run_probed(MIGRATE, "--sql", "--database-url", "sqlite:///x.db",
                                     tmp_path=tmp_path)
    assert result.returncode == 0 and "CREATE TABLE" in result.stdout, result.stderr
    assert "alembic" in imported


def test_a_stored_rerun_asks_alembic_nothing(populated_copy, cli_cache, tmp_path):
    """Every session stored: the schema is found current without importing Alembic."""
    result, imported, frozen = run_probed(POPULATE, *ITALY_FP2, *offline(cli_cache),
                                          "--database-url", sqlite_url_of(populated_copy),
                                          "--log-file", tmp_path / "populate.log",
                                          tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "0 loaded, 1 skipped" in result.stdout, result.stdout
    assert {"sqlalchemy", "fastf1"} <= imported
    assert "alembic" not in imported
    # What the imports made is frozen: later garbage collections scan only the run's objects.
    assert frozen > 10_000


# -- the copies --help shows ----------------------------------------------------------------

def test_the_help_lists_are_the_librarys():
    """populate_db.py lists tables and session names for --help without importing the
    library: the same lists, in the same order."""
    assert populate_db.TABLES == TABLE_NAMES
    assert populate_db.SESSION_IDS == SESSION_ABBREVIATIONS
    help_text = populate_db.build_parser().format_help()
    assert ", ".join(TABLE_NAMES) in " ".join(help_text.split())


# -- where the schema stands, without Alembic -----------------------------------------------

def test_the_head_is_alembics():
    assert schema.head_revision() == ScriptDirectory.from_config(
        schema.alembic_config()).get_current_head()


def revision_file(revision: str, down: str, *, extra: str = "") -> str:
    return (f'"""A revision.\n\nRevision ID: {revision}\nRevises: {down}\n"""\n'
            f"from alembic import op\n\nrevision = {revision}\ndown_revision = {down}\n"
            f"branch_labels = None\n{extra}\n\ndef upgrade():\n    revision = 'inner'\n")


CHAINS = {
    "linear, files out of order": ({"b_second.py": ("'b'", "'a'"), "a_first.py": ("'a'", "None"),
                                    "c_third.py": ("'c'", "'b'")}, "c"),
    "double quotes and a comment": ({"1.py": ('"r1"  # the first', "None"),
                                     "2.py": ('"r2"', '"r1"')}, "r2"),
    "a branch": ({"a.py": ("'a'", "None"), "b.py": ("'b'", "'a'"), "c.py": ("'c'", "'a'")},
                 None),
    "a merge": ({"a.py": ("'a'", "None"), "b.py": ("'b'", "'a'"), "c.py": ("'c'", "'a'"),
                 "d.py": ("'d'", "('b', 'c')")}, None),
    "a computed name": ({"a.py": ("'a'", "None"), "b.py": ("'b' + ''", "'a'")}, None),
    "an unknown parent": ({"a.py": ("'a'", "None"), "b.py": ("'b'", "'x'")}, None),
    "a cycle beside the chain": ({"a.py": ("'a'", "None"), "b.py": ("'b'", "'a'"),
                                 "c.py": ("'c'", "'d'"), "d.py": ("'d'", "'c'")}, None),
    "two roots": ({"a.py": ("'a'", "None"), "b.py": ("'b'", "None")}, None),
    "a repeated revision": ({"a.py": ("'a'", "None"), "b.py": ("'a'", "'a'")}, None),
    "a '#' inside the value": ({"a.py": ("'a#1'", "None")}, None),
}


@pytest.mark.parametrize("files, head", CHAINS.values(), ids=CHAINS.keys())
def test_the_head_read_from_the_files(files, head, tmp_path):
    """One plain chain gives its head; anything else is left to Alembic (None)."""
    for name, (revision, down) in files.items():
        (tmp_path / name).write_text(revision_file(revision, down))
    assert schema._head_of_chain(sorted(tmp_path.glob("*.py"))) == head


def test_annotated_assignments_are_read(tmp_path):
    """The form Alembic's newer templates write: ``revision: str = ...``."""
    (tmp_path / "a.py").write_text("revision: str = 'a'\n"
                                   "down_revision: Union[str, None] = None\n")
    (tmp_path / "b.py").write_text("revision: str = 'b'\ndown_revision: str | None = 'a'\n")
    assert schema._head_of_chain(sorted(tmp_path.glob("*.py"))) == "b"


def test_a_revision_assigned_twice_is_left_to_alembic(tmp_path):
    (tmp_path / "a.py").write_text(revision_file("'a'", "None"))
    (tmp_path / "b.py").write_text(revision_file("'b'", "'a'", extra="revision = 'c'"))
    assert schema._head_of_chain(sorted(tmp_path.glob("*.py"))) is None


def test_alembic_decides_when_the_files_are_not_one_chain(tmp_path, monkeypatch):
    """A branch: head_revision() asks Alembic, which refuses two heads in its own words."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    for name, (revision, down) in CHAINS["a branch"][0].items():
        (versions / name).write_text(revision_file(revision, down))
    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    monkeypatch.setattr(schema, "ALEMBIC_INI", ini)
    with pytest.raises(CommandError, match="multiple heads"):
        schema.head_revision()


@pytest.fixture
def database(database_url):
    with open_database(resolve_database(database_url)) as db:
        yield db


def test_the_stored_revision_is_alembics(database):
    """Never migrated, migrated, and (Alembic's own error) two rows in its table."""
    def both():
        with database.engine.connect() as connection:
            return (schema._stored_revision(connection),
                    MigrationContext.configure(connection).get_current_revision())

    assert both() == (None, None)
    schema.upgrade(database)
    assert both() == (schema.head_revision(),) * 2
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('other')"))
    with pytest.raises(CommandError, match="more than one head"):
        both()


# -- the one-line error for a database fault, without importing SQLAlchemy up front --------

def test_a_sqlalchemy_error_is_one_line_and_others_pass(tmp_path, capsys):
    def fails_in_sqlalchemy():
        create_engine(f"sqlite:///{tmp_path}").connect()    # a folder: cannot be opened

    with pytest.raises(SystemExit) as stop:
        cli.run(fails_in_sqlalchemy)
    assert stop.value.code == 1
    line = capsys.readouterr().err
    assert line.startswith("error: database error: ") and line.count("\n") == 1, line

    def fails_elsewhere():
        raise LookupError("not ours")

    with pytest.raises(LookupError):
        cli.run(fails_elsewhere)
