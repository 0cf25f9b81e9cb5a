"""What a run writes beside the database: the summary JSON, checked before the run starts
and replaced atomically, so that a cron job never reads an older run's success.

``--summary-json PATH`` is checked before anything else happens (its folder exists and
takes a new file, PATH is not a folder); then a first summary saying the run is under way
(``"exit_code": null``) replaces whatever an earlier run left, and every way the run ends
that this process sees writes the last one: the run's own summary, or one line of why it
could not run (``"error"``) with its exit code. Each write goes to a temporary file in the
same folder, then ``os.replace``: a reader sees the old file or the new one, never half.
Only a kill -9 (or a lost machine) leaves the "under way" summary behind.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from .errors import UsageError


def write_json_atomically(path: Path, data: dict) -> None:
    """``data`` as JSON at ``path``, replacing it in one step."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class SummaryFile:
    """The run summary's file: checked up front, then always rewritten whole."""

    def __init__(self, path: Path, parameter: str = "summary_json"):
        self.path, self.parameter = Path(path), parameter

    def check(self) -> None:
        """Refuse (UsageError) a path that cannot take the summary: before any work."""
        if self.path.is_dir():
            raise UsageError(f"The summary file {self.path} is a folder: give a file name",
                             parameter=self.parameter)
        folder = self.path.parent
        if not folder.is_dir():
            raise UsageError(f"The summary file's folder {folder} does not exist",
                             parameter=self.parameter)
        probe = folder / f".{self.path.name}.{os.getpid()}.check"
        try:
            probe.write_text("", encoding="utf-8")
            probe.unlink()
        except OSError as error:
            raise UsageError(f"The summary file cannot be written in {folder} "
                             f"({error.strerror or error}): give another path",
                             parameter=self.parameter) from None

    def started(self, **facts) -> None:
        """Replace any earlier summary: this run is under way (no exit code yet)."""
        self.write({**facts, "sessions": [], "exit_code": None, "running": True})

    def failed(self, exit_code: int, line: str, **facts) -> None:
        """The run could not run (or stopped before it had a summary): why, and its code."""
        self.write({**facts, "sessions": [], "sessions_planned": 0, "sessions_loaded": 0,
                    "sessions_skipped": 0, "sessions_failed": 0, "error": line,
                    "exit_code": exit_code})

    def write(self, data: dict) -> None:
        write_json_atomically(self.path, data)
