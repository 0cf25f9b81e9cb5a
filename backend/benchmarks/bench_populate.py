"""Benchmark of one race-sized session load: FastF1 -> transform -> SQLite / PostgreSQL.

How to run (from the repository root; no network needed, ../shared/fastf1-recorded must exist):

    python backend/benchmarks/bench_populate.py                      # 2 h race size, both DBs
    python backend/benchmarks/bench_populate.py --seconds 600 --databases sqlite
    python backend/benchmarks/bench_populate.py --keep-cache /tmp/f1bench-cache   # reuse cache
    python backend/benchmarks/bench_populate.py --runs 3           # best of 3 (busy machine)
    python backend/benchmarks/bench_populate.py --micro              # loader micro-benchmark

What it measures
----------------
Full run (default). A FastF1 cache is built once: the recorded 2021 Italian Grand Prix FP2
(replayed from ../shared/fastf1-recorded) plus synthetic ``CarData.z`` / ``Position.z``
pages of ``--seconds`` seconds at 4 Hz for the session's 20 drivers (7200 s, a race:
7200 x 4 x 20 = 576,000 telemetry rows + 576,000 position rows = 1.15 M rows). FastF1
parses it once while building (about 20 s for 7200 s). With ``--keep-cache DIR`` the
cache is kept in DIR and reused by later runs with the same ``--seconds``.

Then, per database, in a fresh child process (so that peak RSS is that run's own; the
parent imports only the standard library, because Linux carries ``ru_maxrss`` over
fork + exec), ``--runs`` times (default 1; the fastest run is reported, the others' totals
are listed; use it when other work shares the CPUs):

* FastF1's parsed-data pickles (``*.ff1pkl``) of the session are deleted first, so every
  database pays the same cold FastF1 parse (as on the first load of a downloaded session;
  no download time is included: the HTTP responses come from the cache, offline);
* ``DatabasePopulator(2021, events=("Italian",), sessions=("FP2",), offline=True)``
  ``.populate_database()`` runs into a fresh database (a new SQLite file, or a new
  PostgreSQL database on 127.0.0.1:5432 made and force-dropped through pg8000);
* timers wrapped around product functions (monkeypatched here, product code untouched):
  ``fastf1.core.Session.load`` (FastF1 load), ``f1db.fetch.collect_frames`` (stacking the
  per-driver frames), ``f1db.populator.table_frame`` (transform),
  ``DatabasePopulator._store`` (the write transaction, commit included),
  ``f1db.populator.replace_session_rows`` (per table), and inside the writes
  ``f1db.load.csv_chunks`` (building COPY's CSV) / ``f1db.load.sqlite_rows`` (building
  SQLite's parameter tuples);
* then a rerun, which must skip the session (0 FastF1 loads), and one more
  ``Session.load`` of the same session, now served by FastF1's pickles ("warm load").

Printed per database: rows written, FastF1 load s (cold), transform s, write s, telemetry
write rows/s ((telemetry + positions rows) / their replace_session_rows time), total s,
peak RSS MB (``ru_maxrss``), rerun s; and a breakdown of where the time goes, with the
CPU time of the run and the load average (timings are wall clock: other work on the
machine inflates them). ``--json FILE`` also saves every figure.

Micro-benchmark (``--micro``): only ``f1db.load.replace_session_rows`` on a pre-built
telemetry frame (``--micro-rows``, default 1,000,000; built by ``combine_driver_frames`` +
``table_frame`` from FastF1-shaped synthetic per-driver frames), into PostgreSQL (COPY)
and SQLite, ``--repeats`` times (default 2). Also timed: the client-side part alone
(``csv_chunks`` / ``sqlite_rows``), and the database side alone (the loader fed the
client-side output recorded in an untimed, rolled-back pass). Compare with DESIGN.md
section 4 (~157,000 rows/s for pg8000 COPY with pandas to_csv included).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
TESTS_DIR = BACKEND_DIR / "tests"
for _path in (TESTS_DIR, BACKEND_DIR):  # backend/ ends up first: `import f1db`
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

YEAR, EVENT, SESSION = 2021, "Italian Grand Prix", "FP2"
HZ = 4.0
DATABASES = ("sqlite", "postgresql")
CACHE_MARKER = "bench_populate.json"   # what a cache built by this script holds
RECORDED_DIR = BACKEND_DIR.parents[1] / "shared" / "fastf1-recorded"  # as tests/fastf1_replay


# --- helpers --------------------------------------------------------------------------------

def fail(message: str) -> None:
    print(f"bench_populate: {message}", file=sys.stderr)
    raise SystemExit(2)


def peak_rss_mb() -> float:
    """Peak RSS of this process so far (``ru_maxrss``, KiB on Linux).

    Linux carries ``ru_maxrss`` over ``fork`` + ``exec``, so a child starts at its parent's
    RSS: the parent process of this script stays small (standard library only) for that.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def quiet() -> None:
    """FastF1 logs every step at INFO and pandas warns on every FastF1 DataFrame."""
    warnings.simplefilter("ignore")
    logging.getLogger("f1db").setLevel(logging.WARNING)
    import fastf1
    fastf1.set_log_level("WARNING")


