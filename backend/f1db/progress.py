"""Progress reporting, injected into the populator: tqdm bars on a terminal, nothing for cron."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class NullProgress:
    """No bars (``--quiet``, tests, libraries embedding the populator)."""

    def bar(self, items: Iterable[T], *, total: int, desc: str, level: int) -> Iterator[T]:
        yield from items

    def set_description(self, level: int, desc: str) -> None:
        pass

    @contextlib.contextmanager
    def rows(self, desc: str, *, level: int) -> Iterator[Callable[[int], None]]:
        """A counter of rows written (``advance(n)`` after each chunk); the bars show it
        with its rate, the log has each session's totals (summary.record_loaded)."""
        yield lambda rows: None

    def countdown(self, seconds: float, reason: str, clock) -> None:
        """Wait ``seconds`` by ``clock`` (``time()``, ``sleep(s)``), saying why at the start
        and how long is left once a minute: a log line is all cron or a container shows."""
        end = clock.time() + seconds
        log.info("%s: waiting %s, resuming at %s", reason, _duration(seconds), _utc(end))
        _sleep_until(end, clock, 60.0, lambda left: log.info(
            "Request budget: %s left, resuming at %s", _duration(left), _utc(end)))


class TqdmProgress(NullProgress):
    """Nested bars: level 0 events, 1 sessions (saying "loading with FastF1" during a
    load), 2 the tables of the session being written, 3 its rows and rows/s."""

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

    @contextlib.contextmanager
    def rows(self, desc, *, level):
        bar = self._tqdm(desc=desc, unit="rows", unit_scale=True, position=level, leave=False,
                         dynamic_ncols=True, mininterval=0.5)
        try:
            yield bar.update
        finally:
            bar.close()

    def countdown(self, seconds, reason, clock):
        """A bar below the others, counting the seconds down once a second (the start is
        logged too, so the log file says why the run paused)."""
        end = clock.time() + seconds
        log.info("%s: waiting %s, resuming at %s", reason, _duration(seconds), _utc(end))
        bar = self._tqdm(total=math.ceil(seconds), unit="s", leave=False, dynamic_ncols=True,
                         position=max(self._bars, default=-1) + 1, bar_format="{desc} |{bar}|")

        def tick(left):
            bar.set_description_str(f"Waiting for the request budget: {_duration(left)} left, "
                                    f"resuming at {_utc(end)}", refresh=False)
            bar.n = min(bar.total, int(seconds - left))
            bar.refresh()

        try:
            tick(seconds)
            _sleep_until(end, clock, 1.0, tick)
        finally:
            bar.close()


def _sleep_until(end: float, clock, step: float, each_step: Callable[[float], None]) -> None:
    """Sleep in steps of ``step`` seconds until ``clock`` reaches ``end``; ``each_step(left)``
    after every step but the last."""
    while (left := end - clock.time()) > 0:
        clock.sleep(min(step, left))
        if (left := end - clock.time()) > 0:
            each_step(left)


def _duration(seconds: float) -> str:
    return f"{math.ceil(seconds)} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"


def _utc(epoch: float) -> str:
    return f"{dt.datetime.fromtimestamp(math.ceil(epoch / 60) * 60, dt.timezone.utc):%H:%M} UTC"


class TqdmLoggingHandler(logging.StreamHandler):
    """Console log lines printed above the bars instead of through them."""

    def emit(self, record):
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)
