"""The house rules of docs/ARCHITECTURE.md, checked on the source.

Imports follow the data (plan -> sources -> transform -> load -> summary): no stage imports
a later one, the foundations import no stage, and only the run and its facade see every
stage. The read side (read/) stands beside the run: it reads what the stages stored and
imports none of the writing stages. FastF1 is imported by the sources and the read side
alone (each with its own module for FastF1's internals), database drivers by the dialects
alone.
Read from the source text (``ast``), so a rule broken inside a function body counts too.
A package (sources/, dialects/, run/) counts as one module: the union of its files.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

F1DB = Path(__file__).resolve().parents[1] / "f1db"

# What the stages share: each foundation imports only the foundations listed with it.
FOUNDATIONS = {"errors": set(), "records": set(), "models": set(), "signals": {"errors"},
               "config": {"errors"}, "outputs": {"errors"},
               "dialects": {"errors", "records", "models"},
               "faults": {"errors", "dialects"}, "packing": {"errors"}}
# The pipeline's stages, in the data's order: a stage imports foundations, and stages of
# its own or an earlier number.
STAGES = {"selection": 0, "shard": 0, "plan": 1, "sources": 2, "transform": 3,
          "history_rows": 3, "db": 4, "schema": 4, "load": 4, "ledger": 4, "claims": 4,
          "history_store": 4, "packed_conversion": 4,
          "summary": 5, "plan_report": 5}
# What drives the stages (may import any of them), and the tools around the run.
ORCHESTRATION = {"run", "populator"}
TOOLS = {"progress": set(), "cli": {"config", "errors", "progress", "sources"},
         "smoke": {"db", "models", "schema"}}
# The read side: stored rows back as FastF1 objects and frames. It opens the database and
# checks its schema like any tool, and shares the event and session names with the sources;
# it never imports what writes (transform, load, ledger, claims, run).
READ_SIDE = {"read": {"errors", "records", "models", "config", "dialects", "db", "schema",
                      "sources", "packing"}}
# Each package that imports FastF1 reads its private names in one module of its own.
FASTF1_COMPAT = (F1DB / "sources" / "fastf1_compat.py", F1DB / "read" / "fastf1_compat.py")
READ_COMPAT = FASTF1_COMPAT[1]
PURE = ("selection", "shard", "plan", "transform", "history_rows", "records", "plan_report",
        "summary", "packing")


def modules() -> set[str]:
    """Every top-level f1db module and package."""
    return ({path.stem for path in F1DB.glob("*.py")} - {"__init__"}) | {
        path.parent.name for path in F1DB.glob("*/__init__.py")}


def _files(module: str) -> list[Path]:
    package = F1DB / module
    return sorted(package.rglob("*.py")) if package.is_dir() else [F1DB / f"{module}.py"]


def _trees(module: str):
    for path in _files(module):
        yield path, ast.parse(path.read_text())


def f1db_imports(module: str) -> set[str]:
    """The top-level f1db modules and packages ``module`` imports, wherever in its files
    (a package's imports of its own modules left out)."""
    found = set()
    for path, tree in _trees(module):
        depth = len(path.relative_to(F1DB).parts)          # 1: f1db/x.py, 2: f1db/pkg/x.py
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level == depth:                    # relative to the f1db package
                    found.update([node.module.split(".")[0]] if node.module
                                 else [alias.name for alias in node.names])
                elif node.level == 0 and node.module and node.module.startswith("f1db."):
                    found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[1] for alias in node.names
                             if alias.name.startswith("f1db."))
    return found - {module}


def third_party_imports(module: str) -> set[str]:
    found = set()
    for _, tree in _trees(module):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_every_module_is_classified():
    assert modules() == (set(FOUNDATIONS) | set(STAGES) | ORCHESTRATION | set(TOOLS)
                         | set(READ_SIDE))


def test_the_import_reader_sees_every_f1db_import():
    """The control for the rules below, which pass whenever f1db_imports finds nothing:
    the run and its facade import every stage but one, dialects import from their parent."""
    seen = f1db_imports("run") | f1db_imports("populator")
    assert seen >= set(STAGES) - {"plan_report", "shard", "schema", "packed_conversion"}
    assert f1db_imports("dialects") == {"errors", "records", "models"}