class Timers:
    """Named wall-clock totals in seconds."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner, name: str, label=None, *, per_table: str | None = None):
        """Replace ``owner.name`` by a timed version; returns an undo function.

        ``per_table``: also add the time under ``f"{per_table}:{table name}"`` where the
        table is the call's first argument (a Table, or the table's name).
        """
        original = getattr(owner, name)
        label = label or name

        @functools.wraps(original)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.seconds[label] += elapsed
                if per_table:
                    table = _table_argument(args)
                    if table:
                        self.seconds[f"{per_table}:{table}"] += elapsed

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)

    def wrap_generator(self, owner, name: str, label=None):
        """Time only the generator's own work (``next``), not what its consumer does."""
        original = getattr(owner, name)
        label = label or name

        @functools.wraps(original)
        def timed(*args, **kwargs):
            generator = original(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    item = next(generator)
                except StopIteration:
                    self.seconds[label] += time.perf_counter() - started
                    return
                self.seconds[label] += time.perf_counter() - started
                yield item

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)


def _table_argument(args) -> str | None:
    from sqlalchemy import Table
    for arg in args[:2]:
        if isinstance(arg, Table):
            return arg.name
    return None


@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path):
    """Yield a URL of a new, empty database; PostgreSQL ones are force-dropped afterwards."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    from scratch_postgres import PostgresUnavailable, scratch_postgres_database

    try:
        with scratch_postgres_database("f1db_bench") as url:
            yield url
    except PostgresUnavailable as error:
        fail(f"{error}; use --databases sqlite")


# --- the FastF1 cache -----------------------------------------------------------------------

def cache_spec(seconds: float) -> dict:
    return {"year": YEAR, "event": EVENT, "session": SESSION, "seconds": seconds, "hz": HZ}


def cache_is_built(directory: Path, seconds: float) -> bool:
    marker = directory / CACHE_MARKER
    return marker.is_file() and json.loads(marker.read_text()) == cache_spec(seconds)


def build_cache(directory: Path, seconds: float) -> None:
    """Fill ``directory`` with the recorded session + synthetic telemetry (child process)."""
    quiet()
    import fastf1
    from fastf1_replay import load_recordings, recordings_available, replaying
    from synthetic_telemetry import add_session_telemetry, restoring_fastf1_cache, unthrottled

    if (directory / CACHE_MARKER).is_file():
        shutil.rmtree(directory)          # ours, but built for another size: rebuild
    elif directory.is_dir() and any(directory.iterdir()):
        fail(f"--keep-cache {directory} is not empty and was not made by this script")
    if not recordings_available():
        fail("../shared/fastf1-recorded is absent: the recorded FastF1 session cannot be "
             "replayed")
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
    """Delete the session's FastF1 pickles so the next load parses the raw responses."""
    pickles = list(directory.glob(f"{YEAR}/*Italian*/*Practice_2/*.ff1pkl"))
    for path in pickles:
        path.unlink()
    return len(pickles)


