"""Jolpica's CSV database dump: its manifest, a checked download, its tables read by name.

Jolpica publishes its whole database as one zip of CSV files, 14 days behind, free and
without a key (docs/DATA.md, "History tables"): one download instead of a day of API
requests. Two requests: the manifest (JSON, with the dump's SHA-256, size and date), then
the delayed CSV dump (a redirect to the file).

A download is written to a temporary file beside its final name, checked against the
manifest's SHA-256 and size, and only then renamed into place: an interrupted or failed
download is retried and never half-read, and a dump already downloaded (same SHA-256) is
not fetched again. The zip is read by column name: extra or reordered columns are fine, a
missing table or column is one clear error, as is a corrupt or truncated zip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from ..errors import F1DBError, FetchError, UsageError

log = logging.getLogger(__name__)

MANIFEST_URL = "https://api.jolpi.ca/data/dumps/download/"
DELAYED_CSV_URL = "https://api.jolpi.ca/data/dumps/download/delayed/?dump_type=csv"
LICENCE = ("Jolpica F1 data (https://github.com/jolpica/jolpica-f1) is licensed CC BY-NC-SA "
           "4.0 (https://creativecommons.org/licenses/by-nc-sa/4.0/): credit Jolpica F1, "
           "non-commercial use, share alike")
DOWNLOAD_ATTEMPTS = 3
TIMEOUT_SECONDS = 60
_CHUNK = 1 << 20


class DumpError(F1DBError):
    """The dump cannot be used (corrupt, truncated, not the published file, a table or
    column missing): nothing of it is stored. Exit code 1, like a failed session."""


@dataclass(frozen=True)
class DumpInfo:
    """What the manifest says of the delayed CSV dump (None: it does not say)."""

    sha256: str | None
    size: int | None
    dump_date: dt.date | None
    url: str = DELAYED_CSV_URL


@dataclass(frozen=True)
class DumpFile:
    """A dump zip on disk, checked, with its date (None: unknown, e.g. a local file
    whose name carries none)."""

    path: Path
    dump_date: dt.date | None
    sha256: str
    downloaded: bool = False


def parse_manifest(document) -> DumpInfo:
    """The delayed CSV dump's entry of Jolpica's download manifest.

    The manifest lists dumps as objects (at the top level or under ``dumps``); the entry
    used is the CSV one (a ``type``/``dump_type`` of "csv", or a URL/name ending ``.zip``
    with "csv" in it) that is delayed (its type or URL says "delayed") if one says so.
    Its SHA-256 (``sha256``), size in bytes (``size``/``size_bytes``) and date
    (``date``/``timestamp``/``created``, an ISO date or time) are read when present.
    """
    entries = document.get("dumps", document) if isinstance(document, dict) else document
    if isinstance(entries, dict):
        entries = [dict(value, type=value.get("type", key)) if isinstance(value, dict)
                   else value for key, value in entries.items()]
    if not isinstance(entries, list):
        raise FetchError("Jolpica's dump manifest is not a list of dumps; try again later "
                         "or pass a downloaded dump with --history-file")

    def text(entry: dict) -> str:
        return " ".join(str(entry.get(k, "")) for k in
                        ("type", "dump_type", "name", "url", "file", "filename")).lower()

    csv_entries = [e for e in entries if isinstance(e, dict) and "csv" in text(e)]
    if not csv_entries:
        raise FetchError("Jolpica's dump manifest lists no CSV dump; try again later or "
                         "pass a downloaded dump with --history-file")
    delayed = [e for e in csv_entries if "delayed" in text(e)]
    entry = (delayed or csv_entries)[0]
    sha = next((str(entry[k]).lower() for k in ("sha256", "sha_256", "checksum")
                if entry.get(k)), None)
    size = next((int(entry[k]) for k in ("size", "size_bytes") if entry.get(k)), None)
    date = next((_date(entry[k]) for k in ("date", "timestamp", "created", "created_at")
                 if entry.get(k)), None)
    return DumpInfo(sha, size, date)


def _date(value) -> dt.date | None:
    match = re.search(r"(\d{4})-(\d{2})-(\d{2})", str(value))
    return dt.date(*map(int, match.groups())) if match else None


def fetch_manifest(http) -> DumpInfo:
    """Ask Jolpica for its dump manifest (``http``: a requests session)."""
    response = _get(http, MANIFEST_URL, stream=False)
    try:
        return parse_manifest(json.loads(response.content.decode("utf-8")))
    except (ValueError, UnicodeDecodeError):
        raise FetchError("Jolpica's dump manifest is not JSON; try again later or pass a "
                         "downloaded dump with --history-file") from None


def download(http, info: DumpInfo, directory: Path, *, sleep=time.sleep) -> DumpFile:
    """The dump in ``directory``: downloaded to a temporary file, checked against the
    manifest's SHA-256 and size, renamed into place; a file already there with that
    SHA-256 is used as it is. A failed or interrupted attempt is retried (the temporary
    file deleted), up to DOWNLOAD_ATTEMPTS."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(".*.partial"):    # left by a download that was killed
        stale.unlink(missing_ok=True)
    name = f"jolpica-f1-csv-{info.dump_date or 'undated'}.zip"
    final = directory / name
    if final.is_file() and _already_there(final, info):
        log.info("Jolpica dump %s already downloaded", final)
        return DumpFile(final, info.dump_date, file_sha256(final))
    if not info.sha256:
        log.warning("Jolpica's manifest gives no SHA-256 for the dump: it is checked by its "
                    "size%s and by reading the zip", "" if info.size is None else
                    f" ({info.size} bytes)")
    problem = ""
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        partial = directory / f".{name}.{os.getpid()}.partial"
        try:
            sha = _download_to(http, info.url, partial)
            size = partial.stat().st_size
            if info.size is not None and size != info.size:
                problem = f"{size} bytes arrived of the {info.size} the manifest announces"
            elif info.sha256 and sha != info.sha256:
                problem = (f"its SHA-256 {sha[:12]}... is not the published "
                           f"{info.sha256[:12]}...")
            else:
                os.replace(partial, final)
                return DumpFile(final, info.dump_date, sha, downloaded=True)
        except FetchError as error:
            problem = str(error)
        finally:
            partial.unlink(missing_ok=True)
        log.warning("Jolpica dump download attempt %d of %d failed: %s", attempt,
                    DOWNLOAD_ATTEMPTS, problem)
        if attempt < DOWNLOAD_ATTEMPTS:
            sleep(2 ** attempt)
    raise FetchError(f"Jolpica's dump could not be downloaded after {DOWNLOAD_ATTEMPTS} "
                     f"attempts ({problem}); nothing was stored: try again later")


