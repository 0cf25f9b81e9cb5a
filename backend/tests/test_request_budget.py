"""The shared request budget: caps mirroring FastF1's limits, the sliding hour, waiting and
refusing, several real processes on one file, restarts, a broken file; and the countdown
shown while waiting. A fake clock stands in for time; SQLite files are real."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from f1db.errors import ConfigError, RequestBudgetSpent, UsageError
from f1db.progress import NullProgress, TqdmProgress
from f1db.sources.budget import HOUR, RequestBudget
from support.entry_scripts import BACKEND as BACKEND_DIR

LIVE = "https://livetiming.formula1.com/static/2021/Index.json"
JOLPICA = "https://api.jolpi.ca/ergast/f1/2021/results.json"
T0 = 1_700_000_000.0     # 2023-11-14 22:13:20 UTC


class FakeClock:
    """``time()`` stands still until ``sleep`` (or the test) moves it on."""

    def __init__(self, now: float = T0):
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def budget_at(tmp_path, clock, **options) -> RequestBudget:
    """A budget on a file in WAL mode: about 5 ms a take instead of 15 (fewer fsyncs) for
    the tests that fill an hour. The caps do not depend on the journal; the tests with
    several processes check both modes."""
    path = tmp_path / "budget.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=wal")
    return RequestBudget(path, clock=clock, **options)


def take_many(budget, clock, count, url=LIVE, step=1.0) -> None:
    for _ in range(count):
        assert budget.try_take(url) == 0.0
        clock.now += step


# --- caps and the sliding hour ---------------------------------------------------------

def test_499_requests_are_granted_then_the_next_waits_for_the_oldest(tmp_path, clock):
    budget = budget_at(tmp_path, clock)
    take_many(budget, clock, 499)                 # at T0, T0+1, ..., T0+498
    assert clock.now == T0 + 499
    assert budget.try_take(LIVE) == HOUR - 499    # the one at T0 frees at T0+3600
    assert budget.usage()["any"].used == 499      # the refusal recorded nothing

    clock.now = T0 + HOUR - 0.001
    assert budget.try_take(LIVE) == pytest.approx(0.001, abs=1e-6)
    clock.now = T0 + HOUR                         # exactly the oldest has left the hour
    assert budget.try_take(LIVE) == 0.0
    assert budget.try_take(LIVE) == 1.0           # next: the one at T0+1
    assert budget.usage()["any"].used == 499


def test_jolpica_requests_count_toward_both_limits(tmp_path, clock):
    budget = budget_at(tmp_path, clock)
    take_many(budget, clock, 199, url=JOLPICA)
    assert budget.try_take(JOLPICA) == HOUR - 199
    assert budget.try_take(LIVE) == 0.0           # live timing still has room
    usage = budget.usage()
    assert (usage["any"].used, usage["any"].cap) == (200, 499)
    assert (usage["jolpica"].used, usage["jolpica"].cap) == (199, 199)
    assert usage["jolpica"].frees_in == HOUR - 199 and usage["any"].frees_in == 0.0

    take_many(budget, clock, 299, step=0.0)       # 499 in all, 199 of them to Jolpica
    clock.now = T0 + HOUR                         # the one at T0 leaves both limits
    assert budget.try_take(LIVE) == 0.0           # ... and live timing takes its place:
    assert budget.try_take(JOLPICA) == 1.0        # Jolpica has room, the hour has not


@pytest.mark.parametrize("per_hour, caps", [(500, (499, 199)), (250, (249, 99)),
                                            (100, (99, 39)), (1, (1, 1))])
def test_requests_per_hour_lowers_both_caps_proportionally(tmp_path, clock, per_hour, caps):
    budget = budget_at(tmp_path, clock, requests_per_hour=per_hour)
    assert (budget.caps["any"], budget.caps["jolpica"]) == caps
    take_many(budget, clock, caps[0], step=0.0)
    assert budget.try_take(LIVE) == HOUR


@pytest.mark.parametrize("per_hour", [0, 501, 250.5, -5])
def test_a_budget_outside_what_fastf1_allows_is_refused(tmp_path, clock, per_hour):
    with pytest.raises(UsageError, match="1 to 500 requests an hour") as error:
        budget_at(tmp_path, clock, requests_per_hour=per_hour)
    assert error.value.parameter == "requests_per_hour"


# --- waiting or refusing ---------------------------------------------------------------

def test_take_with_wait_shows_the_countdown_then_takes(tmp_path, clock):
    budget = budget_at(tmp_path, clock, requests_per_hour=5)    # caps 4 and 1
    take_many(budget, clock, 4, step=10.0)                      # T0, +10, +20, +30
    shown = []

    def countdown(seconds, reason):
        shown.append((seconds, reason))
        clock.sleep(seconds)

    budget.take(LIVE, wait=True, countdown=countdown)
    assert shown == [(HOUR - 40, "Request budget spent (4/4 requests, 0/1 to Jolpica, "
                                 "in the last hour)")]
    assert clock.now == T0 + HOUR
    assert budget.usage()["any"].used == 4                      # T0 left, the new one came


def test_take_with_wait_and_no_countdown_sleeps_on_the_clock(tmp_path, clock):
    budget = budget_at(tmp_path, clock, requests_per_hour=5)
    take_many(budget, clock, 1, url=JOLPICA)
    budget.take(JOLPICA, wait=True)
    assert clock.sleeps == [HOUR - 1]


def test_take_without_wait_raises_with_when_to_retry(tmp_path, clock):
    budget = budget_at(tmp_path, clock, requests_per_hour=5)
    take_many(budget, clock, 4, step=0.0)
    with pytest.raises(RequestBudgetSpent) as raised:
        budget.take(LIVE, wait=False, countdown=lambda *_: pytest.fail("must not wait"))
    error = raised.value
    assert error.exit_code == 3
    assert error.retry_at == T0 + HOUR
    assert str(error) == ("The hour's request budget is spent (4/4 requests, 0/1 to Jolpica, "
                          "in the last hour): rerun later (at 23:14 UTC)")   # rounded up
    assert budget.usage()["any"].used == 4


def test_ensure_room_waits_until_a_whole_session_fits(tmp_path, clock):
    budget = budget_at(tmp_path, clock, requests_per_hour=5)
    take_many(budget, clock, 3, step=100.0)                     # T0, +100, +200; 1 free
    budget.ensure_room(1, 0, wait=False)                        # fits: returns at once
    with pytest.raises(RequestBudgetSpent) as raised:
        budget.ensure_room(3, 0, wait=False)
    assert raised.value.retry_at == T0 + 100 + HOUR             # two must leave the hour
    budget.ensure_room(3, 0, wait=True)
    assert clock.now == T0 + 100 + HOUR
    assert budget.usage()["any"].used == 1                      # ensure_room takes nothing

    clock.now += HOUR
    budget.ensure_room(50, 50, wait=False)    # more than an hour allows: a whole free hour


# --- the plan's estimate ---------------------------------------------------------------

def test_seconds_needed_counts_spacing_and_waits_for_slots(tmp_path, clock):
    budget = budget_at(tmp_path, clock, requests_per_hour=5)   # caps 4 and 1
    assert budget.seconds_needed(0, 0) == 0.0
    assert budget.seconds_needed(4, 0) == 0.75                  # 4 requests, 0.25 s apart
    assert budget.seconds_needed(5, 0) == HOUR                  # the 5th waits for the 1st
    assert budget.seconds_needed(2, 2) == HOUR                  # Jolpica: 1 an hour
    assert budget.seconds_needed(4, 1) == 0.75                  # Jolpica first, then others

    take_many(budget, clock, 4, step=100.0)
    assert budget.seconds_needed(1, 0) == HOUR - 400            # the current window counts
    assert budget.usage()["any"].used == 4                      # and nothing was taken


def test_seconds_needed_for_a_backfill_is_about_a_day(tmp_path, clock):
    budget = budget_at(tmp_path, clock)
    seconds = budget.seconds_needed(900 * 12, 900 * 2)          # live timing binds: 499/h
    assert 21 * HOUR < seconds < 21 * HOUR + 200


# --- shared, lasting, and broken files -------------------------------------------------

CHILD = textwrap.dedent("""
    import os, sys, time
    from f1db.sources.budget import RequestBudget
    path, per_hour, attempts, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    budget = RequestBudget(path, requests_per_hour=per_hour)
    while not os.path.exists(go):
        time.sleep(0.001)
    granted = sum(budget.try_take("https://api.jolpi.ca/x" if i % 3 == 0 else
                                  "https://livetiming.formula1.com/x") == 0.0
                  for i in range(attempts))
    print(granted)