# --- one database (child process) -----------------------------------------------------------

def run_one(kind: str, cache_dir: Path) -> dict:
    """Populate a fresh database of ``kind`` once, rerun, and return the figures."""
    quiet()
    import fastf1.core
    import f1db.fetch
    import f1db.load
    import f1db.populator
    from f1db.fetch import FastF1Source
    from f1db.populator import DatabasePopulator

    cleared = clear_parsed_cache(cache_dir)
    timers = Timers()
    undo = [
        timers.wrap(fastf1.core.Session, "load", "fastf1_load"),
        timers.wrap(FastF1Source, "fetch_session", "fetch"),
        timers.wrap(f1db.fetch, "collect_frames", "collect"),
        timers.wrap(f1db.populator, "table_frame", "transform", per_table="transform"),
        timers.wrap(DatabasePopulator, "_store", "store"),
        timers.wrap(f1db.populator, "replace_session_rows", "write", per_table="write"),
        timers.wrap_generator(f1db.load, "csv_chunks", "csv_chunks"),
        timers.wrap(f1db.load, "sqlite_rows", "sqlite_rows"),
    ]
    options = dict(database_url=None, events=("Italian",), sessions=("FP2",), offline=True,
                   cache_dir=cache_dir)
    rss_before = peak_rss_mb()
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="f1bench-db-") as workdir, \
            fresh_database(kind, Path(workdir)) as url:
        options["database_url"] = url
        started, cpu_started = time.perf_counter(), cpu_seconds()
        populator = DatabasePopulator(YEAR, **options)
        try:
            summary = populator.populate_database()
        finally:
            populator.close()
        total = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_started
        rss_peak = peak_rss_mb()
        first = {name: round(value, 3) for name, value in timers.seconds.items()}
        for restore in undo:
            restore()
        if summary.sessions_loaded != 1 or summary.failures:
            fail(f"{kind}: the session did not load: {summary.failures or summary.sessions}")

        started = time.perf_counter()
        populator = DatabasePopulator(YEAR, **options)
        try:
            rerun = populator.populate_database()
            ref = populator.select()[0][1][0]
        finally:
            populator.close()
        rerun_seconds = time.perf_counter() - started

    # The same session again, now from FastF1's parsed-data pickles the first load wrote.
    started = time.perf_counter()
    populator.source.fetch_session(ref, set(populator.tables))
    warm_load = time.perf_counter() - started

    rows = {table: n for table, n in summary.rows_inserted.items() if n}
    return {
        "database": kind, "pickles_cleared": cleared, "rows": rows,
        "rows_total": sum(rows.values()), "total_s": round(total, 3),
        "summary_duration_s": round(summary.duration_seconds, 3),
        "fastf1_loads": summary.fastf1_loads, "timers": first,
        "cpu_s": round(cpu, 3), "load_average_1min": load_average,
        "rss_before_mb": round(rss_before, 1), "rss_peak_mb": round(rss_peak, 1),
        "rerun_s": round(rerun_seconds, 3), "rerun_fastf1_loads": rerun.fastf1_loads,
        "rerun_skipped": rerun.sessions_skipped, "warm_fastf1_fetch_s": round(warm_load, 3),
    }


# --- micro-benchmark ------------------------------------------------------------------------

