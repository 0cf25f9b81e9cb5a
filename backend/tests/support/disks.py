"""Real full and read-only disks for the tests: a small tmpfs mounted in the test's own
folder, filled up or remounted read-only, always unmounted afterwards.

Mounting needs root (CI and this project's machines run the tests as root); elsewhere a test
that needs it is skipped, saying why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest


@contextlib.contextmanager
def small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted at ``folder`` (created) for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs",
                           str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small disk here ({done.stderr.strip() or 'mount failed'}):"
                    f" the full and read-only disk cases need root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def read_only(folder: Path) -> None:
    """Remount the small disk at ``folder`` read-only."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Fill the disk holding ``folder`` until at most ``leave_bytes`` are free (a real
    ENOSPC after that); returns the filler file, whose removal frees the space again."""
    filler = folder / "filler.bin"
    chunk = b"\0" * 2**20
    with open(filler, "ab") as file:
        while shutil.disk_usage(folder).free > leave_bytes:
            want = shutil.disk_usage(folder).free - leave_bytes
            try:
                file.write(chunk[:min(len(chunk), max(want, 1))])
                file.flush()
                os.fsync(file.fileno())
            except OSError:
                break
    return filler