""")


@pytest.mark.slow
@pytest.mark.parametrize("journal", ["delete", "wal"])
@pytest.mark.parametrize("per_hour, attempts", [(50, 40), (500, 60)])
def test_processes_sharing_one_file_never_exceed_or_lose_a_count(tmp_path, journal,
                                                                 per_hour, attempts):
    path = tmp_path / "budget.sqlite"
    RequestBudget(path).usage()                                   # creates the table
    with sqlite3.connect(path) as db:
        assert db.execute(f"PRAGMA journal_mode={journal}").fetchone()[0] == journal
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(BACKEND_DIR)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(per_hour),
                                  str(attempts), str(go)], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(3)]
    go.touch()
    granted = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        granted.append(int(out))
    budget = RequestBudget(path, requests_per_hour=per_hour)
    usage = budget.usage()
    if per_hour == 50:    # 120 attempts for 49 slots (42 of them Jolpica, for 19 slots)
        assert sum(granted) == usage["any"].used == budget.caps["any"] == 49
        assert 0 < usage["jolpica"].used <= budget.caps["jolpica"]
    else:                 # room for all 180: every one granted and recorded once
        assert sum(granted) == usage["any"].used == 3 * attempts
        assert usage["jolpica"].used == 3 * 20


FAST_CHILD = textwrap.dedent("""
    import os, sys, time
    from f1db.sources.budget import RequestBudget

    class FastClock:            # an hour passes every second: the window slides all along
        def time(self):
            self.last = time.time() * 3600
            return self.last

    path, go = sys.argv[1], sys.argv[2]
    clock = FastClock()
    budget = RequestBudget(path, requests_per_hour=20, clock=clock)
    while not os.path.exists(go):
        time.sleep(0.001)
    end, granted = time.time() + 3, []
    while time.time() < end:
        if budget.try_take("https://livetiming.formula1.com/x") == 0.0:
            granted.append(repr(clock.last))
        time.sleep(0.001)       # SQLite's busy wait is not fair: let the others in
    print(" ".join(granted))
