"""Serve recorded (and self-made) HTTP responses to FastF1 so it fills a real cache offline.

FastF1's request cache keys depend on the installed requests/requests-cache, so the
recordings in ``../shared/fastf1-recorded`` cannot be copied in as files. Instead a
transport adapter answers FastF1's own requests from the recordings while FastF1 loads
a session once; the responses land in FastF1's cache exactly as a live download would
put them, and later loads run in offline mode through FastF1's own parsing code.
"""

from __future__ import annotations

import base64
import io
import contextlib
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

RECORDED_DIR = Path(__file__).resolve().parents[3] / "shared" / "fastf1-recorded"

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


class ReplayAdapter(HTTPAdapter):
    """Answers from a URL -> response map; unknown URLs get a 404, like a missing page."""

    def __init__(self, responses: dict[str, tuple[int, dict, bytes]]):
        super().__init__()
        self.responses = responses
        self.requested: list[str] = []

    def send(self, request, **kwargs):
        self.requested.append(request.url)
        status, headers, body = self.responses.get(
            normalise_url(request.url), (404, {"Content-Type": "text/plain"}, b"not recorded"))
        raw = HTTPResponse(body=io.BytesIO(body), headers={**headers, "Content-Length": str(len(body))},
                           status=status, preload_content=False, decode_content=False,
                           request_url=request.url, reason="OK" if status == 200 else "Not Found")
        return self.build_response(request, raw)

    def close(self):
        pass


@contextlib.contextmanager
def replaying(responses: dict[str, tuple[int, dict, bytes]]):
    """Route every request of FastF1's HTTP sessions to a ReplayAdapter while inside."""
    from fastf1.req import Cache

    adapter = ReplayAdapter(responses)
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
