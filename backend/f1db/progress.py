"""Progress reporting, injected into the populator: tqdm bars on a terminal, nothing for cron."""

from __future__ import annotations

import logging
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


class NullProgress:
    """No bars (``--quiet``, tests, libraries embedding the populator)."""

    def bar(self, items: Iterable[T], *, total: int, desc: str, level: int) -> Iterator[T]:
        yield from items

    def set_description(self, level: int, desc: str) -> None:
        pass


class TqdmProgress(NullProgress):
    """Nested bars: level 0 events, 1 sessions, 2 the tables of a session."""

    def __init__(self):
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bars: dict[int, object] = {}

    def bar(self, items, *, total, desc, level):
        bar = self._tqdm(items, total=total, desc=desc, position=level, leave=level == 0,
                         unit=("event", "session", "table")[level], dynamic_ncols=True)
        self._bars[level] = bar
        try:
            yield from bar
        finally:
            bar.close()
            self._bars.pop(level, None)

    def set_description(self, level, desc):
        if level in self._bars:
            self._bars[level].set_description(desc)


class TqdmLoggingHandler(logging.StreamHandler):
    """Console log lines printed above the bars instead of through them."""

    def emit(self, record):
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)
