"""The project installs as a package: ``pip install -r requirements.txt`` installs every
pinned dependency and f1db itself in place, so ``import f1db`` works from any folder and
no code of the product touches ``sys.path``."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib

import pytest

from support.entry_scripts import BACKEND, REPO, script_env

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_package_of_f1db_is_listed_and_mapped():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    folders = {".".join(path.parent.relative_to(BACKEND).parts)
               for path in (BACKEND / "f1db").rglob("__init__.py")}
    assert listed == folders
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"f1db": "backend/f1db"}


def test_requirements_pin_every_dependency_and_install_the_project_in_place():
    lines = [line.split("#")[0].strip()
             for line in (REPO / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert lines[-1] == "-e ."
    assert all("==" in line for line in lines[:-1]), lines
    pinned = {line.split("==")[0].lower() for line in lines[:-1]}
    declared = {spec.split(">")[0].split("<")[0].split("=")[0].strip().lower()
                for spec in PYPROJECT["project"]["dependencies"]}
    assert declared <= pinned, declared - pinned


def test_no_product_code_touches_sys_path():
    product = [*BACKEND.glob("*.py"), *(BACKEND / "f1db").rglob("*.py"),
               *(BACKEND / "migrations").rglob("*.py")]
    touching = []
    for path in product:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr == "path"
                    and isinstance(node.value, ast.Name) and node.value.id == "sys"):
                touching.append(path.relative_to(REPO).as_posix())
    assert touching == []


@pytest.mark.slow
def test_the_library_imports_from_any_folder(tmp_path):
    """As README's library example does: no path set, another working folder."""
    environment = {key: value for key, value in script_env().items()
                   if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c",
                           "import f1db.populator, f1db.models; print(f1db.__name__)"],
                          cwd=tmp_path, env=environment, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "f1db"