@pytest.mark.parametrize("module", sorted(STAGES))
def test_no_stage_imports_a_later_stage(module):
    for imported in f1db_imports(module):
        if imported in FOUNDATIONS:
            continue
        assert imported in STAGES, f"{module} imports {imported}, which is not a stage"
        assert STAGES[imported] <= STAGES[module], (
            f"{module} (stage {STAGES[module]}) imports the later stage {imported}")


@pytest.mark.parametrize("module", sorted(FOUNDATIONS))
def test_foundations_import_no_stage(module):
    assert f1db_imports(module) <= FOUNDATIONS[module]


@pytest.mark.parametrize("module", sorted(TOOLS))
def test_tools_import_what_they_say(module):
    assert f1db_imports(module) <= TOOLS[module]


def test_the_read_side_imports_nothing_that_writes():
    assert f1db_imports("read") <= READ_SIDE["read"]
    assert "db" in f1db_imports("read")                  # the control: it sees them
    assert all("read" not in f1db_imports(module) for module in modules() - {"read"})


def test_fastf1_is_imported_by_the_sources_alone():
    importers = {module for module in modules() if "fastf1" in third_party_imports(module)}
    assert importers == {"sources", "read"}


def private_fastf1_reaches(path: Path) -> list[str]:
    """Names FastF1 keeps private (``_X``) that ``path`` imports from a FastF1 module or
    reads off anything imported from one."""
    tree = ast.parse(path.read_text())
    from_fastf1, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fastf1"):
            from_fastf1.update(alias.asname or alias.name for alias in node.names)
            found += [f"{path.name}: from {node.module} import {alias.name}"
                      for alias in node.names if alias.name.startswith("_")]
        elif isinstance(node, ast.Import):
            from_fastf1.update((alias.asname or alias.name).split(".")[0]
                               for alias in node.names if alias.name.startswith("fastf1"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in from_fastf1:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_fastf1_internals_are_read_by_the_compatibility_modules_alone():
    assert len(private_fastf1_reaches(FASTF1_COMPAT[0])) >= 4   # the control: it sees them
    assert [found for path in F1DB.rglob("*.py") if path not in FASTF1_COMPAT
            for found in private_fastf1_reaches(path)] == []


def test_the_session_attributes_the_read_side_sets_are_named_in_its_compat_module_alone():
    """The read side fills a Session's private attributes (``_laps``, ...) by name: those
    names are written in read/fastf1_compat.py and nowhere else."""
    from f1db.read.fastf1_compat import ATTRIBUTES

    assert len(ATTRIBUTES) >= 10 and all(name.startswith("_") for name in ATTRIBUTES.values())
    for path in F1DB.rglob("*.py"):
        if path != READ_COMPAT:
            text = path.read_text()
            assert not [name for name in ATTRIBUTES.values()
                        if re.search(rf"[\"'.]{name}\b", text)], path


def test_database_drivers_are_known_to_the_dialects_alone():
    """What differs between PostgreSQL and SQLite lives in dialects/: no other module
    imports a driver or SQLAlchemy's dialect modules, or asks which database it talks to
    (config and db resolve URLs and open engines, and may name them)."""
    for module in modules() - {"dialects"}:
        assert not {"pg8000"} & third_party_imports(module), module
        for path, tree in _trees(module):
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert not node.module.startswith("sqlalchemy.dialects"), path
            if module in ("config", "db"):
                continue
            text = path.read_text()
            assert not re.search(r"dialect(\.name)?\s*==", text), path
            if module != "sources":              # the request budget's own SQLite file
                assert "import sqlite3" not in text, path


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_touch_no_database_or_fastf1(module):
    assert not {"fastf1", "pg8000", "sqlite3", "google"} & third_party_imports(module)
    assert not {"db", "ledger", "load", "sources", "schema", "dialects"} & f1db_imports(module)
