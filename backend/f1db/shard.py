"""Splitting one selection among N workers (``--shard K/N``, Cloud Run and Kubernetes tasks).

Pure: no FastF1, no database. Every worker computes the same split on its own, so the
split must depend only on what every worker sees alike: the selected sessions, never the
ledger (which changes while workers run; a split of "what is left" would differ between a
worker that starts early and one that starts late, and sessions would fall between them).
Sessions are dealt out by estimated cost, largest first, each to the least loaded shard
(the LPT rule), so that shards finish at about the same time: a race weighs about twice
a practice session (telemetry rows grow with the session's length).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Mapping

from .errors import UsageError
from .records import SessionKey, SessionRef

# Relative cost of one session by FastF1's session name: about its length on track.
SESSION_COST = {"Race": 2.0, "Sprint": 1.0, "Qualifying": 1.2, "Sprint Qualifying": 0.9,
                "Sprint Shootout": 0.9, "Practice 1": 1.0, "Practice 2": 1.0,
                "Practice 3": 1.0}
DEFAULT_COST = 1.0            # testing days and any name not listed


@dataclass(frozen=True)
class Shard:
    """Shard ``number`` (1-based) of ``count``; ``source`` says where it came from."""

    number: int
    count: int
    source: str = "--shard"

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``K/N`` with 1 <= K <= N."""
    number, _, count = str(text).partition("/")
    if not (number.strip().isdigit() and count.strip().isdigit()):
        raise UsageError(f"Cannot read shard '{text}': write K/N, e.g. 1/4 for the first of "
                         f"four workers", parameter="shard")
    return _checked(int(number), int(count), "--shard")


def shard_from_environment(env: Mapping[str, str] | None = None) -> Shard | None:
    """The shard a Cloud Run Job task or a Kubernetes indexed Job pod is, if either.

    Cloud Run sets ``CLOUD_RUN_TASK_INDEX`` (0-based) and ``CLOUD_RUN_TASK_COUNT``;
    Kubernetes sets ``JOB_COMPLETION_INDEX`` (0-based) and the manifest sets
    ``SHARD_COUNT`` to the Job's ``completions``.
    """
    env = os.environ if env is None else env
    for index_name, count_name in (("CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT"),
                                   ("JOB_COMPLETION_INDEX", "SHARD_COUNT")):
        if index_name not in env:
            continue
        index, count = env[index_name].strip(), env.get(count_name, "").strip()
        if not index.isdigit() or not count.isdigit():
            raise UsageError(f"{index_name}={env[index_name]!r} needs {count_name} set to the "
                             f"number of tasks (got {env.get(count_name)!r}); both must be "
                             f"whole numbers", parameter="shard")
        return _checked(int(index) + 1, int(count), f"{index_name}/{count_name}")
    return None


def _checked(number: int, count: int, source: str) -> Shard:
    if count < 1 or not 1 <= number <= count:
        raise UsageError(f"Shard {number}/{count} does not exist: K must be from 1 to N "
                         f"(from {source})", parameter="shard")
    return Shard(number, count, source)


# A session before live timing is a Jolpica request or a few, no live timing parse.
BEFORE_LIVE_TIMING_COST = 0.05


def estimated_cost(ref: SessionRef) -> float:
    if not ref.live_timing:
        return BEFORE_LIVE_TIMING_COST
    return SESSION_COST.get(ref.key.session_type, DEFAULT_COST)


def shard_keys(refs: Iterable[SessionRef], shard: Shard) -> set[SessionKey]:
    """The sessions of ``refs`` that belong to ``shard``: the same answer in every worker."""
    ordered = sorted(refs, key=lambda ref: (-estimated_cost(ref), ref.key.year,
                                            ref.key.round_number, ref.key.session_type))
    loads = [0.0] * shard.count
    mine: set[SessionKey] = set()
    for ref in ordered:
        lightest = min(range(shard.count), key=lambda index: (loads[index], index))
        loads[lightest] += estimated_cost(ref)
        if lightest == shard.number - 1:
            mine.add(ref.key)
    return mine
