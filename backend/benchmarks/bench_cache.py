"""The FastF1 cache the benchmarks run on: the recorded 2021 Italian GP FP2 + synthetic telemetry.

How to run (from the repository root; no network needed, ../shared/fastf1-recorded must exist):

    python backend/benchmarks/bench_cache.py --cache /tmp/f1bench-cache            # 7200 s
    python backend/benchmarks/bench_cache.py --cache /tmp/f1bench-cache-small --seconds 600

``bench_populate.py`` runs this script itself (in a child process) when its cache is
missing or was built for another ``--seconds``; run it alone to build a cache ahead of time.

What it builds: the recorded session's HTTP responses (replayed from
../shared/fastf1-recorded by ``tests/fastf1_replay.py``) plus synthetic ``CarData.z`` /
``Position.z`` pages (``tests/synthetic_telemetry.py``) of ``--seconds`` seconds at 4 Hz for
the session's 20 drivers; 7200 s, a race, gives 7200 x 4 x 20 = 576,000 telemetry rows +
576,000 position rows = 1.15 M rows. FastF1 loads the session once, offline, into the cache
directory, which fills FastF1's HTTP cache and its parsed-data pickles (about 20 s for
7200 s). A marker file records what was built, so a directory already holding a cache of
the same size is reused as it is, and one built for another size is rebuilt.

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


def cache_spec(seconds: float) -> dict:
    return {"year": YEAR, "event": EVENT, "session": SESSION, "seconds": seconds, "hz": HZ}


def cache_is_built(directory: Path, seconds: float) -> bool:
    marker = directory / CACHE_MARKER
    return marker.is_file() and json.loads(marker.read_text()) == cache_spec(seconds)


def build_cache(directory: Path, seconds: float) -> None:
    """Fill ``directory`` with the recorded session + synthetic telemetry (FastF1 parses it)."""
    quiet()
    import fastf1
    from fastf1_replay import RECORDED_DIR, load_recordings, recordings_available, replaying
    from synthetic_telemetry import add_session_telemetry, restoring_fastf1_cache, unthrottled

    if (directory / CACHE_MARKER).is_file():
        shutil.rmtree(directory)          # ours, but built for another size: rebuild
    elif directory.is_dir() and any(directory.iterdir()):
        fail(f"{directory} is not empty and was not made by bench_cache.py")
    if not recordings_available():
        fail(f"{RECORDED_DIR} is absent: the recorded FastF1 session cannot be replayed, so "
             f"there is nothing to benchmark")
    directory.mkdir(parents=True, exist_ok=True)
    with restoring_fastf1_cache(), unthrottled():
        responses = add_session_telemetry(load_recordings(), year=YEAR, event=EVENT,
                                          session=SESSION, seconds=seconds, hz=HZ)
        fastf1.Cache.configure(cache_dir=str(directory))
        with replaying(responses):
            fastf1.get_event_schedule(YEAR, include_testing=True)
            fastf1.get_event_schedule(YEAR, include_testing=False)
            fastf1.get_session(YEAR, EVENT, SESSION).load()
    (directory / CACHE_MARKER).write_text(json.dumps(cache_spec(seconds)))


def clear_parsed_cache(directory: Path) -> int:
    """Delete the session's FastF1 pickles (``*.ff1pkl``) so the next load parses the raw
    responses again; returns how many were deleted."""
    pickles = list(directory.glob(f"{YEAR}/*Italian*/*Practice_2/*.ff1pkl"))
    for path in pickles:
        path.unlink()
    return len(pickles)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", metavar="DIR", type=Path, required=True,
                        help="the cache directory (built here, or reused if it fits)")
    parser.add_argument("--seconds", type=float, default=7200.0,
                        help="synthetic telemetry length in seconds at 4 Hz (default 7200)")
    args = parser.parse_args(argv)
    directory = args.cache.expanduser().resolve()
    if cache_is_built(directory, args.seconds):
        print(f"{directory} already holds the cache for {args.seconds:g} s: reused.")
        return
    started = time.perf_counter()
    build_cache(directory, args.seconds)
    print(f"Built the FastF1 cache in {directory} in {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
