"""The fault machinery itself: the replay's injected faults, and replay_child.py in a real
process (loads, pause points, kills, the report). Checked against the loader as it is, so
the fault, signal and concurrency tests stand on tested ground."""

from __future__ import annotations

import signal

import pytest
import requests
from requests.adapters import HTTPAdapter

from f1db.models import TABLE_NAMES
from support.child_processes import (BAKU_ARGS, ITALY_ARGS, ITALY_FP2, assert_clean_exit,
                                     assert_stored_as_fastf1, fact_row_total, ledger_session_count,
                                     run_child, start_child)
from support.database import row_counts
from support.fastf1_replay import (FAULT_KINDS, FaultRule, Faults, normalise_url as replay_url,
                                   serving)
from support.synthetic_telemetry import unthrottled

pytestmark = pytest.mark.slow      # starts processes or loads FastF1 sessions

LIVE = ("https://livetiming.formula1.com/static/2021/2021-09-12_Italian_Grand_Prix/"
        "2021-09-11_Practice_2/")
MIRROR = LIVE.replace("https://livetiming.formula1.com", "https://livetiming-mirror.fastf1.dev")
PAGE = "TimingData.jsonStream"
RESPONSES = {replay_url(base + name): (200, {"Content-Type": "application/json"}, b'{"ok": 1}')
             for base in (LIVE, MIRROR) for name in (PAGE, "DriverList.jsonStream")}


def outcome(session: requests.Session, url: str) -> str:
    """What one GET came to: the fault kind it met, or "200"."""
    try:
        response = session.get(url, timeout=5)
    except requests.ReadTimeout as error:
        assert "Read timed out" in str(error)
        return "timeout"
    except requests.ConnectionError as error:
        assert isinstance(error.args[0], ConnectionResetError) and error.args[0].errno == 104
        assert "Connection reset by peer" in str(error)
        return "reset"
    if response.status_code == 429:
        assert response.headers["Retry-After"] == "1"
    if response.status_code == 200:
        assert response.json() == {"ok": 1}
    return str(response.status_code)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_happens_exactly_n_times_per_url_then_the_page_is_served(kind):
    faults = Faults([{"url": PAGE, "kind": kind, "times": 2}])
    with serving(RESPONSES, faults) as replay, requests.Session() as session:
        live = [outcome(session, LIVE + PAGE) for _ in range(3)]
        mirror = [outcome(session, MIRROR + PAGE) for _ in range(3)]
        other = outcome(session, LIVE + "DriverList.jsonStream")
    assert live == mirror == [kind, kind, "200"]      # counted per URL: both hosts get 2
    assert other == "200"
    assert faults.injected() == {replay_url(LIVE + PAGE): {kind: 2},
                                 replay_url(MIRROR + PAGE): {kind: 2}}
    assert faults.total == 4
    assert replay.report()["requests"] == 7


def test_rules_apply_in_order_and_zero_times_means_never():
    faults = Faults([FaultRule(PAGE, "503", 0), FaultRule("formula1.com", "reset", 1),
                     FaultRule(PAGE, "429", 1)])
    url = replay_url(LIVE + PAGE)
    assert [faults.take(url) for _ in range(3)] == ["reset", "429", None]
    assert faults.take(replay_url(MIRROR + PAGE)) == "429"
    assert Faults.from_json(faults.to_json()).rules == faults.rules
    assert Faults.from_json("").rules == Faults.from_json(None).rules == ()
    with pytest.raises(ValueError, match="fault kind"):
        Faults([{"url": PAGE, "kind": "502"}])


def test_serving_answers_sessions_made_later_and_fastf1_never_signs_in(monkeypatch):
    """FastF1 makes a new requests session (with its live timing auth adapter) whenever its
    cache is configured; ``serving`` must answer it too, without an F1 account token."""
    import fastf1.internals.f1account as account
    from fastf1.internals.f1account.transport import LivetimingAuthAdapter
    from fastf1.req import _SessionWithRateLimiting

    def no_sign_in(*args, **kwargs):
        raise AssertionError("FastF1 tried to get an F1 account token")

    monkeypatch.setattr(account.token_manager, "get", no_sign_in)
    original = HTTPAdapter.send
    faults = Faults([{"url": "DriverList", "kind": "503", "times": 1}])
    with unthrottled(), serving(RESPONSES, faults) as replay:
        session = _SessionWithRateLimiting()          # made inside, like Cache.configure
        assert isinstance(session.get_adapter(LIVE), LivetimingAuthAdapter)
        assert session.get(LIVE + "DriverList.jsonStream").status_code == 503
        assert session.get(LIVE + "DriverList.jsonStream").status_code == 200
        assert "Authorization" not in session.get(LIVE + PAGE).request.headers
        assert session.get("https://example.invalid/x").status_code == 404   # not recorded
    assert HTTPAdapter.send is original
    assert replay.report()["faults_injected_total"] == 1


