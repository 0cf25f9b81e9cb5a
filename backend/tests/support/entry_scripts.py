"""Running the three entry scripts as a user runs them: in a subprocess, from a shell.

Every subprocess gets a proxy that leads nowhere (``http://127.0.0.1:9``), so a real HTTP
request fails fast even though subprocesses escape the in-process network guard, and an
environment without database or F1 account settings. populate_db.py always gets
``--log-file`` (its default log file is inside the repository) and, in the tests, loads
from a copy of the recorded FastF1 cache (the ``cli_cache`` fixture), offline unless a
test says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2]
REPO = BACKEND.parent
POPULATE, MIGRATE, SMOKE = (BACKEND / name for name in
                            ("populate_db.py", "migrate_db.py", "test_backend.py"))
ITALY_FP2 = ("--year", "2021", "--event", "Italian Grand Prix", "--session", "FP2")
# In the schedule but not in the recorded cache. Not the race: the cache holds Ergast's race
# results (FastF1 reads them for practice sessions), so the race would load partially.
ITALY_QUALIFYING = ("--year", "2021", "--event", "Italian Grand Prix", "--session", "Q")
# What `populated` and the other loads of ITALY_FP2 store in the ledger.
ITALY_FP2_STORED = (2021, "Italian Grand Prix", "Practice 2")
DEAD_PROXY = "http://127.0.0.1:9"
SCRUBBED = ("DATABASE_URL", "INSTANCE_CONNECTION_NAME", "F1_USERNAME", "F1_PASSWORD",
            "FASTF1_CACHE_DIR", "FASTF1_CACHE")
SECRET = "TopSecret123"


def script_env(**extra: str) -> dict[str, str]:
    """This environment minus database/F1 settings, plus a proxy that refuses everything.

    ``PYTHONPATH`` names this checkout's backend/ and tests/: a child that runs code with
    no script folder of its own on sys.path (``python -c``, runpy) imports this checkout's
    f1db and test helpers, whichever checkout pip installed in place."""
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env["PYTHONPATH"] = os.pathsep.join([str(BACKEND), str(BACKEND / "tests")])
    env.update({name: DEAD_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                                              "https_proxy")})
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


def run_script(script, *args, cwd: Path, env: dict | None = None, timeout: float = 120,
               **popen) -> subprocess.CompletedProcess:
    """``python script args`` in ``cwd``; output captured as text unless ``popen`` redirects it."""
    command = [sys.executable, str(script), *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env or script_env(), capture_output=not popen,
                          text=True, timeout=timeout, **popen)


def populate(tmp_path: Path, *args, log_file: Path | None = None, cwd: Path | None = None,
             **options) -> subprocess.CompletedProcess:
    """populate_db.py with its log file in tmp_path, run from tmp_path by default."""
    log_file = log_file or tmp_path / "populate.log"
    return run_script(POPULATE, *args, "--log-file", log_file, cwd=cwd or tmp_path, **options)


def offline(cache: Path) -> tuple[str, ...]:
    return ("--offline", "--cache-dir", str(cache))


def sqlite_url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def assert_one_line_error(result: subprocess.CompletedProcess,
                          script: str = "populate_db.py") -> str:
    """A usage/config error: exit 2, one line on stderr, no traceback. Returns the line.

    The line points at most at one flag: a library error gets ``(see --flag)`` added, an
    error whose message names its flag already gets nothing added.
    """
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(("error:", f"{script}: error:")), line
    assert line.count("(see ") <= 1, line
    assert "{'" not in line, line                  # never a driver's raw error fields
    assert result.returncode == 2, (result.returncode, result.stderr)
    return line