""")


@pytest.mark.slow
def test_processes_sharing_one_file_never_hold_more_than_the_cap_in_any_hour(tmp_path):
    """Three processes contend while the hour slides (a fast clock): every grant, by any
    of them, has fewer than the cap granted in the hour before it."""
    path, go = tmp_path / "budget.sqlite", tmp_path / "go"
    RequestBudget(path).usage()
    env = {**os.environ, "PYTHONPATH": str(BACKEND_DIR)}
    children = [subprocess.Popen([sys.executable, "-c", FAST_CHILD, str(path), str(go)],
                                 env=env, text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for _ in range(3)]
    go.touch()
    grants = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        grants.append(sorted(float(value) for value in out.split()))
    assert all(grants), "a process was starved"
    every = sorted(at for each in grants for at in each)
    most, oldest = 0, 0
    for newest, at in enumerate(every):      # grants in the hour up to each grant
        while every[oldest] <= at - HOUR:
            oldest += 1
        most = max(most, newest - oldest + 1)
    assert most == 19       # the cap was reached (the test could fail), never exceeded


def test_a_new_budget_on_the_same_file_sees_earlier_requests(tmp_path, clock):
    take_many(budget_at(tmp_path, clock), clock, 10)
    again = budget_at(tmp_path, clock)
    assert again.usage()["any"].used == 10
    clock.now = T0 + HOUR + 4.5                                 # 5 have left the hour
    assert again.usage()["any"].used == 5
    with sqlite3.connect(tmp_path / "budget.sqlite") as db:      # and are gone from the file
        assert db.execute("SELECT count(*) FROM requests").fetchone()[0] == 5


def test_a_corrupt_budget_file_is_one_line_saying_what_to_do(tmp_path, clock):
    path = tmp_path / "budget.sqlite"
    path.write_bytes(b"this is not a database, just some bytes " * 200)
    with pytest.raises(ConfigError) as raised:
        RequestBudget(path, clock=clock).try_take(LIVE)
    message = str(raised.value)
    assert "\n" not in message and raised.value.__cause__ is None
    assert message.startswith(f"The request budget file {path} is unreadable: delete it")


def test_a_budget_file_that_cannot_be_opened_is_one_line(tmp_path, clock):
    path = tmp_path / "budget.sqlite"
    path.mkdir()                              # a folder where the file should be
    with pytest.raises(ConfigError, match=f"^The request budget file {path} cannot be "
                                          f"written: fix the permissions") as raised:
        RequestBudget(path, clock=clock).usage()
    assert "\n" not in str(raised.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_budget_file_is_one_line(tmp_path, clock):
    path = tmp_path / "budget.sqlite"
    RequestBudget(path, clock=clock).usage()
    path.chmod(0o444)
    with pytest.raises(ConfigError, match="cannot be written: fix the permissions"):
        RequestBudget(path, clock=clock).try_take(LIVE)


# --- the countdown ---------------------------------------------------------------------

@pytest.fixture
def f1db_log(caplog):
    """caplog on the f1db logger even when a CLI test in this process stopped propagation."""
    logger = logging.getLogger("f1db")
    caplog.set_level(logging.INFO, logger="f1db")
    if logger.propagate:
        yield caplog
        return
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def test_null_progress_countdown_logs_a_line_a_minute_and_ends_on_time(clock, f1db_log):
    NullProgress().countdown(150.0, "Request budget spent (499/499 requests)", clock)
    assert clock.now == T0 + 150.0 and clock.sleeps == [60.0, 60.0, 30.0]
    assert [r.getMessage() for r in f1db_log.records] == [
        "Request budget spent (499/499 requests): waiting 3 min, resuming at 22:16 UTC",
        "Request budget: 2 min left, resuming at 22:16 UTC",
        "Request budget: 30 s left, resuming at 22:16 UTC"]


def test_tqdm_countdown_ticks_each_second_and_ends_on_time(clock, capsys):
    TqdmProgress().countdown(4.5, "Request budget spent", clock)
    assert clock.now == T0 + 4.5 and clock.sleeps == [1.0, 1.0, 1.0, 1.0, 0.5]
    frames = capsys.readouterr().err
    for left in ("5 s", "4 s", "3 s", "2 s", "1 s"):
        assert f"Waiting for the request budget: {left} left, resuming at 22:14 UTC" in frames