def telemetry_frame(rows: int, drivers: int = 20):
    """A ``telemetry`` table frame of ``rows`` rows, through the product's transform."""
    import numpy as np
    import pandas as pd
    from f1db.models import Base
    from f1db.transform import SessionKey, combine_driver_frames, table_frame

    rng = np.random.default_rng(0)
    per_driver = rows // drivers
    start = np.datetime64("2021-09-12T13:03:00.000", "ns")
    frames = {}
    for number in range(drivers):
        ms = np.cumsum(rng.integers(200, 300, per_driver)).astype("timedelta64[ms]")
        time_ = ms.astype("timedelta64[ns]")
        frames[str(number + 1)] = pd.DataFrame({
            "Date": start + time_, "RPM": rng.integers(4000, 12900, per_driver).astype(float),
            "Speed": rng.integers(60, 340, per_driver).astype(float),
            "nGear": rng.integers(1, 9, per_driver), "Throttle": rng.integers(0, 101, per_driver)
            .astype(float), "Brake": rng.random(per_driver) < 0.2,
            "DRS": rng.choice([1, 8, 12], per_driver), "Source": "car",
            "Time": time_, "SessionTime": time_ + np.timedelta64(3_600_000, "ms")})
    key = SessionKey(YEAR, 14, "Race")
    return table_frame(Base.metadata.tables["telemetry"], combine_driver_frames(frames), key), key


