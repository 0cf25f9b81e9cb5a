"""Serve recorded (and self-made) HTTP responses to FastF1 so it fills a real cache offline.

FastF1's request cache keys depend on the installed requests/requests-cache, so the
recordings in ``../shared/fastf1-recorded`` cannot be copied in as files. Instead a
transport adapter answers FastF1's own requests from the recordings while FastF1 loads
a session once; the responses land in FastF1's cache exactly as a live download would
put them, and later loads run in offline mode through FastF1's own parsing code.

The same transport injects faults (``Faults``: connection resets, read timeouts, HTTP 503,
429 and 500, each the first N times per URL) and can serve code that builds its own
requests sessions later: ``serving`` answers every ``HTTPAdapter.send`` of the process
(FastF1's live timing auth adapter included), so nothing reaches a socket.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

RECORDED_DIR = Path(__file__).resolve().parents[4] / "shared" / "fastf1-recorded"

_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def normalise_url(url: str) -> str:
    """Same URL whatever the order of its query parameters."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def recordings_available() -> bool:
    return (RECORDED_DIR / "INDEX.tsv").is_file()


def load_recordings(directory: Path = RECORDED_DIR) -> dict[str, tuple[int, dict, bytes]]:
    """Map each recorded URL to (status, headers, raw body bytes)."""
    responses = {}
    for line in (directory / "INDEX.tsv").read_text().splitlines()[1:]:
        url, _status, name = line.split("\t")
        record = json.loads((directory / "http_cache" / name).read_text())
        if "_content" in record:
            body = base64.b64decode(record["_content"])
        else:
            decoded = record["_decoded_content"]
            body = (decoded if isinstance(decoded, str) else json.dumps(decoded)).encode()
        headers = {k: v for k, v in record["headers"].items()
                   if k.lower() not in _DROPPED_HEADERS}
        responses[normalise_url(url)] = (record["status_code"], headers, body)
    return responses


# --- faults ---------------------------------------------------------------------------------

FAULT_KINDS = ("reset", "timeout", "503", "429", "500")
NOT_RECORDED = (404, {"Content-Type": "text/plain"}, b"not recorded")


@dataclass(frozen=True)
class FaultRule:
    """The first ``times`` requests to each URL containing ``url`` fail with ``kind``.

    ``reset``: the connection is reset (``requests.ConnectionError`` around
    ``ConnectionResetError(104)``, as a dropped TCP connection surfaces); ``timeout``:
    ``requests.ReadTimeout``; ``503``/``429``/``500``: a response with that status and a
    short text body (429 also says ``Retry-After: 1``). Counted per URL, so a rule on a page
    name fails that page on live timing and on FastF1's mirror alike, N times each.
    """

    url: str
    kind: str
    times: int = 1

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r}: use one of {', '.join(FAULT_KINDS)}")
        if not isinstance(self.times, int) or self.times < 0:
            raise ValueError(f"fault times must be a whole number >= 0, not {self.times!r}")


class Faults:
    """A fault plan (rules, first match wins) and the record of what it injected per URL.

    Thread-safe, so one plan can serve every requests session of a process.
    """

    def __init__(self, rules: Iterable[FaultRule | dict] = ()):
        self.rules = tuple(rule if isinstance(rule, FaultRule) else FaultRule(**rule)
                           for rule in rules)
        self._used: Counter = Counter()            # (rule index, url) -> faults injected
        self._injected: dict[str, Counter] = {}    # url -> kind -> faults injected
        self._lock = threading.Lock()

    @classmethod
    def from_json(cls, text: str | None) -> "Faults":
        """A plan from JSON: ``[{"url": "...", "kind": "503", "times": 2}, ...]``."""
        return cls(json.loads(text) if text and text.strip() else ())

    def to_json(self) -> str:
        return json.dumps([asdict(rule) for rule in self.rules])

    def take(self, url: str) -> str | None:
        """The fault kind for this request to ``url``, counting it; None: answer normally."""
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.url in url and self._used[index, url] < rule.times:
                    self._used[index, url] += 1
                    self._injected.setdefault(url, Counter())[rule.kind] += 1
                    return rule.kind
        return None

    def injected(self) -> dict[str, dict[str, int]]:
        """URL -> fault kind -> how many times it was injected."""
        with self._lock:
            return {url: dict(kinds) for url, kinds in self._injected.items()}

    @property
    def total(self) -> int:
        with self._lock:
            return sum(sum(kinds.values()) for kinds in self._injected.values())


