"""The docs stay true: README's commands are the ones CI runs, every flag, variable and table
is documented where the docs say, every link and cross-reference leads somewhere, and the
architecture map names exactly the modules there are."""

from __future__ import annotations

import re

import pytest

from support.entry_scripts import BACKEND, REPO

README = (REPO / "README.md").read_text()
DOCS = {path.name: path.read_text() for path in (REPO / "docs").glob("*.md")}
USAGE, DATA, ARCHITECTURE = DOCS["USAGE.md"], DOCS["DATA.md"], DOCS["ARCHITECTURE.md"]
README_MAX_LINES = 200


def section(text: str, heading: str) -> str:
    """The body under ``## heading`` (or ``### heading``), up to the next heading as high."""
    match = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.M)
    assert match, f"no section {heading!r}"
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[:end.start()] if end else rest


def fenced_commands(heading: str) -> list[str]:
    block = re.search(r"```bash\n(.*?)```", section(README, heading), re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_test_command():
    test_command, = fenced_commands("Test")
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_install_and_run_commands():
    assert fenced_commands("Set up and run") == ["pip install -r requirements.txt",
                                                 "cd backend && python populate_db.py"]


def test_readme_is_short():
    assert len(README.splitlines()) <= README_MAX_LINES


def test_every_populate_flag_is_documented_and_exists():
    import populate_db

    parser_flags = {option for action in populate_db.build_parser()._actions
                    for option in action.option_strings if option.startswith("--")}
    documented = set(re.findall(r"^\| `(--[a-z-]+)", section(USAGE, "`populate_db.py` flags"),
                                re.M))
    assert documented == parser_flags - {"--help"}


def test_every_environment_variable_is_in_env_example():
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", section(USAGE, "Configuration"), re.M))
    assert "DATABASE_URL" in documented, "docs/USAGE.md's table of variables is gone"
    documented |= {"DB_PASS", "DB_NAME", "F1_PASSWORD"}
    for name in documented:
        assert name in example, name


@pytest.mark.parametrize("heading", ["What gets stored", "Fact tables"])
def test_every_table_is_in_both_table_lists_with_its_source(heading):
    """A new model must reach the data contract: both of docs/DATA.md's table lists name
    every fact table, with its source."""
    from f1db.models import fact_sources

    rows = section(DATA, heading)
    for table, source in fact_sources().items():
        row = re.search(rf"^\| `{table}` \|.*$", rows, re.M)
        assert row, f"docs/DATA.md, {heading!r}, has no row for {table}"
        assert source.attribute in row.group(0), (heading, table, source.attribute)


def test_the_ledger_and_the_views_are_documented():
    from f1db.models import LEDGER_MODELS, SCHEDULE_MODELS, VIEW_NAMES

    names = [model.__tablename__ for model in (*LEDGER_MODELS, *SCHEDULE_MODELS)]
    for name in (*names, *VIEW_NAMES):
        assert f"`{name}`" in DATA, name
        assert f"`{name}`" in README, name


def test_the_architecture_map_names_exactly_the_modules_there_are():
    f1db = BACKEND / "f1db"
    modules = ({f"{path.stem}.py" for path in f1db.glob("*.py")} - {"__init__.py"}) | {
        f"{path.parent.name}/" for path in f1db.glob("*/__init__.py")}
    map_table = section(ARCHITECTURE, "The map")
    listed = {name for row in re.findall(r"^\| (.*?) \|", map_table, re.M)
              for name in re.findall(r"`([a-z_]+(?:\.py|/))`", row)}
    assert listed == modules
    for package in (path.parent for path in f1db.glob("*/__init__.py")):
        files = {f"`{package.name}/{path.name}`" for path in package.glob("*.py")
                 if path.name != "__init__.py"}
        missing = [name for name in files if name not in ARCHITECTURE]
        assert not missing, f"docs/ARCHITECTURE.md does not name {missing}"


SEARCHED = (REPO, BACKEND, BACKEND / "f1db", BACKEND / "tests", BACKEND / "benchmarks",
            BACKEND / "migrations" / "versions")


def test_every_file_the_architecture_names_exists():
    """The how-tos name the files to edit: renaming one must update them."""
    named = set(re.findall(r"`((?:[\w.-]+/)*[\w-]+\.(?:py|ini|md|toml|yaml))[`:.]",
                           ARCHITECTURE))
    missing = [name for name in named
               if not any((root / name).exists() for root in SEARCHED)
               and not name.startswith("000") and "<" not in name]
    assert missing == []


def test_links_lead_to_files():
    for name, text in [("README.md", README), *((f"docs/{n}", t) for n, t in DOCS.items())]:
        folder = REPO if name == "README.md" else REPO / "docs"
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if not target.startswith("http"):
                assert (folder / target).exists(), (name, target)


def _references() -> list[tuple[str, str, str]]:
    """(where, document, heading) of every reference to a section of the docs (a docs file
    name, a comma and the heading in double quotes) in the code and docs."""
    found = []
    sources = [*BACKEND.rglob("*.py"), REPO / "README.md", *(REPO / "docs").glob("*.md")]
    for path in sources:
        text = " ".join(path.read_text().split())        # references may wrap lines
        for document, heading in re.findall(r"docs/([A-Z]+\.md),? \"([^\"]+)\"", text):
            found.append((path.name, document, heading))
    return found


def test_cross_references_name_headings_that_exist():
    references = _references()
    assert len(references) > 10                  # the control: the pattern finds them
    for where, document, heading in references:
        headings = re.findall(r"^#+ (.*)$", DOCS[document], re.M)
        assert heading in headings, f"{where} points at {document}, {heading!r}"


def test_the_docs_speak_of_the_product():
    words = re.compile(r"\bthe (seed|peer)('s)?\b|\bpeers?'? way\b", re.I)
    for path in [REPO / "README.md", *(REPO / "docs").glob("*.md"), *BACKEND.rglob("*.py")]:
        assert not words.search(path.read_text()), path


def test_every_promise_of_the_reliability_table_names_a_test_that_exists():
    import ast

    promises = re.findall(r"`tests/(test_\w+\.py)::(test_\w+)`", DOCS["RELIABILITY.md"])
    assert len(promises) >= 30
    for file, test in promises:
        tree = ast.parse((BACKEND / "tests" / file).read_text())
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert test in names, f"docs/RELIABILITY.md names {file}::{test}, which does not exist"


def test_every_history_table_and_column_is_documented():
    """docs/DATA.md's "History tables" has a row per history table naming every column."""
    from f1db.models import HISTORY_REFERENCE_MODELS, HISTORY_ROUND_MODELS

    rows = section(DATA, "History tables")
    for model in HISTORY_REFERENCE_MODELS + HISTORY_ROUND_MODELS:
        row = re.search(rf"^\| `{model.__tablename__}` \|.*$", rows, re.M)
        assert row, f"docs/DATA.md, 'History tables', has no row for {model.__tablename__}"
        text = row.group(0)
        same_as = re.search(r"\| as `(history_\w+)` \|", text)    # "as `history_results`"
        if same_as:
            text += re.search(rf"^\| `{same_as.group(1)}` \|.*$", rows, re.M).group(0)
        for column in model.__table__.columns:
            if column.name not in ("year", "round_number"):
                assert re.search(rf"\b{column.name}\b", text), (model.__tablename__,
                                                                 column.name)
        assert f"`{model.__tablename__}`" in README, model.__tablename__