def _already_there(path: Path, info: DumpInfo) -> bool:
    """A dump downloaded before is this one: the same SHA-256, or (a manifest without one)
    the same dated name and size."""
    if info.sha256:
        return file_sha256(path) == info.sha256
    return info.dump_date is not None and info.size == path.stat().st_size


def newest_local_dump(directory: Path) -> DumpFile:
    """``--offline``: the newest dump downloaded before (no network)."""
    dumps = sorted(directory.glob("jolpica-f1-csv-*.zip")) if directory.is_dir() else []
    if not dumps:
        raise UsageError(f"offline, and no Jolpica dump was downloaded into {directory} "
                         f"yet: run once online or give one with --history-file",
                         parameter="offline")
    return local_dump(dumps[-1])


def _download_to(http, url: str, path: Path) -> str:
    import requests

    sha = hashlib.sha256()
    response = _get(http, url, stream=True)
    try:
        with response, open(path, "wb") as out:
            for chunk in response.iter_content(_CHUNK):
                sha.update(chunk)
                out.write(chunk)
    except requests.RequestException as error:     # the body broke off (an OSError too)
        raise FetchError(f"the download broke off ({type(error).__name__})") from None
    except OSError as error:
        raise F1DBError(f"cannot write the dump to {path.parent}: "
                        f"{error.strerror or error}; free some space or use another "
                        f"--cache-dir") from None
    return sha.hexdigest()


