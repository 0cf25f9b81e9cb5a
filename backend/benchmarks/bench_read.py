"""Benchmark: reading a stored race back (f1db.read) against FastF1's own warm load.

How to run (from the repository root; no network; ../shared/fastf1-recorded must exist;
PostgreSQL on 127.0.0.1:5432, user postgres, for the postgresql runs):

    python backend/benchmarks/bench_read.py                        # everything (about 5 min)
    python backend/benchmarks/bench_read.py --keep-cache /tmp/f1bench-race --runs 5
    python backend/benchmarks/bench_read.py --databases postgresql --seconds 1800

The session is bench_populate.py's race: the recorded 2021 Italian GP FP2 plus ``--seconds``
(default 7200: 576,000 car samples and 576,000 positions) of synthetic 4 Hz telemetry for
its 20 drivers, stored once per database by ``populate_db.py``. Each figure comes from its
own child process, the kinds alternating run by run (``--runs``, default 3), min and median
reported:

1. FastF1 alone, warm: ``fastf1.get_session(...)`` and ``Session.load()`` (every part) on a
   FastF1 cache that already holds the parsed data (one load ran before), timed around the
   two calls, offline.
2. ``f1db.read.load_session(url, ...)``: every part (laps, telemetry, weather, messages),
   timed around the call (it opens the database, checks the schema, reads, closes).
3. ``load_session(url, ..., telemetry=False, weather=False, messages=False)``: the race's
   results and laps (with the track and session status) alone.
Peak RSS is each child's own ``ru_maxrss`` (os.wait4), imports included for both.

4. One driver's lap of car data (``f1db.read.lap_telemetry``, the fastest lap of driver 44;
   median of 30 calls in one process, an open StoredData) from the database holding the
   one session, then from the same database after nine copies of the session were added
   under other rounds of 2021 (every fact table and the ledger, then ANALYZE): the ratio
   shows whether a sliced read grows with the sessions stored.

Ratios are printed against FastF1's median; the goals (docs/BENCHMARKS.md): the whole
session at most 0.3x FastF1's warm load on PostgreSQL with no more peak memory, the laps and
results at most 0.05x, the lap of car data within 1.5x between 1 and 10 sessions. Timings
are wall clock on a machine that may be shared: compare the ratios, measured side by side.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from timing import (BENCH_DIR, EVENT, REPO, SESSION, YEAR, fail, fresh_database, machine,
                    machine_line, median, parse_databases, run_child, run_script)

SCRIPT = Path(__file__).resolve()
POPULATE = REPO / "backend" / "populate_db.py"
DRIVER = "44"
SLICE_CALLS = 30
COPIES = 9          # extra sessions for the sliced read: 1 + 9 = 10 sessions stored


# --- children -------------------------------------------------------------------------------

def child(kind: str, url: str, cache: str) -> None:
    """One measured read in this process; prints {"seconds": ..., ...} as its last line."""
    import warnings

    warnings.filterwarnings("ignore")
    if kind == "fastf1":
        import fastf1

        fastf1.set_log_level("ERROR")
        fastf1.Cache.configure(cache_dir=cache)
        fastf1.Cache.offline_mode(True)
        started = time.perf_counter()
        session = fastf1.get_session(YEAR, EVENT, SESSION)
        session.load()
        seconds = time.perf_counter() - started
        rows = sum(len(frame) for frame in session.car_data.values())
    elif kind in ("read", "laps"):
        import f1db.read as read

        started = time.perf_counter()
        if kind == "read":
            session = read.load_session(url, YEAR, EVENT, SESSION)
            rows = sum(len(frame) for frame in session.car_data.values())
        else:
            session = read.load_session(url, YEAR, EVENT, SESSION, telemetry=False,
                                        weather=False, messages=False)
            rows = len(session.laps) + len(session.results)
        seconds = time.perf_counter() - started
    elif kind == "slice":
        import f1db.read as read

        with read.open_stored(url) as stored:
            lap = int(read.driver_laps(stored, YEAR, EVENT, SESSION, DRIVER)
                      .pick_fastest()["LapNumber"])
            times = []
            for _ in range(SLICE_CALLS):
                started = time.perf_counter()
                samples = read.lap_telemetry(stored, YEAR, EVENT, SESSION, DRIVER, lap)
                times.append(time.perf_counter() - started)
        seconds, rows = median(times), len(samples)
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps({"seconds": seconds, "rows": rows}))


def measured(kind: str, url: str, cache: Path, workdir: Path, tag: str) -> dict:
    run = run_child([sys.executable, str(SCRIPT), "--child", kind, "--url", url,
                     "--cache", str(cache)], output=workdir / f"{kind}-{tag}")
    if run.returncode:
        fail(f"the {kind} child failed (exit {run.returncode}): {run.last_line()}")
    result = json.loads(run.stdout.read_text().strip().splitlines()[-1])
    return {**result, "peak_rss_mb": run.peak_rss_mb}


# --- set-up ---------------------------------------------------------------------------------

def warm_cache(source: Path, workdir: Path) -> Path:
    """A copy of the race cache after one FastF1 load: its parsed data is cached."""
    target = workdir / "warm-cache"
    shutil.copytree(source, target)
    measured("fastf1", "", target, workdir, "warm-up")
    return target


def store(url: str, cache: Path, workdir: Path) -> None:
    run = run_child([sys.executable, str(POPULATE), "--year", str(YEAR), "--event", EVENT,
                     "--session", SESSION, "--offline", "--cache-dir", str(cache),
                     "--database-url", url, "--quiet", "--log-file", ""],
                    output=workdir / "populate")
    if run.returncode:
        fail(f"populate_db.py could not store the race (exit {run.returncode}): "
             f"{run.last_line()}")


def add_copies(url: str, copies: int) -> None:
    """Nine more sessions: the stored one copied under rounds 1..9 of the same season."""
    from sqlalchemy import create_engine, text

    from f1db.config import normalise_url
    from f1db.models import FACT_MODELS, SessionPart, StoredSession, stored_table

    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        for round_number in range(1, copies + 1):
            for model in (StoredSession, *FACT_MODELS, SessionPart):
                table = stored_table(model.__tablename__)     # telemetry: its chunk table
                if "session_type" not in table.c and model is not StoredSession:
                    continue
                names = [c.name for c in table.columns if c.name != "id"]
                values = [f":round AS {n}" if n == "round_number" else n for n in names]
                connection.execute(text(
                    f"INSERT INTO {table.name} ({', '.join(names)}) SELECT "
                    f"{', '.join(values)} FROM {table.name} WHERE year = :year AND "
                    f"round_number = 14 AND session_type = :session"),
                    {"round": round_number, "year": YEAR, "session": "Practice 2"})
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()


# --- report ---------------------------------------------------------------------------------

def summary(values: list[float]) -> str:
    return f"min {min(values):7.3f}  median {median(values):7.3f}"


def report(kind: str, figures: dict, slices: dict) -> dict:
    fastf1_s = median([f["seconds"] for f in figures["fastf1"]])
    fastf1_rss = median([f["peak_rss_mb"] for f in figures["fastf1"]])
    print(f"\n{kind}: the race (576,000 car samples + 576,000 positions at --seconds 7200)")
    out = {}
    for name, label in (("fastf1", "FastF1 Session.load(), warm"),
                        ("read", "f1db.read.load_session(), all"),
                        ("laps", "load_session(), laps+results")):
        seconds = [f["seconds"] for f in figures[name]]
        rss = [f["peak_rss_mb"] for f in figures[name]]
        ratio = median(seconds) / fastf1_s
        rss_ratio = median(rss) / fastf1_rss
        print(f"  {label:32s} s: {summary(seconds)}   x FastF1 {ratio:5.2f}   "
              f"peak RSS {median(rss):6.0f} MiB (x {rss_ratio:4.2f})")
        out[name] = {"seconds": seconds, "peak_rss_mb": rss, "ratio": ratio,
                     "rss_ratio": rss_ratio}
    one, ten = slices["one"], slices["ten"]
    print(f"  one lap of car data (lap_telemetry, {slices['rows']} samples): "
          f"1 session {one * 1000:6.1f} ms, 10 sessions {ten * 1000:6.1f} ms, "
          f"x {ten / one:4.2f}")
    out["slice"] = slices
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind (default 3)")
    parser.add_argument("--seconds", type=float, default=7200.0,
                        help="synthetic telemetry of the race, seconds at 4 Hz (default 7200)")
    parser.add_argument("--keep-cache", metavar="DIR", type=Path,
                        help="build the race's FastF1 cache here, or reuse it")
    parser.add_argument("--databases", default="postgresql,sqlite",
                        type=lambda value: parse_databases(parser, value),
                        help="postgresql,sqlite (default both)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also save every figure")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.url, args.cache)
        return
    if args.runs < 1:
        parser.error("--runs takes 1 or more")
    print(machine_line(machine("postgresql://postgres@127.0.0.1:5432/test"
                               if "postgresql" in args.databases else None)))
    with tempfile.TemporaryDirectory(prefix="f1db-bench-read-") as temporary:
        workdir = Path(temporary)
        cache = (args.keep_cache or workdir / "race-cache").expanduser().resolve()
        run_script(BENCH_DIR / "bench_cache.py", ["--cache", str(cache), "--seconds",
                                                  str(args.seconds)], "building the cache")
        warm = warm_cache(cache, workdir)
        results = {}
        for kind in args.databases:
            with fresh_database(kind, workdir) as url:
                store(url, warm, workdir)
                figures = {"fastf1": [], "read": [], "laps": []}
                for run in range(args.runs):
                    for name in figures:
                        figures[name].append(measured(name, url, warm, workdir,
                                                      f"{kind}-{run}"))
                one = measured("slice", url, warm, workdir, f"{kind}-one")
                add_copies(url, COPIES)
                ten = measured("slice", url, warm, workdir, f"{kind}-ten")
                results[kind] = report(kind, figures, {"one": one["seconds"],
                                                       "ten": ten["seconds"],
                                                       "rows": one["rows"]})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
