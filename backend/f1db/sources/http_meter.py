"""Between FastF1's HTTP sessions and their transport adapters: every real network request
is charged to the request budget, gets a timeout, is counted, and its transient fault (if
any) is noted for the session being loaded.

Where it sits: ``requests.Session.send`` calls ``self.get_adapter(url).send(request)``,
and that is the only way a request leaves the process. FastF1's sessions
(``fastf1.req.Cache._requests_session`` and ``_requests_session_cached``) both send that
way, and FastF1's own rate limiter runs before it. requests-cache answers a cache hit in
``CacheMixin.send``, above ``requests.Session.send``, so hits never reach ``get_adapter``:
they are free, as they should be. A miss, a revalidation and every redirect hop are real
requests and are charged. FastF1's F1 account sign-in uses sessions of its own, which
this does not see (FastF1 does not count them either).

FastF1 sets no timeout: a server that accepts the connection and never answers would hang
the run for ever, so requests without one get ``timeout`` (connect, read).

Faults are recorded, never handled here: FastF1's ``Session.load`` catches most errors of
the parts it loads and only logs them, so the populator asks ``transient_faults()`` after
a load to tell "HTTP 503, try again later" from "not published". The same goes for a spent
budget with ``wait=False``: FastF1 may swallow the RequestBudgetSpent raised here (or the
error of a budget whose log failed), so it is kept in ``budget_refusal`` for the caller to
raise once FastF1 returns.

No FastF1 import: this knows ``requests`` only, and is installed by the code that owns
FastF1 (``meter.install(fastf1.req.Cache._requests_session_cached)``, and the plain one).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from ..errors import F1DBError
from .budget import Countdown, RequestBudget, is_jolpica


class RequestMeter:
    """Counts, charges and watches the real requests of the sessions it is installed on."""

    def __init__(self, budget: RequestBudget | None, *, wait: bool,
                 countdown: Countdown | None = None, timeout=(10, 60)):
        self.budget = budget
        self.wait = wait
        self.countdown = countdown
        self.timeout = timeout
        self.requests_sent = 0
        self.sent_by_kind = {"livetiming": 0, "jolpica": 0, "other": 0}
        self._faults: list[str] = []
        self.budget_refusal: F1DBError | None = None

    def install(self, session: requests.Session) -> None:
        """Route ``session``'s requests through this meter (again: nothing changes)."""
        current = session.__dict__.get("get_adapter")
        if getattr(current, "meter", None) is self:
            return
        self.uninstall(session)
        unmetered = session.get_adapter

        def get_adapter(url):
            return _MeteredAdapter(unmetered(url), self)

        get_adapter.meter = self
        session.get_adapter = get_adapter

    @staticmethod
    def uninstall(session: requests.Session) -> None:
        """Give ``session`` its own ``get_adapter`` back (whichever meter installed one)."""
        if getattr(session.__dict__.get("get_adapter"), "meter", None) is not None:
            del session.get_adapter

    def start_load(self) -> None:
        """Forget the faults (and budget refusal) noted so far: a new session's load begins."""
        self._faults = []
        self.budget_refusal = None

    def transient_faults(self) -> list[str]:
        """One line per transient fault since ``start_load``, e.g. "HTTP 503 from
        livetiming.formula1.com" or "timed out reading from api.jolpi.ca"."""
        return list(self._faults)

    def _send(self, adapter, request, kwargs):
        if self.budget is not None:
            try:
                self.budget.take(request.url, wait=self.wait, countdown=self.countdown)
            except F1DBError as refusal:     # spent, or its log failed: FastF1 may swallow it
                self.budget_refusal = refusal
                raise
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        self.requests_sent += 1
        self.sent_by_kind[_kind(request.url)] += 1
        host = urlsplit(request.url).hostname or request.url
        try:
            response = adapter.send(request, **kwargs)
        except requests.Timeout as error:
            doing = "connecting to" if isinstance(error, requests.ConnectTimeout) else "reading from"
            self._faults.append(f"timed out {doing} {host}")
            raise
        except requests.ConnectionError as error:
            self._faults.append(_connection_fault(error, host))
            raise
        if response.status_code >= 500 or response.status_code == 429:
            self._faults.append(f"HTTP {response.status_code} from {host}")
        return response


class _MeteredAdapter:
    """A transport adapter whose ``send`` goes through the meter; the rest is the adapter's."""

    def __init__(self, adapter, meter: RequestMeter):
        self._adapter = adapter
        self._meter = meter

    def send(self, request, **kwargs):
        return self._meter._send(self._adapter, request, kwargs)

    def __getattr__(self, name):
        return getattr(self._adapter, name)


def _kind(url: str) -> str:
    if is_jolpica(url):
        return "jolpica"
    return "livetiming" if "livetiming" in (urlsplit(url).hostname or "") else "other"


def _connection_fault(error: Exception, host: str) -> str:
    text = str(error).lower()
    if "reset" in text:
        return f"connection reset by {host}"
    if "refused" in text:
        return f"connection refused by {host}"
    if "aborted" in text or "closed" in text or "remote end" in text:
        return f"connection dropped by {host}"
    return f"could not connect to {host}"