def run_micro(kinds: list[str], rows: int, repeats: int) -> None:
    """Time ``replace_session_rows`` alone: as the product runs it, and with the client-side
    part (CSV text / parameter tuples) built beforehand, which leaves the database's share.
    """
    quiet()
    from sqlalchemy import text
    import f1db.load
    from f1db.config import resolve_database
    from f1db.db import open_database
    from f1db.load import csv_chunks, replace_session_rows, sqlite_rows
    from f1db.models import Base
    from f1db.schema import require_current_schema

    started = time.perf_counter()
    frame, key = telemetry_frame(rows)
    print(f"Built a {len(frame):,}-row telemetry frame in {time.perf_counter() - started:.1f} s "
          f"(combine_driver_frames + table_frame); 1-min load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
    table = Base.metadata.tables["telemetry"]
    results = []
    with tempfile.TemporaryDirectory(prefix="f1bench-micro-") as workdir:
        for kind in kinds:
            # The client side alone: the CSV for COPY / the tuples for executemany.
            builder, name = ((csv_chunks, "csv_chunks") if kind == "postgresql"
                             else (sqlite_rows, "sqlite_rows"))
            started = time.perf_counter()
            for _ in builder(frame):
                pass
            client = time.perf_counter() - started
            results.append((kind, f"{name} alone", len(frame), client, client))
            with fresh_database(kind, Path(workdir)) as url:
                database = open_database(resolve_database(url))
                try:
                    require_current_schema(database)
                    # Untimed pass (rolled back) that records what the builder makes for
                    # each slice the loader asks for; "database side only" replays it.
                    memo = {}
                    ready_made = _memoised(builder, memo)
                    setattr(f1db.load, name, ready_made)
                    try:
                        with database.engine.connect() as connection:
                            with connection.begin() as transaction:
                                replace_session_rows(connection, table, key, frame)
                                transaction.rollback()
                    finally:
                        setattr(f1db.load, name, builder)
                    for attempt in range(1, repeats + 1):
                        for prebuilt in (False, True):
                            with database.engine.begin() as connection:
                                connection.execute(text("DELETE FROM telemetry" if kind == "sqlite"
                                                        else "TRUNCATE telemetry"))
                            setattr(f1db.load, name, ready_made if prebuilt else builder)
                            try:
                                started = time.perf_counter()
                                with database.engine.begin() as connection:
                                    _, inserted = replace_session_rows(connection, table, key,
                                                                       frame)
                                    written = time.perf_counter() - started
                                committed = time.perf_counter() - started
                            finally:
                                setattr(f1db.load, name, builder)
                            what = (f"database side only ({name} pre-built)" if prebuilt
                                    else "replace_session_rows")
                            results.append((kind, f"{what} #{attempt}", inserted, written,
                                            committed))
                finally:
                    database.close()
    if "postgresql" in kinds:
        size = sum(len(chunk) for chunk in csv_chunks(frame.iloc[:100_000])) * len(frame) / 100_000
        print(f"CSV for COPY: about {size / 2**20:.0f} MiB")

    print(f"{'database':<11}{'what':<48}{'rows':>11}{'s':>8}{'+commit s':>10}{'rows/s':>10}")
    for kind, what, inserted, written, committed in results:
        print(f"{kind:<11}{what:<48}{inserted:>11,}{written:>8.2f}{committed:>10.2f}"
              f"{inserted / committed:>10,.0f}")
    print("\nreplace_session_rows: DELETE of the session's rows (none here), then COPY with "
          "csv_chunks / executemany with sqlite_rows; +commit s includes COMMIT."
          "\nDESIGN.md section 4 reference: ~157,000 rows/s for pg8000 COPY with pandas "
          "to_csv included.")


def _memoised(builder, memo: dict):
    """``builder`` (csv_chunks or sqlite_rows) answering from ``memo`` once it has seen a slice.

    Keyed by the slice's first index label and length, so it works however the loader
    slices the frame.
    """
    @functools.wraps(builder)
    def build(frame, *args, **kwargs):
        slice_key = (frame.index[0] if len(frame) else None, len(frame))
        if slice_key not in memo:
            memo[slice_key] = list(builder(frame, *args, **kwargs))
        made = memo[slice_key]
        return iter(made) if builder.__name__ == "csv_chunks" else made
    return build


# --- report ---------------------------------------------------------------------------------

def print_report(results: list[dict], seconds: float, build_seconds: float) -> None:
    print(f"\nSession: {YEAR} {EVENT} {SESSION} + {seconds:g} s of synthetic telemetry at "
          f"{HZ:g} Hz for 20 drivers (cache build: "
          f"{'reused' if not build_seconds else f'{build_seconds:.0f} s'}).")
    print("FastF1 load = Session.load with the session's .ff1pkl pickles deleted first (cold "
          "parse of the cached raw responses; no download).")
    if len(results[0].get("all_totals_s", [])) > 1:
        print("Fastest of " + ", ".join(
            f"{r['database']} " + "/".join(f"{t:.1f}" for t in r["all_totals_s"]) + " s"
            for r in results) + ".")
    print()
    header = (f"{'database':<11}{'rows':>11}{'FastF1 s':>10}{'transf. s':>10}{'write s':>9}"
              f"{'tele rows/s':>12}{'total s':>9}{'peak RSS MB':>13}{'rerun s':>9}")
    print(header)
    print("-" * len(header))
    for r in results:
        t = r["timers"]
        tele_rows = sum(r["rows"].get(name, 0) for name in ("telemetry", "positions"))
        tele_write = sum(t.get(f"write:{name}", 0) for name in ("telemetry", "positions"))
        print(f"{r['database']:<11}{r['rows_total']:>11,}{t.get('fastf1_load', 0):>10.1f}"
              f"{t.get('transform', 0):>10.1f}{t.get('store', 0):>9.1f}"
              f"{tele_rows / tele_write if tele_write else 0:>12,.0f}{r['total_s']:>9.1f}"
              f"{r['rss_peak_mb']:>13,.0f}{r['rerun_s']:>9.2f}")

    print("\nWhere the time goes (seconds):")
    for r in results:
        t = r["timers"]
        client = t.get("csv_chunks", 0) + t.get("sqlite_rows", 0)
        client_name = "CSV build (csv_chunks)" if r["database"] == "postgresql" else \
            "tuple build (sqlite_rows)"
        other = r["total_s"] - sum(t.get(name, 0) for name in
                                   ("fastf1_load", "collect", "transform", "store"))
        print(f"  {r['database']}: total {r['total_s']:.1f} wall, {r['cpu_s']:.1f} CPU in this "
              f"process (1-min load average at start {r['load_average_1min']:.2f} on "
              f"{os.cpu_count()} CPUs)")
        print(f"    FastF1 Session.load          {t.get('fastf1_load', 0):7.1f}")
        print(f"    stack per-driver frames      {t.get('collect', 0):7.1f}   (collect_frames)")
        print(f"    transform (table_frame)      {t.get('transform', 0):7.1f}   telemetry "
              f"{t.get('transform:telemetry', 0):.1f}, positions "
              f"{t.get('transform:positions', 0):.1f}")
        print(f"    write transaction (_store)   {t.get('store', 0):7.1f}   telemetry "
              f"{t.get('write:telemetry', 0):.1f}, positions {t.get('write:positions', 0):.1f}, "
              f"of which {client_name} {client:.1f}")
        print(f"    other (schedule, schema, ...) {other:6.1f}   (total minus the above)")
        print("    rows: " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()))
        print(f"    peak RSS {r['rss_peak_mb']:,.0f} MB (after imports: "
              f"{r['rss_before_mb']:,.0f} MB); rerun: {r['rerun_skipped']} skipped, "
              f"{r['rerun_fastf1_loads']} FastF1 loads, {r['rerun_s']:.2f} s; "
              f"warm FastF1 fetch from pickles: {r['warm_fastf1_fetch_s']:.1f} s")


