"""Whether FastF1's cache folder can be used: checked before any load, and again after a
load that came back with gaps.

FastF1 never says that its cache failed: a folder it cannot write (a full disk, a
read-only mount) or an HTTP cache file it cannot read makes it log "failed to load" and
hand back a session with parts missing, exactly as if live timing had not published
them. Stored that way, a race would keep its results and lose its laps and telemetry,
marked "retried on the next run", and an offline rerun would then call them "not in the
offline cache". So the folder is checked before a run loads anything, and whenever a
load comes back with a gap: a problem found refuses the run before it starts
(``UnusableCacheFolder``) or stops it before the session is stored (``CacheProblem``).

Checks, all cheap (no full scan of the cache): the path is a folder (created if missing),
a file can be created and removed in it, the disk holds at least ``MIN_FREE_BYTES``, and
FastF1's HTTP cache file, if there is one, is an SQLite file no shorter than its own
header says, whose table list can be read.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path

from ..errors import UnusableCacheFolder

HTTP_CACHE_FILE = "fastf1_http_cache.sqlite"
MIN_FREE_BYTES = 200 * 2**20       # a race's downloads and parsed copies: tens of MB
_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_cache_folder(folder: Path, *, create: bool = True) -> None:
    """Raise UnusableCacheFolder (one line: what is wrong, what to do) unless ``folder`` can
    hold FastF1's cache; create it first when ``create``."""
    refuse_a_file(folder)
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UnusableCacheFolder(f"Cannot create the FastF1 cache folder {folder}: "
                               f"{_reason(error)}: choose another cache folder",
                               parameter="cache_dir") from None
    problem = cache_problem(folder)
    if problem:
        raise UnusableCacheFolder(problem, parameter="cache_dir")


def refuse_a_file(folder: Path) -> None:
    """Raise UnusableCacheFolder when ``folder`` names a file."""
    if folder.exists() and not folder.is_dir():
        raise UnusableCacheFolder(f"The FastF1 cache folder {folder} is a file, not a folder: "
                                  f"give a folder", parameter="cache_dir")


def cache_problem(folder: Path) -> str | None:
    """What keeps ``folder`` from holding FastF1's cache, as one line; None when nothing."""
    probe = folder / f".f1db-write-check-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"f1db")
        probe.unlink()
    except OSError as error:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
        return (f"The FastF1 cache folder {folder} cannot be written ({_reason(error)}): "
                f"FastF1 would lose what it downloads; free space, fix its permissions, "
                f"or choose another cache folder")
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        return (f"The FastF1 cache folder {folder} has {free / 2**20:.0f} MB free, less "
                f"than the {MIN_FREE_BYTES / 2**20:.0f} MB a session may need: free space "
                f"or choose another cache folder")
    damage = http_cache_damage(folder / HTTP_CACHE_FILE)
    if damage:
        return (f"FastF1's cache file {folder / HTTP_CACHE_FILE} is damaged ({damage}): "
                f"delete it (FastF1 downloads again what it held; offline, nothing is "
                f"left to load) or choose another cache folder")
    return None


def http_cache_damage(path: Path) -> str | None:
    """Why the SQLite file ``path`` cannot be read, or None (also when it does not exist)."""
    try:
        with open(path, "rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return None
    except OSError as error:
        return _reason(error)
    size = path.stat().st_size
    if size == 0:
        return None                                    # an empty file: SQLite starts it
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return "not an SQLite file"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, changed, valid_for = (int.from_bytes(header[offset:offset + 4], "big")
                                 for offset in (28, 24, 92))
    if pages and changed == valid_for and size < pages * page_size:
        return f"truncated: {size:,} of {pages * page_size:,} bytes"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return None


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__