def _raise_or_respond(adapter: HTTPAdapter, request, kind: str, timeout):
    """What a real transport does on this fault: raise as requests would, or a bad response."""
    if kind == "reset":
        raise requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"),
                                       request=request)
    if kind == "timeout":
        host = urlsplit(request.url).hostname
        raise requests.ReadTimeout(f"HTTPSConnectionPool(host='{host}', port=443): Read "
                                   f"timed out. (read timeout={timeout})", request=request)
    status = int(kind)
    headers = {"Content-Type": "text/plain"}
    if status == 429:
        headers["Retry-After"] = "1"
    return _response(adapter, request, status, headers, _reason(status).encode())


def _response(adapter: HTTPAdapter, request, status: int, headers: dict, body: bytes):
    raw = HTTPResponse(body=io.BytesIO(body),
                       headers={**headers, "Content-Length": str(len(body))},
                       status=status, preload_content=False, decode_content=False,
                       request_url=request.url, reason=_reason(status))
    return adapter.build_response(request, raw)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# --- the replay -------------------------------------------------------------------------------

class Replay:
    """Answers requests from a URL -> (status, headers, body) map, injecting ``faults``.

    Unknown URLs get a 404, like a missing page. ``requested`` lists every request that
    reached the transport, in order (faulted ones included); ``before_answer(n, url)`` is
    called before the n-th is answered (1-based), e.g. to pause a process mid-load.
    """

    def __init__(self, responses: dict[str, tuple[int, dict, bytes]],
                 faults: Faults | None = None,
                 before_answer: Callable[[int, str], None] | None = None):
        self.responses = responses
        self.faults = faults or Faults()
        self.before_answer = before_answer
        self.requested: list[str] = []
        self._lock = threading.Lock()

    def answer(self, adapter: HTTPAdapter, request, timeout=None, **_kwargs):
        with self._lock:
            self.requested.append(request.url)
            number = len(self.requested)
        if self.before_answer is not None:
            self.before_answer(number, request.url)
        url = normalise_url(request.url)
        kind = self.faults.take(url)
        if kind is not None:
            return _raise_or_respond(adapter, request, kind, timeout)
        return _response(adapter, request, *self.responses.get(url, NOT_RECORDED))

    def report(self) -> dict:
        """What was served: request count, requests per URL, faults injected per URL."""
        with self._lock:
            requested = list(self.requested)
        return {"requests": len(requested), "served": dict(Counter(requested)),
                "faults_injected": self.faults.injected(),
                "faults_injected_total": self.faults.total}


class ReplayAdapter(HTTPAdapter):
    """A transport adapter answering from a ``Replay`` (faults only when given)."""

    def __init__(self, responses: dict[str, tuple[int, dict, bytes]],
                 faults: Faults | None = None):
        super().__init__()
        self.replay = Replay(responses, faults)

    @property
    def requested(self) -> list[str]:
        return self.replay.requested

    def send(self, request, **kwargs):
        return self.replay.answer(self, request, **kwargs)

    def close(self):
        pass


@contextlib.contextmanager
def replaying(responses: dict[str, tuple[int, dict, bytes]], faults: Faults | None = None):
    """Route every request of FastF1's HTTP sessions to a ReplayAdapter while inside.

    Only the sessions FastF1 has now; code that configures FastF1's cache inside (a new
    requests session) needs ``serving`` instead.
    """
    from fastf1.req import Cache

    adapter = ReplayAdapter(responses, faults)
    sessions = [s for s in (Cache._requests_session, Cache._requests_session_cached) if s]
    saved = [dict(s.adapters) for s in sessions]
    for session in sessions:
        for prefix in list(session.adapters) + ["https://", "http://"]:
            session.mount(prefix, adapter)
    try:
        yield adapter
    finally:
        for session, adapters in zip(sessions, saved):
            session.adapters.clear()
            session.adapters.update(adapters)


@contextlib.contextmanager
def serving(responses: dict[str, tuple[int, dict, bytes]], faults: Faults | None = None,
            before_answer: Callable[[int, str], None] | None = None):
    """Answer every request the process sends through requests while inside; yields the Replay.

    Patches ``HTTPAdapter.send`` on the class, so it covers requests sessions made later
    (``fastf1.Cache.configure`` makes a new one at each run start) and every adapter
    subclass that sends through it, FastF1's ``LivetimingAuthAdapter`` included. That
    adapter is made to find no F1 account token, exactly as without F1_USERNAME and
    F1_PASSWORD, so it never tries to sign in: no request leaves the machine.
    """
    from fastf1.internals.f1account.transport import LivetimingAuthAdapter

    replay = Replay(responses, faults, before_answer)

    def send(adapter, request, **kwargs):
        return replay.answer(adapter, request, **kwargs)

    saved_send, saved_token = HTTPAdapter.__dict__["send"], LivetimingAuthAdapter._get_token
    HTTPAdapter.send = send
    LivetimingAuthAdapter._get_token = lambda adapter: None
    try:
        yield replay
    finally:
        HTTPAdapter.send = saved_send
        LivetimingAuthAdapter._get_token = saved_token
