"""What reaches the console: one line per handled fault, never a traceback.

Libraries log handled faults with their tracebacks (requests_cache does when it falls back
to a stale cached response because the network is down). Those records belong in the log
file; on the console they would read as a crash. Checked in a child process, because
logging is configured once per process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1]

LOG_A_HANDLED_FAULT = textwrap.dedent("""
    import logging, sys
    from pathlib import Path
    from f1db.cli import setup_logging

    setup_logging(log_file=Path(sys.argv[1]), verbose=sys.argv[2] == "verbose")
    for name in ("requests_cache.session", "some.other.library", "f1db.run", "fastf1.req"):
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError:
            logging.getLogger(name).warning("%s: request failed; using cached response",
                                            name, exc_info=True)
""")


def _log_a_handled_fault(tmp_path: Path, verbosity: str) -> tuple[str, str]:
    log_file = tmp_path / "run.log"
    result = subprocess.run([sys.executable, "-c", LOG_A_HANDLED_FAULT, log_file, verbosity],
                            cwd=BACKEND, capture_output=True, text=True, timeout=60,
                            check=True)
    return result.stdout + result.stderr, log_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("verbosity", ["default", "verbose"])
def test_library_tracebacks_go_to_the_log_file_not_the_console(tmp_path, verbosity):
    console, log_file = _log_a_handled_fault(tmp_path, verbosity)
    assert "Traceback" not in console
    assert "ConnectionRefusedError" not in console
    # Every record with its traceback is kept in the log file.
    for name in ("requests_cache.session", "some.other.library", "f1db.run", "fastf1.req"):
        assert f"{name}: request failed" in log_file
    assert log_file.count("Traceback (most recent call last)") == 4


def test_console_shows_our_lines_and_library_lines_only_with_verbose(tmp_path):
    quiet_console, _ = _log_a_handled_fault(tmp_path, "default")
    assert quiet_console.splitlines() == ["f1db.run: request failed; using cached response"]
    verbose_console, _ = _log_a_handled_fault(tmp_path, "verbose")
    assert sorted(verbose_console.splitlines()) == sorted(
        f"{name}: request failed; using cached response"
        for name in ("requests_cache.session", "some.other.library", "f1db.run", "fastf1.req"))
