"""Several seasons in one run, and one selection split among workers (pure: no FastF1, no
database)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from f1db.errors import UsageError
from f1db.records import SessionKey, SessionRef
from f1db.selection import parse_years
from f1db.shard import Shard, estimated_cost, parse_shard, shard_from_environment, shard_keys


@pytest.mark.parametrize("text, years", [
    ("2023", (2023,)),
    ("2018-2021", (2018, 2019, 2020, 2021)),
    ("2021,2019", (2019, 2021)),
    ("2018-2019,2023, 2019", (2018, 2019, 2023)),
])
def test_years_read_as_a_year_a_range_a_list_or_a_mix(text, years):
    assert parse_years(text) == years


@pytest.mark.parametrize("text, words", [
    ("2024-2018", "runs backwards"),
    ("twenty", "Cannot read 'twenty'"),
    ("2018-", "Cannot read '2018-'"),
    ("1949", "from 1950 to"),
    (str(dt.date.today().year + 2), "from 1950 to"),
    ("1950-99999", "from 1950 to"),
    ("", "Cannot read ''"),
])
def test_bad_years_name_the_problem(text, words):
    with pytest.raises(UsageError) as caught:
        parse_years(text)
    assert words in str(caught.value) and caught.value.parameter == "year"


def _season(year: int, rounds: int, sprint_rounds=()) -> list[SessionRef]:
    refs = []
    for round_number in range(1, rounds + 1):
        names = (["Practice 1", "Sprint Qualifying", "Sprint", "Qualifying", "Race"]
                 if round_number in sprint_rounds else
                 ["Practice 1", "Practice 2", "Practice 3", "Qualifying", "Race"])
        refs += [SessionRef(SessionKey(year, round_number, name), f"Round {round_number}",
                            None, None, None, dt.datetime(year, 3, 1))
                 for name in names]
    return refs


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_are_disjoint_cover_the_selection_and_weigh_alike(count):
    refs = _season(2023, 22, sprint_rounds=(4, 9, 17)) + _season(2024, 24)
    shards = [shard_keys(refs, Shard(number, count)) for number in range(1, count + 1)]
    for first, second in itertools.combinations(shards, 2):
        assert not first & second
    assert set().union(*shards) == {ref.key for ref in refs}
    weights = [sum(estimated_cost(ref) for ref in refs if ref.key in shard) for shard in shards]
    # LPT: no shard is heavier than another by more than the heaviest session
    assert max(weights) - min(weights) <= max(estimated_cost(ref) for ref in refs)


def test_the_split_is_the_same_in_every_worker_whatever_the_order():
    refs = _season(2022, 10)
    assert shard_keys(refs, Shard(2, 3)) == shard_keys(list(reversed(refs)), Shard(2, 3))


def test_a_race_weighs_more_than_a_practice_session():
    race, practice = _season(2023, 1)[4], _season(2023, 1)[0]
    assert estimated_cost(race) > estimated_cost(practice)


def test_a_session_before_live_timing_weighs_little_and_the_backfill_still_spreads():
    """1950-2017 sessions are a few Jolpica requests each, no live timing parse: a backfill
    of history plus one live timing season gives each shard a share of the live season."""
    from dataclasses import replace

    history = [replace(ref, live_timing=False) for ref in _season(2017, 20)]
    live = _season(2018, 21)
    assert estimated_cost(history[4]) < estimated_cost(live[0]) / 10
    shards = [shard_keys(history + live, Shard(number, 4)) for number in (1, 2, 3, 4)]
    live_share = [sum(1 for ref in live if ref.key in shard) for shard in shards]
    assert max(live_share) - min(live_share) <= 2
    assert set().union(*shards) == {ref.key for ref in history + live}


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "2", "-1/2"])
def test_bad_shards_are_refused(text):
    with pytest.raises(UsageError) as caught:
        parse_shard(text)
    assert caught.value.parameter == "shard"


def test_cloud_run_and_kubernetes_pick_the_shard():
    assert shard_from_environment({}) is None
    assert str(shard_from_environment({"CLOUD_RUN_TASK_INDEX": "0",
                                       "CLOUD_RUN_TASK_COUNT": "4"})) == "1/4"
    assert str(shard_from_environment({"JOB_COMPLETION_INDEX": "2",
                                       "SHARD_COUNT": "3"})) == "3/3"
    with pytest.raises(UsageError, match="SHARD_COUNT"):
        shard_from_environment({"JOB_COMPLETION_INDEX": "2"})
    with pytest.raises(UsageError, match="does not exist"):
        shard_from_environment({"CLOUD_RUN_TASK_INDEX": "4", "CLOUD_RUN_TASK_COUNT": "4"})