def _get(http, url: str, *, stream: bool):
    import requests

    try:
        response = http.get(url, timeout=TIMEOUT_SECONDS, stream=stream)
    except requests.RequestException as error:
        raise FetchError(f"Jolpica could not be reached ({type(error).__name__}); check the "
                         f"network or pass a downloaded dump with --history-file") from None
    if response.status_code != 200:
        raise FetchError(f"Jolpica answered {response.status_code} for {url}; try again later")
    return response


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            sha.update(chunk)
    return sha.hexdigest()


def local_dump(path: Path) -> DumpFile:
    """A dump zip the user already has (``--history-file``); its date from its name
    (``...-2026-11-20.zip``) when it carries one."""
    if not path.is_file():
        raise UsageError(f"the dump file {path} does not exist: give the path of Jolpica's "
                         f"CSV dump zip", parameter="history_file")
    return DumpFile(path, _date(path.name), file_sha256(path))


def read_tables(dump: DumpFile, columns: dict[str, tuple[str, ...]]) -> dict[str, pd.DataFrame]:
    """The dump's tables ``columns`` names (``formula_one_<name>.csv``), each read by
    column name as text (NULL, an empty field, as None): extra columns are ignored,
    a missing table or column is a DumpError."""
    try:
        archive = zipfile.ZipFile(dump.path)
    except (zipfile.BadZipFile, OSError) as error:
        raise DumpError(f"{dump.path.name} is not a readable zip ({error}): download the "
                        f"dump again") from None
    with archive:
        names = set(archive.namelist())
        tables = {}
        for table, wanted in columns.items():
            member = f"formula_one_{table}.csv"
            if member not in names:
                raise DumpError(f"{dump.path.name} has no {member}: not a Jolpica CSV dump, "
                                f"or one of a format this version does not read")
            tables[table] = _read_csv(archive, member, wanted, dump.path.name)
    return tables


def _read_csv(archive: zipfile.ZipFile, member: str, wanted: tuple[str, ...],
              dump_name: str) -> pd.DataFrame:
    try:
        with archive.open(member) as raw:
            records = postgres_csv(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            header = next(records, None)
            if header is None:
                raise DumpError(f"{member} in {dump_name} is empty: download the dump again")
            missing = [name for name in wanted if name not in header]
            if missing:
                raise DumpError(f"{member} in {dump_name} has no column "
                                f"{', '.join(missing)}: the dump's format changed; this "
                                f"version cannot read it")
            positions = [header.index(name) for name in wanted]
            rows = [[row[i] for i in positions] for row in records]
    except (zipfile.BadZipFile, EOFError, zlib.error, UnicodeDecodeError, ValueError,
            IndexError) as error:
        raise DumpError(f"{member} in {dump_name} is damaged ({type(error).__name__}): "
                        f"download the dump again") from None
    return pd.DataFrame(rows, columns=list(wanted), dtype=object)


def postgres_csv(lines) -> Iterator[list[str | None]]:
    """Records of PostgreSQL's ``COPY ... CSV`` text: an unquoted empty field is NULL
    (None), a quoted one ``""`` the empty text, as PostgreSQL writes them (Python's csv
    module cannot tell the two apart). A quoted field may hold commas, doubled quotes and
    line breaks."""
    pending = ""
    for line in lines:
        line = pending + line
        if line.count('"') % 2:                 # a quoted field goes on on the next line
            pending = line
            continue
        pending = ""
        line = line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith("\n") \
            else line
        if '"' not in line:
            yield [field or None for field in line.split(",")]
        else:
            yield _quoted_fields(line)
    if pending:
        raise ValueError("a quoted field is not closed")


def _quoted_fields(line: str) -> list[str | None]:
    fields, i, size = [], 0, len(line)
    while True:
        if i < size and line[i] == '"':
            end, text = i + 1, []
            while True:
                close = line.index('"', end)
                text.append(line[end:close])
                if close + 1 < size and line[close + 1] == '"':
                    text.append('"')
                    end = close + 2
                else:
                    break
            fields.append("".join(text))
            i = close + 1
        else:
            comma = line.find(",", i)
            value = line[i:] if comma < 0 else line[i:comma]
            fields.append(value or None)
            i = size if comma < 0 else comma
        if i >= size:
            return fields
        if line[i] != ",":
            raise ValueError("text after a quoted field")
        i += 1
        if i == size:
            fields.append(None)
            return fields
