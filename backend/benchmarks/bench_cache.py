"""The FastF1 caches the benchmarks run on: recorded sessions + synthetic telemetry.

How to run (from the repository root; no network needed, ../shared/fastf1-recorded must exist):

    python backend/benchmarks/bench_cache.py --cache /tmp/f1bench-cache            # the race
    python backend/benchmarks/bench_cache.py --cache /tmp/f1bench-cache-small --seconds 600
    python backend/benchmarks/bench_cache.py --cache /tmp/f1bench-sessions --sessions 4 \\
        --seconds 1800                                                 # several sessions

``bench_populate.py`` runs this script itself (in a child process) when a cache it needs is
missing or was built for something else; run it alone to build a cache ahead of time.

What it builds: the recorded sessions' HTTP responses (replayed from
../shared/fastf1-recorded by ``tests/support/fastf1_replay.py``) plus synthetic ``CarData.z`` /
``Position.z`` pages (``tests/support/synthetic_telemetry.py``: the recordings hold no car or
position data) of ``--seconds`` seconds at 4 Hz for each session's drivers.

* The race (default): the recorded 2021 Italian GP FP2 with 7200 s of telemetry for its 20
  drivers: 7200 x 4 x 20 = 576,000 telemetry rows + 576,000 position rows = 1.15 M rows.
* ``--sessions K``: the first K of SEVERAL_SESSIONS, each with ``--seconds`` of telemetry.

FastF1 loads every session once, offline, into the cache directory, which fills FastF1's
HTTP cache (and its parsed-data pickles, which the benchmark leaves out of the copies it
runs on). A marker file records what was built, so a directory already holding the same
cache is reused as it is; one holding another cache is refused, never deleted.

Module level imports the standard library only (``bench_populate.py``'s parent process
imports this module); FastF1 and the tests' helpers are imported by :func:`build_cache`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from timing import EVENT, HZ, SESSION, YEAR, fail, quiet

CACHE_MARKER = "bench_populate.json"   # what a cache built by this script holds
SCRIPT = Path(__file__).resolve()

RACE = [(YEAR, EVENT, SESSION)]
# Recorded sessions with laps, results and messages (../shared/fastf1-recorded/README.md),
# in the order the several-sessions benchmark takes them. populate_db.py selects years x
# events x sessions, so the first three make a selection of exactly those sessions
# (2023 Miami and 2025 Azerbaijan have neither a Sprint nor a Sprint Shootout); the fourth
# also selects 2023 Miami, 2025 Azerbaijan and 2025 Miami Qualifying, which are not in the
# cache and fail at once offline (bench_populate.py reports them).
# The first three are one event's sessions, which populate_db.py selects exactly
# (--year 2023 --event Azerbaijan --session Q --session SS --session S); more than three
# span events and years, and populate_db.py's years x events x sessions then also names
# sessions that are not recorded (they fail at once, offline).
SEVERAL_SESSIONS = [
    (2023, "Azerbaijan Grand Prix", "Qualifying"),
    (2023, "Azerbaijan Grand Prix", "Sprint Shootout"),
    (2023, "Azerbaijan Grand Prix", "Sprint"),
    (2021, "Italian Grand Prix", "Practice 2"),
    (2021, "Mexico City Grand Prix", "Qualifying"),
    (2025, "Miami Grand Prix", "Sprint"),
    (2020, "Hungarian Grand Prix", "Practice 2"),
]


def cache_spec(sessions: list[tuple], seconds: float) -> dict:
    return {"sessions": [list(session) for session in sessions], "seconds": float(seconds),
            "hz": HZ}


def built_spec(directory: Path) -> dict | None:
    """What the cache in ``directory`` holds (None: not one of ours). Reads the older
    single-session marker too, so existing race caches stay usable."""
    marker = directory / CACHE_MARKER
    if not marker.is_file():
        return None
    spec = json.loads(marker.read_text())
    if "sessions" not in spec:
        return {**cache_spec([(spec["year"], spec["event"], spec["session"])],
                             spec["seconds"]), "hz": spec["hz"]}
    return spec


def cache_is_built(directory: Path, sessions: list[tuple], seconds: float) -> bool:
    return built_spec(directory) == cache_spec(sessions, seconds)


def build_cache(directory: Path, sessions: list[tuple], seconds: float) -> None:
    """Fill ``directory`` with the recorded sessions + synthetic telemetry (FastF1 parses it)."""
    quiet()
    import fastf1
    fastf1.set_log_level("ERROR")   # its warnings are about the recordings, known and harmless
    from support.fastf1_replay import RECORDED_DIR, load_recordings, recordings_available, replaying
    from support.synthetic_telemetry import (add_session_telemetry, restoring_fastf1_cache,
                                             unthrottled)

    spec = built_spec(directory)
    if spec is not None:      # kept caches may be shared: never deleted here
        fail(f"{directory} holds another cache ({len(spec['sessions'])} session(s), "
             f"{spec['seconds']:g} s); give another directory, or delete it")
    if directory.is_dir() and any(directory.iterdir()):
        fail(f"{directory} is not empty and was not made by bench_cache.py")
    if not recordings_available():
        fail(f"{RECORDED_DIR} is absent: the recorded FastF1 sessions cannot be replayed, so "
             f"there is nothing to benchmark")
    directory.mkdir(parents=True, exist_ok=True)
    with restoring_fastf1_cache(), unthrottled():
        responses = load_recordings()
        for seed, (year, event, session) in enumerate(sessions):
            responses = add_session_telemetry(responses, year=year, event=event,
                                              session=session, seconds=seconds, hz=HZ,
                                              seed=seed)
        fastf1.Cache.configure(cache_dir=str(directory))
        with replaying(responses):
            for year in sorted({year for year, _, _ in sessions}):
                fastf1.get_event_schedule(year, include_testing=True)
                fastf1.get_event_schedule(year, include_testing=False)
            for year, event, session in sessions:
                loaded = fastf1.get_session(year, event, session)
                loaded.load()
                try:
                    complete = len(loaded.laps) and len(loaded.car_data)
                except fastf1.exceptions.DataNotLoadedError:
                    complete = False
                if not complete:
                    fail(f"{year} {event} {session} did not load laps and telemetry from the "
                         f"recordings; pick another session")
    (directory / CACHE_MARKER).write_text(json.dumps(cache_spec(sessions, seconds)))


def copy_cold(source: Path, target: Path) -> Path:
    """Copy a cache without FastF1's parsed-data pickles (``*.ff1pkl``), so that a load from
    the copy parses the raw responses again, as the first load after a download does."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.ff1pkl"))
    return target


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", metavar="DIR", type=Path, required=True,
                        help="the cache directory (built here, or reused if it fits)")
    parser.add_argument("--seconds", type=float, default=7200.0,
                        help="synthetic telemetry per session, seconds at 4 Hz (default 7200)")
    parser.add_argument("--sessions", type=int, metavar="K",
                        help=f"the first K (1-{len(SEVERAL_SESSIONS)}) of the several-sessions "
                             f"list instead of the race")
    args = parser.parse_args(argv)
    if args.sessions is not None and not 1 <= args.sessions <= len(SEVERAL_SESSIONS):
        parser.error(f"--sessions takes 1 to {len(SEVERAL_SESSIONS)}")
    sessions = SEVERAL_SESSIONS[:args.sessions] if args.sessions else RACE
    directory = args.cache.expanduser().resolve()
    if cache_is_built(directory, sessions, args.seconds):
        print(f"{directory} already holds this cache: reused.")
        return
    started = time.perf_counter()
    build_cache(directory, sessions, args.seconds)
    print(f"Built the FastF1 cache in {directory} in {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