# --- command line ---------------------------------------------------------------------------

def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=7200.0,
                        help="synthetic telemetry length in seconds at 4 Hz (default 7200)")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--keep-cache", metavar="DIR", type=Path,
                        help="build the FastF1 cache here and keep it (reused if it fits)")
    parser.add_argument("--runs", type=int, default=1,
                        help="populate each database this many times (fresh database and "
                             "cold FastF1 parse each time); report the fastest run")
    parser.add_argument("--micro", action="store_true",
                        help="only the replace_session_rows micro-benchmark")
    parser.add_argument("--micro-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2, help="micro-benchmark repeats")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--build-cache", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-one", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not kinds or set(kinds) - set(DATABASES):
        parser.error(f"--databases takes a comma-separated list of {', '.join(DATABASES)}")

    if args.build_cache:  # child
        build_cache(args.cache, args.seconds)
        return
    if args.run_one:  # child: one database, figures as JSON on the last line of stdout
        print(json.dumps(run_one(args.run_one, args.cache)))
        return
    if args.micro:
        run_micro(kinds, args.micro_rows, args.repeats)
        return

    # This parent process imports nothing heavy: children inherit its RSS as their start.
    with contextlib.ExitStack() as stack:
        if args.keep_cache:
            cache_dir = args.keep_cache.expanduser().resolve()
        else:
            cache_dir = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="f1bench-cache-")))
        build_seconds = 0.0
        if not cache_is_built(cache_dir, args.seconds):
            if (cache_dir.is_dir() and any(cache_dir.iterdir())
                    and not (cache_dir / CACHE_MARKER).is_file()):
                fail(f"--keep-cache {cache_dir} is not empty and was not made by this script")
            if not (RECORDED_DIR / "INDEX.tsv").is_file():
                fail(f"{RECORDED_DIR} is absent: the recorded FastF1 session cannot be "
                     f"replayed, so there is nothing to benchmark")
            print(f"Building the FastF1 cache in {cache_dir} ({args.seconds:g} s of telemetry "
                  f"at {HZ:g} Hz; FastF1 parses it once) ...", flush=True)
            started = time.perf_counter()
            child(["--build-cache", "--cache", str(cache_dir), "--seconds", str(args.seconds)],
                  "the cache build")
            build_seconds = time.perf_counter() - started
            print(f"Cache built in {build_seconds:.0f} s.", flush=True)
        results = []
        for kind in kinds:
            runs = []
            for number in range(1, args.runs + 1):
                print(f"Populating {kind} (run {number} of {args.runs}) ...", flush=True)
                output = child(["--run-one", kind, "--cache", str(cache_dir)], f"the {kind} run")
                runs.append(json.loads(output.strip().splitlines()[-1]))
            best = min(runs, key=lambda run: run["total_s"])
            best["all_totals_s"] = [run["total_s"] for run in runs]
            results.append(best)
        print_report(results, args.seconds, build_seconds)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


def child(arguments: list[str], what: str) -> str:
    """Run this script in a child process; return its stdout (stderr passes through)."""
    done = subprocess.run([sys.executable, __file__, *arguments], stdout=subprocess.PIPE,
                          text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode:
        fail(f"{what} failed (exit {done.returncode})")
    return done.stdout

if __name__ == "__main__":
    main()
