"""The request meter between requests sessions and their transport adapters: real requests
are charged, counted and given a timeout; cache hits are free; transient faults are
noted; a spent budget stops a request before it leaves. A canned in-test adapter stands
in for the network, and FastF1's own sessions are checked with the recorded responses."""

from __future__ import annotations

import io

import pytest
import requests
import requests_cache
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from f1db.errors import RequestBudgetSpent
from f1db.sources.budget import RequestBudget
from f1db.sources.http_meter import RequestMeter
from support.fastf1_replay import load_recordings, recordings_available, replaying
from support.synthetic_telemetry import restoring_fastf1_cache, unthrottled

T0 = 1_700_000_000.0

LIVE = "https://livetiming.formula1.com/static/2021/Index.json"
JOLPICA = "https://api.jolpi.ca/ergast/f1/2021.json"


class FakeClock:
    def __init__(self):
        self.now = T0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class CannedAdapter(HTTPAdapter):
    """Answers by URL: a status code (with a small JSON body) or an exception to raise."""

    def __init__(self, answers: dict):
        super().__init__()
        self.answers = answers
        self.sent: list[tuple[str, object]] = []     # (url, timeout)

    def send(self, request, **kwargs):
        self.sent.append((request.url, kwargs.get("timeout")))
        answer = self.answers.get(request.url, 200)
        if isinstance(answer, BaseException):
            raise answer
        body = b'{"ok": true}'
        raw = HTTPResponse(body=io.BytesIO(body), status=answer, preload_content=False,
                           headers={"Content-Type": "application/json",
                                    "Content-Length": str(len(body))},
                           request_url=request.url, reason="canned")
        return self.build_response(request, raw)

    def close(self):
        pass


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def budget(tmp_path, clock):
    return RequestBudget(tmp_path / "budget.sqlite", clock=clock)


def metered(session, answers, meter):
    adapter = CannedAdapter(answers)
    session.mount("https://", adapter)
    meter.install(session)
    return adapter


def test_a_request_is_charged_counted_and_given_a_timeout(budget):
    meter = RequestMeter(budget, wait=False)
    session = requests.Session()
    adapter = metered(session, {}, meter)
    assert session.get(LIVE).json() == {"ok": True}
    session.get(JOLPICA, timeout=5)
    assert adapter.sent == [(LIVE, (10, 60)), (JOLPICA, 5)]   # a timeout given is kept
    assert meter.requests_sent == 2
    assert meter.sent_by_kind == {"livetiming": 1, "jolpica": 1, "other": 0}
    usage = budget.usage()
    assert (usage["any"].used, usage["jolpica"].used) == (2, 1)


def test_installing_twice_meters_once_and_uninstall_stops_it(budget):
    meter = RequestMeter(budget, wait=False)
    session = requests.Session()
    metered(session, {}, meter)
    meter.install(session)
    session.get(LIVE)
    assert meter.requests_sent == 1 and budget.usage()["any"].used == 1
    RequestMeter.uninstall(session)
    session.get(LIVE)
    assert meter.requests_sent == 1 and budget.usage()["any"].used == 1


def test_cache_hits_are_free(tmp_path, budget):
    meter = RequestMeter(budget, wait=False)
    session = requests_cache.CachedSession(str(tmp_path / "http_cache"), backend="sqlite")
    adapter = metered(session, {}, meter)
    first, second = session.get(LIVE), session.get(LIVE)
    assert not first.from_cache and second.from_cache
    assert len(adapter.sent) == 1 and meter.requests_sent == 1
    assert budget.usage()["any"].used == 1
    session.get(JOLPICA)                                # a miss is charged again
    assert meter.requests_sent == 2 and budget.usage()["jolpica"].used == 1
    session.close()


