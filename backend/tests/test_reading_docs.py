"""docs/READING.md's examples, run as written against a stored database (SQLite and
PostgreSQL): every ```python block in order, in one namespace, with DATABASE_URL set; and
README's reading example, its database URL pointed at the same database."""

from __future__ import annotations

import re

from support.entry_scripts import REPO

READING = REPO / "docs" / "READING.md"
README_URL = "sqlite:///f1.db"


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", READING.read_text(), re.S)


def test_the_examples_are_there():
    assert len(examples()) >= 6


def test_every_example_runs_against_a_stored_database(read_back_database, capsys):
    namespace = {"DATABASE_URL": read_back_database}
    for number, code in enumerate(examples(), 1):
        exec(compile(code, f"docs/READING.md example {number}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "Lewis Hamilton" in printed
    assert ("python populate_db.py --year 2021 --event 'Italian Grand Prix' "
            "--session 'Practice 1'") in printed
    assert namespace["total"] > 0 and len(namespace["features"]) > 0
    assert namespace["car"]["SessionTime"].is_monotonic_increasing


def test_the_readme_reading_example_runs_against_a_stored_database(read_back_database):
    blocks = [block for block in re.findall(r"```python\n(.*?)```",
                                            (REPO / "README.md").read_text(), re.S)
              if "f1db.read" in block]
    assert len(blocks) == 1 and README_URL in blocks[0]
    namespace = {}
    exec(compile(blocks[0].replace(README_URL, read_back_database), "README.md", "exec"),
         namespace)
    assert namespace["lap"]["Distance"].is_monotonic_increasing
    assert set(namespace["laps"]["SessionName"]) == {"Qualifying"}
    assert namespace["session"].results["Abbreviation"].str.len().eq(3).all()
