"""The house rules of docs/ARCHITECTURE.md, checked on the source.

Imports follow the data (plan -> fetch -> transform -> load -> summary): no stage imports a
later one, and what stages share lives in modules that import no stage. FastF1 is imported
by fetch alone. Read from the source text (``ast``), so a rule broken inside a function
body counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

F1DB = Path(__file__).resolve().parents[1] / "f1db"

# Stage of each pipeline module; a module may import only shared modules and modules of
# its own or an earlier stage.
STAGES = {"selection": 0, "shard": 0, "plan": 1, "budget": 2, "http_meter": 2, "fetch": 2,
          "transform": 3, "load": 4, "ledger": 4, "claims": 4, "summary": 5}
# Shared modules import no stage, and one another only so:
SHARED_MAY_IMPORT = {"errors": set(), "records": set(), "models": set(),
                     "dialects": {"errors", "records", "models"},
                     "faults": {"errors", "dialects"}, "signals": {"errors"}}
SHARED = set(SHARED_MAY_IMPORT)


def _files(module: str) -> list[Path]:
    """The source files of a top-level f1db module or package."""
    package = F1DB / module
    return sorted(package.glob("*.py")) if package.is_dir() else [F1DB / f"{module}.py"]


def f1db_imports(module: str) -> set[str]:
    """The top-level f1db modules and packages ``module`` imports, wherever in its files
    (a package's imports of its own modules excluded)."""
    found = set()
    for path in _files(module):
        depth = len(path.relative_to(F1DB).parts)          # 1: f1db/x.py, 2: f1db/pkg/x.py
        for node in ast.walk(ast.parse(path.read_text())):
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
    for path in _files(module):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_every_module_is_classified():
    modules = ({path.stem for path in F1DB.glob("*.py")} - {"__init__"}) | {
        path.parent.name for path in F1DB.glob("*/__init__.py")}
    others = {"config", "db", "schema", "populator", "progress", "cli", "smoke", "write_behind"}
    assert modules == set(STAGES) | SHARED | others


def test_the_import_reader_sees_every_f1db_import():
    """The control for the rules below, which pass whenever f1db_imports finds nothing:
    the populator imports every stage and some modules that are neither stage nor shared."""
    assert f1db_imports("populator") >= (set(STAGES) - {"http_meter"}) | {
        "config", "db", "errors", "models"}


@pytest.mark.parametrize("module", sorted(STAGES))
def test_no_stage_imports_a_later_stage(module):
    for imported in f1db_imports(module):
        if imported in SHARED:
            continue
        assert imported in STAGES, f"{module} imports {imported}, which is not a stage"
        assert STAGES[imported] <= STAGES[module], (
            f"{module} (stage {STAGES[module]}) imports the later stage {imported}")


@pytest.mark.parametrize("module", sorted(SHARED))
def test_shared_records_import_no_stage(module):
    assert f1db_imports(module) <= SHARED_MAY_IMPORT[module]


def test_fastf1_is_imported_by_fetch_alone():
    modules = {path.stem for path in F1DB.glob("*.py")} | {
        path.parent.name for path in F1DB.glob("*/__init__.py")}
    importers = {module for module in modules if "fastf1" in third_party_imports(module)}
    assert importers == {"fetch"}


@pytest.mark.parametrize("module", ["selection", "shard", "plan", "transform", "records"])
def test_pure_modules_touch_no_database_or_fastf1(module):
    assert not {"fastf1", "pg8000", "sqlite3", "google"} & third_party_imports(module)
    assert not {"db", "ledger", "load", "fetch", "schema"} & f1db_imports(module)
