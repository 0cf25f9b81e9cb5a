"""A run's arguments, checked once, before anything else happens.

``DatabasePopulator`` takes keyword arguments (docs/USAGE.md lists them with their flags);
``RunOptions.checked`` turns them into one frozen record or raises a UsageError naming
the keyword (``parameter``). Checking changes nothing outside: FastF1's session names
are read from FastF1's own table, nothing is configured or created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..errors import UsageError
from ..plan import Freshness, freshness_from
from ..selection import check_years, choose_tables
from ..shard import Shard, parse_shard, shard_from_environment
from ..sources.events import session_name

MAX_REQUESTS_PER_HOUR = 500      # FastF1's own limit of requests to any API
MAX_JOBS = 64                    # worker processes (each a FastF1 of its own: memory bound)


@dataclass(frozen=True)
class RunOptions:
    years: tuple[int, ...]
    events: tuple[str, ...]             # names (fuzzy) or round numbers; () = every event
    session_ids: tuple[str, ...]        # FP1 ... R or full names; () = every session
    tables: tuple[str, ...]
    force: bool
    include_testing: bool
    shard: Shard | None
    retries: int
    retry_wait: float
    refresh: Freshness | None
    requests_per_hour: int
    jobs: int = 1                       # worker processes loading sessions at once

    @classmethod
    def checked(cls, year: int | Iterable[int], *, events=(), sessions=(), tables=None,
                force=False, include_testing=False, shard: Shard | str | None = None,
                retries=3, retry_wait=10.0, refresh_older_than=None,
                requests_per_hour=MAX_REQUESTS_PER_HOUR, jobs=1) -> "RunOptions":
        years = check_years(year)
        session_ids = tuple(sessions)
        for identifier in session_ids:          # unknown names fail now, not mid-run
            session_name(identifier, years[0])
        if not 1 <= _count(requests_per_hour, "requests_per_hour") <= MAX_REQUESTS_PER_HOUR:
            raise UsageError(f"The request budget must be 1 to {MAX_REQUESTS_PER_HOUR} an hour "
                             f"(FastF1's own limit), not {requests_per_hour}",
                             parameter="requests_per_hour")
        if not 1 <= _count(jobs, "jobs") <= MAX_JOBS:
            raise UsageError(f"Jobs must be 1 to {MAX_JOBS} worker processes, not {jobs}",
                             parameter="jobs")
        return cls(
            years=years, events=tuple(events), session_ids=session_ids,
            tables=choose_tables(None if tables is None else tuple(tables)),
            force=bool(force), include_testing=bool(include_testing),
            shard=(parse_shard(shard) if isinstance(shard, str)
                   else shard or shard_from_environment()),
            retries=_count(retries, "retries"), retry_wait=_seconds(retry_wait, "retry_wait"),
            refresh=freshness_from(refresh_older_than), requests_per_hour=requests_per_hour,
            jobs=jobs)

    def session_names(self, year: int) -> tuple[str, ...]:
        """FastF1's names of the chosen sessions in ``year`` (() = every session)."""
        return tuple(dict.fromkeys(session_name(s, year) for s in self.session_ids))


def _count(value, parameter: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{parameter.replace('_', ' ').capitalize()} must be a whole number "
                         f"of 0 or more, not {value!r}", parameter=parameter)
    return value


def _seconds(value, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"{parameter.replace('_', ' ').capitalize()} must be 0 or more "
                         f"seconds, not {value!r}", parameter=parameter)
    return float(value)
