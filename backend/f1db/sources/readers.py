"""Which reader fills each table, registered by the table's name, and how a fetch runs them.

A reader turns what a source loaded (a :class:`Reading`) into one table's frame, as the
source gave it (shaping it is the transform's job). Each fact table has exactly one
reader, registered under its table name with :func:`reads`; tables that are a plain
attribute of FastF1's loaded ``Session`` get one from :func:`reads_attribute`. A new source
plugs in the same way: models for its tables (models.py) and a module of readers
registered here; the run asks for tables by name and never learns where they came from.

A reader that finds nothing raises :class:`Missing` with the reason the ledger records;
the table is then retried on a later run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..errors import first_line
from ..models import fact_sources
from ..records import FetchedSession, SessionKey

log = logging.getLogger(__name__)

Frame = pd.DataFrame | dict[str, pd.DataFrame]


class Missing(Exception):
    """A reader found nothing to store: the part is recorded missing with this reason."""


class Reading:
    """What the readers of one fetch share: FastF1, its loaded ``Session`` (None when no
    table needed a load), the session's key, and the calls already made (the circuit's
    two tables come from one ``get_circuit_info``)."""

    def __init__(self, fastf1, session, key: SessionKey):
        self.fastf1, self.session, self.key = fastf1, session, key
        self._calls: dict[str, object] = {}

    def once(self, call: str, make: Callable[[], object]):
        """``make()``'s result, made once per fetch; a call that found nothing is not
        made again for the next table that shares it (the same request would go out)."""
        if call not in self._calls:
            try:
                self._calls[call] = make()
            except Missing as missing:
                self._calls[call] = missing
        if isinstance(self._calls[call], Missing):
            raise self._calls[call]
        return self._calls[call]

    def loaded(self, attribute: str):
        """A loaded session's attribute, or None when FastF1 could not load it."""
        try:
            return getattr(self.session, attribute)
        except self.fastf1.exceptions.DataNotLoadedError:
            return None


@dataclass(frozen=True)
class Reader:
    """One table's reader. ``own_code``: it runs code of its own (FastF1 helpers, another
    request), so a failure there is a gap in what the source could give, recorded as
    missing; a plain attribute that fails is a bug, and is raised. ``partial``: says why
    a frame the reader gave is not complete yet (the table is stored and retried), or None."""

    table: str
    read: Callable[[Reading], Frame]
    own_code: bool = True
    partial: Callable[[Reading, pd.DataFrame], str | None] | None = None


READERS: dict[str, Reader] = {}


def reads(table: str):
    """Register the decorated function as ``table``'s reader."""
    def register(read: Callable[[Reading], Frame]) -> Callable[[Reading], Frame]:
        _register(Reader(table, read))
        return read
    return register


def reads_attribute(table: str, *,
                    partial: Callable[[Reading, pd.DataFrame], str | None] | None = None
                    ) -> None:
    """Register ``table``'s reader as its model's Session attribute (``FastF1Part.attribute``)."""
    attribute = fact_sources()[table].attribute
    _register(Reader(table, lambda reading: getattr(reading.session, attribute),
                     own_code=False, partial=partial))


def _register(reader: Reader) -> None:
    if reader.table not in fact_sources():
        raise ValueError(f"a reader for {reader.table}, which is no fact table (models.py)")
    if reader.table in READERS:
        raise ValueError(f"{reader.table} has two readers")
    READERS[reader.table] = reader


def collect_frames(reading: Reading, tables: set[str]) -> FetchedSession:
    """Run the reader of each requested table on a loaded session; note what is missing."""
    fetched = FetchedSession()
    not_loaded_error = reading.fastf1.exceptions.DataNotLoadedError
    for table, source in fact_sources().items():
        if table not in tables:
            continue
        reader = READERS[table]
        try:
            value = reader.read(reading)
        except not_loaded_error:
            fetched.missing[table] = "FastF1 could not load it"
            continue
        except Missing as missing:
            fetched.missing[table] = str(missing)
            continue
        except reading.fastf1.exceptions.RateLimitExceededError:
            raise
        except Exception as error:   # a reader's own code (FastF1's helpers) failed: a gap
            if not reader.own_code:
                raise
            log.debug("Reading %s failed", table, exc_info=True)
            fetched.missing[table] = (f"FastF1 failed to give it: {type(error).__name__}: "
                                      f"{first_line(error)}")
            continue
        if source.per_driver:
            # Plain frames (same data, no copy): FastF1's Telemetry keeps a reference to
            # its Session, which would keep the whole loaded session alive.
            value = {driver: pd.DataFrame(frame) for driver, frame in value.items()}
            empty = not any(len(frame) for frame in value.values())
        else:
            value = pd.DataFrame(value)
            empty = value.empty
        if empty and not source.may_be_empty:
            fetched.missing[table] = "FastF1 returned no rows"
            continue
        fetched.frames[table] = value
        why_partial = reader.partial(reading, value) if reader.partial else None
        if why_partial:
            fetched.partial[table] = why_partial
    return fetched
