"""Synthetic car telemetry and position data in the F1 live timing wire format.

The recorded FastF1 responses hold no ``CarData.z`` / ``Position.z`` pages (too big to
keep), yet the telemetry and positions tables are the large ones. These functions make
those pages in the live timing wire format, so FastF1's own parser
(``fastf1._api.car_data`` / ``position_data``) turns them into DataFrames exactly as it
would after a real download. That way the tests exercise the real parse path and its
quirks.

Wire format (one line per message, CRLF separated, CRLF after the last line too)::

    HH:MM:SS.mmm"<base64 of raw-deflate JSON>"

with ``{"Entries":[{"Utc":..., "Cars":{"44":{"Channels":{...}}}}]}`` for car data and
``{"Position":[{"Timestamp":..., "Entries":{"44":{"Status":..., "X":..}}}]}`` for positions.
A sample's ``Utc`` is stream start + its stream time; a line's stream time is that of its
latest sample, so FastF1's ``Session.t0_date`` comes out as the stream start.

Like the real feed the samples are not aligned: every driver has its own jitter, car and
position samples are out of phase, and now and then two consecutive samples of one driver
carry the same ``Utc`` (so ``(driver, date)`` is *not* a key).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import shutil
import tempfile
import zlib

import numpy as np

from support.fastf1_replay import normalise_url, replaying

LIVETIMING_URL = "https://livetiming.formula1.com"
MIRROR_URL = "https://livetiming-mirror.fastf1.dev"
JSON_HEADERS = {"Content-Type": "application/json"}

LINE_MS = 1000          # each message (line) carries about one second of samples
DUPLICATE_SHARE = 0.005  # share of samples that repeat the previous sample's Utc
OFF_TRACK_SHARE = 0.002  # share of position samples with Status "OffTrack"
BRAKE_ON = 104           # FastF1 makes Brake a bool (and warns about values in 1..99)

# Corners of the synthetic track: (lap fraction, speed lost in km/h, width as lap fraction).
_CORNERS = np.array([(0.14, 230, 0.012), (0.30, 120, 0.020), (0.45, 200, 0.015),
                     (0.62, 90, 0.025), (0.78, 160, 0.015), (0.90, 60, 0.030)])
_TOP_SPEED = 335.0
_GEAR_MIN_SPEED = np.array([0, 90, 125, 160, 195, 230, 265, 295])  # km/h where gear 1..8 starts


def samples_per_driver(seconds: float, hz: float) -> int:
    """Rows per driver and stream that :func:`telemetry_responses` makes (same for both)."""
    return int(seconds * hz)


def telemetry_responses(*, api_path: str, drivers: list[str], stream_start_utc: dt.datetime,
                        seconds: float, hz: float = 4.0, seed: int = 0,
                        aligned: bool = False) -> dict[str, tuple[int, dict, bytes]]:
    """Make ``CarData.z.jsonStream`` and ``Position.z.jsonStream`` for one session.

    Args:
        api_path: ``Session.api_path``, e.g. ``/static/2021/.../2021-09-11_Practice_2/``.
        drivers: driver numbers as strings; each gets the same number of samples, because
            FastF1 pads shorter drivers with rows copied from the longest one.
        stream_start_utc: UTC time of stream time 0 (naive = UTC). Keep it to whole
            milliseconds if ``Session.t0_date`` must equal it exactly.
        seconds: length of the stream; ``samples_per_driver(seconds, hz)`` rows per driver.
        hz: samples per second and driver (real feed: about 4); at most a few hundred,
            since timestamps have millisecond resolution.
        seed: same seed, same bytes.
        aligned: one time for every driver's sample, none repeated (see
            ``_sample_times_ms``), so that FastF1's ``Lap.get_telemetry()`` works.

    Returns:
        ``{normalised URL: (200, headers, body)}`` for the two pages, ready for ``replaying``.
    """
    start = _as_naive_utc(stream_start_utc)
    n = samples_per_driver(seconds, hz)
    if n < 1:
        raise ValueError(f"{seconds} s at {hz} Hz is less than one sample per driver")
    rng = np.random.default_rng(seed)
    car_ms = _sample_times_ms(rng, len(drivers), n, hz, phase=0.3, aligned=aligned)
    pos_ms = _sample_times_ms(rng, len(drivers), n, hz, phase=0.75, aligned=aligned)
    lap = _lap_model(rng, len(drivers))
    car_rows = _car_samples(rng, drivers, car_ms, lap)
    pos_rows = _position_samples(rng, drivers, pos_ms, lap)

    car_body = _stream_body(
        car_ms, car_rows, start,
        entry_open=lambda utc: '{"Utc":"' + utc + '","Cars":{',
        document=('{"Entries":[', "]}"))
    pos_body = _stream_body(
        pos_ms, pos_rows, start,
        entry_open=lambda utc: '{"Timestamp":"' + utc + '","Entries":{',
        document=('{"Position":[', "]}"))
    base = LIVETIMING_URL + api_path
    return {normalise_url(base + "CarData.z.jsonStream"): (200, dict(JSON_HEADERS), car_body),
            normalise_url(base + "Position.z.jsonStream"): (200, dict(JSON_HEADERS), pos_body)}


def _as_naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def _sample_times_ms(rng, n_drivers: int, n: int, hz: float, *, phase: float,
                     aligned: bool = False) -> np.ndarray:
    """Stream times in ms, shape (drivers, n): jittered per driver, a few repeated.

    Jitter stays within a tenth of the interval, so times only repeat where we repeat them.
    ``aligned``: every driver's samples share one time and no time repeats, as in most of
    a real feed's entries (one ``Utc``/``Timestamp`` for all cars): FastF1's
    ``add_driver_ahead`` (and so ``Lap.get_telemetry()``) joins the drivers' samples on
    their times and fails on anything else.
    """
    rows = 1 if aligned else n_drivers
    driver_shift = rng.uniform(-0.04, 0.04, size=(rows, 1))
    jitter = rng.uniform(-0.06, 0.06, size=(rows, n))
    ms = np.rint((np.arange(n) + phase + driver_shift + jitter) * (1000.0 / hz)).astype(np.int64)
    repeat = rng.random((rows, n)) < (0.0 if aligned else DUPLICATE_SHARE)
    repeat[:, 0] = False
    ms[repeat] = 0
    ms = np.maximum.accumulate(ms, axis=1)  # a repeated sample takes its predecessor's time
    return np.repeat(ms, n_drivers, axis=0) if aligned else ms


def _lap_model(rng, n_drivers: int) -> dict:
    """Per-driver lap time and where on the lap the stream starts."""
    return {"lap_s": rng.uniform(80.0, 84.0, size=(n_drivers, 1)),
            "phase": rng.uniform(0.0, 1.0, size=(n_drivers, 1))}


def _lap_fraction(ms: np.ndarray, lap: dict) -> np.ndarray:
    return (ms / 1000.0 / lap["lap_s"] + lap["phase"]) % 1.0


def _speed_profile(u: np.ndarray) -> np.ndarray:
    """Speed (km/h) at lap fraction u: top speed minus a dip per corner."""
    speed = np.full(u.shape, _TOP_SPEED)
    for at, loss, width in _CORNERS:
        d = (u - at + 0.5) % 1.0 - 0.5  # distance along the lap, wrapped
        speed -= loss * np.exp(-0.5 * (d / width) ** 2)
    return speed


def _car_samples(rng, drivers, ms, lap) -> list[str]:
    """One JSON fragment ``"44":{"Channels":{...}}`` per sample, in (driver, sample) order."""
    u = _lap_fraction(ms, lap)
    speed_f = _speed_profile(u) + rng.normal(0.0, 1.5, size=u.shape)
    accel = _speed_profile((u + 0.002) % 1.0) - _speed_profile(u)  # > 0: speeding up
    speed = np.clip(np.rint(speed_f), 0, 360).astype(np.int64)
    gear = np.searchsorted(_GEAR_MIN_SPEED, speed, side="right").astype(np.int64)
    band_lo = _GEAR_MIN_SPEED[gear - 1]
    band_hi = np.append(_GEAR_MIN_SPEED[1:], 345)[gear - 1]
    rpm = 7600 + 4200 * (speed - band_lo) / (band_hi - band_lo) + rng.normal(0, 60, u.shape)
    rpm = np.clip(np.rint(rpm), 4000, 12900).astype(np.int64)
    braking = accel < -1.0
    lifting = (accel + 1.0) / 0.7 * 100  # partial throttle while easing off before a corner
    throttle = np.where(braking, 0, np.where(accel > -0.3, 100, lifting))
    throttle = np.clip(np.rint(throttle + rng.normal(0, 1, u.shape)), 0, 100).astype(np.int64)
    brake = np.where(braking, BRAKE_ON, 0)
    drs_open = (u < 0.1) | ((u > 0.5) & (u < 0.58))  # two DRS zones
    drs_eligible = (u > 0.96) | ((u > 0.47) & (u <= 0.5))  # just before them
    drs = np.where(drs_open, 12, np.where(drs_eligible, 8, 1))
    numbers = np.repeat(np.asarray(drivers, dtype=object), ms.shape[1])
    columns = [a.ravel().tolist() for a in (rpm, speed, gear, throttle, brake, drs)]
    return [f'"{d}":{{"Channels":{{"0":{r},"2":{s},"3":{g},"4":{t},"5":{b},"45":{z}}}}}'
            for d, r, s, g, t, b, z in zip(numbers.tolist(), *columns)]


def _position_samples(rng, drivers, ms, lap) -> list[str]:
    """One JSON fragment ``"44":{"Status":..,"X":..,..}`` per sample; 1/10 m like since 2020."""
    angle = 2 * np.pi * _lap_fraction(ms, lap)
    line_offset = rng.normal(0, 15, size=(len(drivers), 1))  # each driver's racing line
    x = np.rint((9000 + line_offset) * np.cos(angle) + 1500 * np.cos(3 * angle)).astype(np.int64)
    y = np.rint((5200 + line_offset) * np.sin(angle) - 800 * np.sin(2 * angle)).astype(np.int64)
    z = np.rint(120 + 90 * np.sin(2 * angle + 1.0)).astype(np.int64)
    off_track = rng.random(ms.shape) < OFF_TRACK_SHARE
    status = np.where(off_track, "OffTrack", "OnTrack")
    numbers = np.repeat(np.asarray(drivers, dtype=object), ms.shape[1])
    return [f'"{d}":{{"Status":"{st}","X":{a},"Y":{b},"Z":{c}}}'
            for d, st, a, b, c in zip(numbers.tolist(), status.ravel().tolist(),
                                      x.ravel().tolist(), y.ravel().tolist(), z.ravel().tolist())]


def _stream_body(ms: np.ndarray, samples: list[str], start: dt.datetime, *,
                 entry_open, document: tuple[str, str]) -> bytes:
    """Group samples into entries (one timestamp each) and lines (~1 s each); encode.

    An entry holds the samples sharing one timestamp; a driver's repeated timestamp opens
    a new entry with the same time, as in the real feed.
    """
    n_drivers, n = ms.shape
    flat_ms = ms.ravel()
    driver = np.repeat(np.arange(n_drivers), n)
    order = np.lexsort((np.tile(np.arange(n), n_drivers), driver, flat_ms))
    t, driver = flat_ms[order], driver[order]
    line = (t + LINE_MS - 1) // LINE_MS
    line_start = np.r_[True, line[1:] != line[:-1]]
    entry_start = line_start | np.r_[True, (t[1:] != t[:-1]) | (driver[1:] == driver[:-1])]
    entry_end = np.r_[entry_start[1:], True]
    line_start, entry_start, entry_end = line_start.tolist(), entry_start.tolist(), entry_end.tolist()

    utc = np.datetime_as_string(np.datetime64(start, "ms") + t.astype("timedelta64[ms]"),
                                unit="ms").tolist()
    t_list = t.tolist()
    pieces = []  # sorted sample k with the JSON around it: entry opening, separator, closing
    for k, source in enumerate(order.tolist()):
        if entry_start[k]:
            head = ("" if line_start[k] else ",") + entry_open(utc[k] + "0000Z")
        else:
            head = ","  # another driver in the same entry
        pieces.append(head + samples[source] + ("}}" if entry_end[k] else ""))

    bounds = np.flatnonzero(line_start).tolist() + [len(t_list)]
    lines = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        text = document[0] + "".join(pieces[a:b]) + document[1]
        deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, fast
        packed = deflate.compress(text.encode()) + deflate.flush()
        lines.append(_stream_time(t_list[b - 1]) + '"' + base64.b64encode(packed).decode() + '"')
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _stream_time(ms: int) -> str:
    seconds, milli = divmod(ms, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{sec:02d}.{milli:03d}"


# --- recorded sessions ------------------------------------------------------------------

def add_session_telemetry(responses: dict, *, year: int, event: str | int, session: str,
                          seconds: float, hz: float = 4.0, seed: int = 0,
                          aligned: bool = False) -> dict:
    """Return ``responses`` plus synthetic telemetry for one recorded session.

    The session's ``api_path``, drivers and date come from FastF1 itself (the recordings
    are replayed into a throw-away cache, the caller's FastF1 cache is left as it was), so
    name matching ('FP2', 'Italian Grand Prix', round numbers) works as in FastF1. The
    stream start (stream time 0 in UTC) is estimated from the race control messages, so
    the synthetic samples line up with the recorded laps and messages; without messages
    the scheduled session start is used.
    """
    import fastf1

    with scratch_fastf1_cache(), unthrottled(), replaying(responses):
        recorded = fastf1.get_session(year, event, session)
        recorded.load(laps=False, telemetry=False, weather=False, messages=False)  # drivers
        api_path, drivers, scheduled = recorded.api_path, list(recorded.drivers), recorded.date

    start = None
    for base in (LIVETIMING_URL, MIRROR_URL):  # FastF1 falls back to its mirror, so do we
        messages = responses.get(normalise_url(base + api_path + "RaceControlMessages.jsonStream"))
        if messages and messages[0] == 200:
            start = _stream_start_from_messages(messages[2])
            break
    start = start or scheduled.to_pydatetime()
    return {**responses, **telemetry_responses(api_path=api_path, drivers=drivers,
                                               stream_start_utc=start, seconds=seconds,
                                               hz=hz, seed=seed, aligned=aligned)}


def _stream_start_from_messages(body: bytes) -> dt.datetime | None:
    """Median of ``Utc - stream time`` over the messages, to whole milliseconds.

    Message ``Utc`` is rounded to whole seconds and a few old messages are repeated when the
    stream opens, so the median is used, not the maximum FastF1 uses for ``t0_date``.
    """
    offsets = []
    for line in body.decode("utf-8-sig").split("\r\n"):
        if len(line) <= 12:
            continue
        h, m, s = line[:12].split(":")
        stream_time = dt.timedelta(hours=int(h), minutes=int(m), seconds=float(s))
        messages = json.loads(line[12:]).get("Messages", [])
        for message in messages.values() if isinstance(messages, dict) else messages:
            if "Utc" in message:
                utc = dt.datetime.fromisoformat(message["Utc"].rstrip("Z"))
                offsets.append(utc - stream_time)
    if not offsets:
        return None
    start = sorted(offsets)[len(offsets) // 2]
    return start.replace(microsecond=start.microsecond // 1000 * 1000)


@contextlib.contextmanager
def restoring_fastf1_cache():
    """Put FastF1's cache configuration back as it was when leaving (closing any new one).

    Restoring the class attributes, rather than calling ``configure`` again, keeps an
    unconfigured FastF1 unconfigured, so code under test can still configure it itself.
    """
    from fastf1.req import Cache

    names = ("_CACHE_DIR", "_IGNORE_VERSION", "_FORCE_RENEW", "_requests_session_cached",
             "_no_cached_warned")
    saved = {name: getattr(Cache, name) for name in names}
    try:
        yield
    finally:
        current = Cache._requests_session_cached
        if current is not None and current is not saved["_requests_session_cached"]:
            current.close()
        for name, value in saved.items():
            setattr(Cache, name, value)


@contextlib.contextmanager
def scratch_fastf1_cache():
    """Point FastF1 at a temporary cache directory while inside; delete it afterwards."""
    from fastf1.req import Cache

    directory = tempfile.mkdtemp(prefix="fastf1-scratch-")
    try:
        with restoring_fastf1_cache():
            Cache.configure(cache_dir=directory)
            yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def unthrottled():
    """Switch off FastF1's client-side rate limits while replaying.

    The limits (0.25 s between requests, 500 requests/hour per process) protect real
    servers; replayed responses reach none, and counting them would slow every cache build
    by seconds and could exhaust the hourly quota of a long test run.
    """
    from fastf1.req import _SessionWithRateLimiting

    saved = _SessionWithRateLimiting._RATE_LIMITS
    _SessionWithRateLimiting._RATE_LIMITS = {}
    try:
        yield
    finally:
        _SessionWithRateLimiting._RATE_LIMITS = saved