# --- the child process -----------------------------------------------------------------------

def test_the_child_loads_a_session_from_the_replay_like_fastf1(tmp_path, sqlite_url,
                                                              recorded_cache):
    """No faults: 2021 Italian FP2 with telemetry, fresh cache, every table as FastF1 has it."""
    result = run_child(tmp_path, "--year", "2021", "--event", "Monza", "--session", "FP2",
                       "--database-url", sqlite_url, telemetry=True)
    assert_clean_exit(result)
    assert result.summary["sessions_loaded"] == 1 and result.summary["fastf1_loads"] == 1
    assert result.report["faults_injected_total"] == 0
    assert any("CarData.z.jsonStream" in url for url in result.report["served"])
    assert all(count == 1 for count in result.report["served"].values())   # nothing twice
    assert_stored_as_fastf1(sqlite_url, recorded_cache, [ITALY_FP2], TABLE_NAMES)


def test_a_503_injected_once_is_in_the_report(tmp_path, sqlite_url):
    page = LIVE + "RaceControlMessages.jsonStream"
    result = run_child(tmp_path, *ITALY_ARGS, "--database-url", sqlite_url,
                       faults=[{"url": page, "kind": "503", "times": 1}])
    assert_clean_exit(result)
    assert result.report["faults_injected"] == {replay_url(page): {"503": 1}}
    # FastF1 fell back to its mirror after the 503 (not recorded there: a 404).
    assert result.report["served"].get(MIRROR + "RaceControlMessages.jsonStream") == 1


def test_the_child_pauses_at_request_3_and_is_killable(tmp_path, sqlite_url):
    with start_child(tmp_path, *ITALY_ARGS, "--database-url", sqlite_url,
                     pause_at="request:3") as child:
        line = child.wait_paused()
        assert line == f"PAUSED request:3 pid={child.pid}"
        report = child.collect().report
        assert report["paused"] == "request:3" and report["requests"] == 3
        assert any("Practice_2" in url for url in report["served"])     # mid Session.load
        child.send_signal(signal.SIGKILL)
        result = child.finish(timeout=30)
    assert result.returncode == -signal.SIGKILL
    # Killed: what remains is the summary written at the start, saying the run is under way.
    assert result.summary == {"sessions": [], "exit_code": None, "running": True}


@pytest.mark.parametrize("point, database, args, stored_before", [
    ("copy", "sqlite_url", ITALY_ARGS, 0),
    ("copy", "postgres_url", ITALY_ARGS, 0),
    ("ledger", "sqlite_url", ITALY_ARGS, 0),
    ("committed:1", "postgres_url", BAKU_ARGS, 1),
])
def test_pause_points_hold_the_transaction_where_they_say(point, database, args, stored_before,
                                                          tmp_path, request):
    """copy and ledger: mid-transaction, nothing visible from outside yet; committed:1: the
    first session is visible, the second not started."""
    url = request.getfixturevalue(database)
    with start_child(tmp_path, *args, "--database-url", url, pause_at=point) as child:
        assert child.wait_paused().startswith(f"PAUSED {point} ")
        assert ledger_session_count(url) == stored_before
        if stored_before == 0:
            assert fact_row_total(url) == 0
        child.kill()


def test_a_timed_pause_lets_the_run_go_on(tmp_path, postgres_url):
    result = run_child(tmp_path, *ITALY_ARGS, "--database-url", postgres_url,
                       pause_at="copy", pause_seconds=0.5)
    assert_clean_exit(result)
    assert (result.folder / "paused.txt").read_text().startswith("PAUSED copy ")
    assert row_counts(postgres_url)["sessions"] == 1