def test_transient_faults_are_noted_per_load_and_errors_pass_through(budget):
    reset = requests.ConnectionError("('Connection aborted.', ConnectionResetError(104, "
                                     "'Connection reset by peer'))")
    slow = requests.ReadTimeout("HTTPSConnectionPool: Read timed out. (read timeout=60)")
    answers = {"https://livetiming.formula1.com/503": 503,
               "https://livetiming.formula1.com/429": 429,
               "https://livetiming.formula1.com/404": 404,
               "https://livetiming.formula1.com/reset": reset,
               "https://api.jolpi.ca/slow": slow,
               "https://api.jolpi.ca/unreachable": requests.ConnectTimeout("connect timed out")}
    meter = RequestMeter(budget, wait=False)
    session = requests.Session()
    metered(session, answers, meter)
    meter.start_load()
    for url in list(answers)[:3]:
        session.get(url)
    session.get(LIVE)
    for url, error in list(answers.items())[3:]:
        with pytest.raises(type(error)) as raised:
            session.get(url)
        assert raised.value is error                    # re-raised unchanged
    assert meter.transient_faults() == [
        "HTTP 503 from livetiming.formula1.com", "HTTP 429 from livetiming.formula1.com",
        "connection reset by livetiming.formula1.com", "timed out reading from api.jolpi.ca",
        "timed out connecting to api.jolpi.ca"]
    assert meter.requests_sent == 7                     # failed requests were still sent
    meter.start_load()
    assert meter.transient_faults() == []


def test_a_spent_budget_stops_the_request_before_it_leaves(tmp_path, clock):
    budget = RequestBudget(tmp_path / "budget.sqlite", requests_per_hour=5, clock=clock)
    meter = RequestMeter(budget, wait=False)
    session = requests.Session()
    adapter = metered(session, {}, meter)
    for _ in range(4):
        session.get(LIVE)
    with pytest.raises(RequestBudgetSpent) as raised:
        session.get(LIVE)
    assert raised.value.retry_at == T0 + 3600
    assert len(adapter.sent) == 4 and meter.requests_sent == 4
    assert meter.budget_refusal is raised.value     # kept, in case FastF1 swallows it
    meter.start_load()
    assert meter.budget_refusal is None


def test_a_spent_budget_waits_with_the_countdown_then_sends(tmp_path, clock):
    budget = RequestBudget(tmp_path / "budget.sqlite", requests_per_hour=5, clock=clock)
    shown = []

    def countdown(seconds, reason):
        shown.append(seconds)
        clock.sleep(seconds)

    meter = RequestMeter(budget, wait=True, countdown=countdown)
    session = requests.Session()
    adapter = metered(session, {}, meter)
    for _ in range(5):
        session.get(JOLPICA)            # Jolpica's cap is 1 an hour here
    assert shown == [3600.0] * 4 and clock.now == T0 + 4 * 3600
    assert len(adapter.sent) == 5


def test_without_a_budget_requests_are_only_counted():
    meter = RequestMeter(None, wait=False)
    session = requests.Session()
    adapter = metered(session, {"https://livetiming.formula1.com/x": 502}, meter)
    session.get("https://livetiming.formula1.com/x")
    assert meter.requests_sent == 1 and adapter.sent[0][1] == (10, 60)
    assert meter.transient_faults() == ["HTTP 502 from livetiming.formula1.com"]


def test_fastf1_requests_go_through_the_meter_and_its_cache_hits_do_not(tmp_path, budget):
    if not recordings_available():
        pytest.skip("../shared/fastf1-recorded is absent: no FastF1 responses to replay")
    import fastf1
    from fastf1.req import Cache

    meter = RequestMeter(budget, wait=False)
    cache = tmp_path / "fastf1-cache"
    cache.mkdir()
    with restoring_fastf1_cache(), unthrottled():
        fastf1.Cache.configure(cache_dir=str(cache))
        sessions = (Cache._requests_session_cached, Cache._requests_session)
        for session in sessions:
            meter.install(session)
        try:
            with replaying(load_recordings()) as replay:
                fastf1.get_event_schedule(2021)
                sent = meter.requests_sent
                assert sent > 0 and sent == len(replay.requested)
                assert budget.usage()["any"].used == sent
                fastf1.get_event_schedule(2021)
                assert meter.requests_sent == sent == len(replay.requested)
        finally:
            for session in sessions:
                RequestMeter.uninstall(session)
