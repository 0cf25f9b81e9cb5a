"""README.md stays true: CI runs its test command, and every flag it lists exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def fenced_commands(section: str) -> list[str]:
    body = README.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", body, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_test_command():
    test_command, = fenced_commands("Test")
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_install_and_run_commands():
    assert fenced_commands("Set up and run") == ["pip install -r requirements.txt",
                                                 "cd backend && python populate_db.py"]


def test_every_populate_flag_is_documented_and_exists():
    import populate_db

    parser_flags = {option for action in populate_db.build_parser()._actions
                    for option in action.option_strings if option.startswith("--")}
    readme_flags = set(re.findall(r"^\| `(--[a-z-]+)", README, re.M))
    assert readme_flags == parser_flags - {"--help"}


def test_every_environment_variable_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", README, re.M))
    assert "DATABASE_URL" in documented, "README's table of environment variables is gone"
    documented |= {"DB_PASS", "DB_NAME", "F1_PASSWORD"}
    for name in documented:
        assert name in example, name


def test_every_table_is_in_readme_and_architecture_table_lists():
    """A new model must reach the documentation: README's and ARCHITECTURE's table lists
    name every fact table, with its FastF1 source, and both ledger tables."""
    from f1db.models import LEDGER_MODELS, fact_sources

    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    for table, source in fact_sources().items():
        for name, text in (("README.md", README), ("docs/ARCHITECTURE.md", architecture)):
            row = re.search(rf"^\| `{table}` \|.*$", text, re.M)
            assert row, f"{name} has no table-list row for {table}"
            assert source.attribute in row.group(0), (name, table, source.attribute)
    for model in LEDGER_MODELS:
        assert f"`{model.__tablename__}`" in README and f"`{model.__tablename__}`" in architecture
