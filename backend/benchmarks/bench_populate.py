"""Benchmark of one race-sized session load: FastF1 -> transform -> SQLite / PostgreSQL.

How to run (from the repository root; no network needed, ../shared/fastf1-recorded must
exist; PostgreSQL on 127.0.0.1:5432, user postgres, for the postgresql runs):

    python backend/benchmarks/bench_populate.py                      # 2 h race size, both DBs
    python backend/benchmarks/bench_populate.py --seconds 600 --databases sqlite
    python backend/benchmarks/bench_populate.py --keep-cache /tmp/f1bench-cache   # reuse cache
    python backend/benchmarks/bench_populate.py --runs 3           # best of 3 (busy machine)
    python backend/benchmarks/bench_populate.py --micro              # loader micro-benchmark

The tools: this script times the whole run; ``bench_cache.py`` builds the FastF1 cache it
runs on; ``bench_loaders.py`` is the loader micro-benchmark that ``--micro`` runs;
``timing.py`` holds the timers and helpers they share.

What it measures
----------------
A FastF1 cache is built once by ``bench_cache.py``, in a child process: the recorded 2021
Italian Grand Prix FP2 plus synthetic car and position data of ``--seconds`` seconds at
4 Hz for the session's 20 drivers (7200 s, a race: 7200 x 4 x 20 = 576,000 telemetry rows
+ 576,000 position rows = 1.15 M rows). With ``--keep-cache DIR`` the cache is kept in DIR
and reused by later runs with the same ``--seconds``.

Then, per database, in a fresh child process (so that peak RSS is that run's own; this
parent process imports only the standard library, because Linux carries ``ru_maxrss`` over
fork + exec), ``--runs`` times (default 1; the fastest run is reported, the others' totals
are listed; use it when other work shares the CPUs):

* FastF1's parsed-data pickles (``*.ff1pkl``) of the session are deleted first, so every
  database pays the same cold FastF1 parse (as on the first load of a downloaded session;
  no download time is included: the HTTP responses come from the cache, offline);
* ``DatabasePopulator(2021, events=("Italian",), sessions=("FP2",), offline=True)``
  ``.populate_database()`` runs once into a fresh database (a new SQLite file, or a new
  PostgreSQL database on 127.0.0.1:5432 made and force-dropped through pg8000), with
  timers around these product functions, each wrapped where it is defined (timing.Timers;
  product code untouched):

  - ``fastf1.core.Session.load``: FastF1 load (inside ``FastF1Source.fetch_session``);
  - ``f1db.transform.combine_driver_frames``: stacking the per-driver frames;
  - ``f1db.transform.table_frame``: transform, per table;
  - ``DatabasePopulator._store``: the write transaction, commit included; inside it
    ``f1db.load.replace_session_rows`` per table, ``f1db.ledger.write_ledger``, and, within
    the writes, ``f1db.load.csv_chunks`` (building COPY's CSV, PostgreSQL) or
    ``f1db.load.sqlite_rows`` (building SQLite's parameter tuples);

  every timer the report uses must have run (per database kind: only one of
  ``csv_chunks`` / ``sqlite_rows`` runs), and the per-table ones for the telemetry
  tables; otherwise the benchmark stops with a one-line message naming the timer, rather
  than report 0.0 s for a phase after a rename in the library;
* then a rerun, which must skip the session (0 FastF1 loads), and one more
  ``FastF1Source.fetch_session`` of the same session, now served by FastF1's pickles
  ("warm fetch").

Printed per database: rows written, FastF1 load s (cold), transform s (``table_frame``),
write s (``_store``), telemetry write rows/s ((telemetry + positions rows) / their
``replace_session_rows`` time), total s, peak RSS MB (``ru_maxrss``), rerun s; and a
breakdown of where the time goes, with the CPU time of the run and the load average
(timings are wall clock: other work on the machine inflates them). ``--json FILE`` also
saves every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

from timing import (DATABASES, EVENT, HZ, SESSION, YEAR, Timers, cpu_seconds, fail,
                    fresh_database, parse_databases, peak_rss_mb, quiet, run_script)
from bench_cache import SCRIPT as CACHE_SCRIPT, cache_is_built, clear_parsed_cache

SCRIPT = Path(__file__).resolve()

# Timers every run must see, and the one only its database kind uses.
COMMON_TIMERS = ("fastf1_load", "fetch", "stack", "transform", "store", "write", "ledger")
CLIENT_TIMER = {"postgresql": "csv_build", "sqlite": "tuple_build"}
CLIENT_NAME = {"postgresql": "CSV build (csv_chunks)", "sqlite": "tuple build (sqlite_rows)"}


def wrap_phases(timers: Timers) -> None:
    """Put a timer on each product function the report breaks the run into."""
    import fastf1.core
    import f1db.ledger
    import f1db.load
    import f1db.populator   # imported first: it holds references the timers must replace
    import f1db.transform
    from f1db.fetch import FastF1Source
    from f1db.populator import DatabasePopulator

    timers.wrap(fastf1.core.Session, "load", "fastf1_load")
    timers.wrap(FastF1Source, "fetch_session", "fetch")
    timers.wrap(f1db.transform, "combine_driver_frames", "stack")
    timers.wrap(f1db.transform, "table_frame", "transform", per_table=True)
    timers.wrap(DatabasePopulator, "_store", "store")
    timers.wrap(f1db.load, "replace_session_rows", "write", per_table=True)
    timers.wrap(f1db.ledger, "write_ledger", "ledger")
    timers.wrap(f1db.load, "csv_chunks", "csv_build", iterate=True)
    timers.wrap(f1db.load, "sqlite_rows", "tuple_build")


# --- one database (child process) -----------------------------------------------------------

def run_one(kind: str, cache_dir: Path) -> dict:
    """Populate a fresh database of ``kind`` once, rerun, fetch warm; return the figures."""
    quiet()
    from f1db.models import TELEMETRY_TABLES
    from f1db.populator import DatabasePopulator

    cleared = clear_parsed_cache(cache_dir)
    options = dict(database_url=None, events=("Italian",), sessions=("FP2",), offline=True,
                   cache_dir=cache_dir)
    rss_before = peak_rss_mb()
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="f1bench-db-") as workdir, \
            fresh_database(kind, Path(workdir)) as url:
        options["database_url"] = url
        with Timers() as timers:
            wrap_phases(timers)
            started, cpu_started = time.perf_counter(), cpu_seconds()
            populator = DatabasePopulator(YEAR, **options)
            try:
                summary = populator.populate_database()
            finally:
                populator.close()
            total = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_started
            rss_peak = peak_rss_mb()
        if summary.sessions_loaded != 1 or summary.failures:
            fail(f"{kind}: the session did not load: "
                 f"{[entry.reason for entry in summary.failures] or summary.sessions}")
        timers.require(COMMON_TIMERS + (CLIENT_TIMER[kind],), tables=TELEMETRY_TABLES,
                       context=kind)

        started = time.perf_counter()
        populator = DatabasePopulator(YEAR, **options)
        try:
            rerun = populator.populate_database()
            ref = populator.select()[0][1][0]
        finally:
            populator.close()
        rerun_seconds = time.perf_counter() - started
        if rerun.sessions_skipped != 1 or rerun.fastf1_loads:
            fail(f"{kind}: the rerun did not skip the stored session ({rerun.sessions_skipped} "
                 f"skipped, {rerun.fastf1_loads} FastF1 loads)")

    # The same session again, now from FastF1's parsed-data pickles the first load wrote.
    started = time.perf_counter()
    populator.source.fetch_session(ref, set(populator.tables))
    warm_fetch = time.perf_counter() - started

    rows = {table: n for table, n in summary.rows_inserted.items() if n}
    return {
        "database": kind, "pickles_cleared": cleared, "rows": rows,
        "rows_total": sum(rows.values()), "telemetry_tables": list(TELEMETRY_TABLES),
        "total_s": round(total, 3), "summary_duration_s": round(summary.duration_seconds, 3),
        "fastf1_loads": summary.fastf1_loads, "timers": timers.seconds(),
        "timer_calls": timers.calls(), "cpu_s": round(cpu, 3),
        "load_average_1min": load_average, "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": round(rss_peak, 1), "rerun_s": round(rerun_seconds, 3),
        "rerun_fastf1_loads": rerun.fastf1_loads, "rerun_skipped": rerun.sessions_skipped,
        "warm_fastf1_fetch_s": round(warm_fetch, 3),
    }


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
        tele_rows = sum(r["rows"].get(name, 0) for name in r["telemetry_tables"])
        tele_write = sum(t[f"write:{name}"] for name in r["telemetry_tables"])
        print(f"{r['database']:<11}{r['rows_total']:>11,}{t['fastf1_load']:>10.1f}"
              f"{t['transform']:>10.2f}{t['store']:>9.2f}"
              f"{tele_rows / tele_write if tele_write else 0:>12,.0f}{r['total_s']:>9.1f}"
              f"{r['rss_peak_mb']:>13,.0f}{r['rerun_s']:>9.2f}")

    print("\nWhere the time goes (seconds):")
    for r in results:
        t = r["timers"]
        client = t[CLIENT_TIMER[r["database"]]]
        other = r["total_s"] - sum(t[name] for name in
                                   ("fastf1_load", "stack", "transform", "store"))

        def per_table(label):
            return ", ".join(f"{name} {t[f'{label}:{name}']:.2f}"
                             for name in r["telemetry_tables"])

        print(f"  {r['database']}: total {r['total_s']:.1f} wall, {r['cpu_s']:.1f} CPU in this "
              f"process (1-min load average at start {r['load_average_1min']:.2f} on "
              f"{os.cpu_count()} CPUs)")
        print(f"    FastF1 Session.load          {t['fastf1_load']:7.2f}   (fetch_session in all "
              f"{t['fetch']:.2f})")
        print(f"    stack per-driver frames      {t['stack']:7.2f}   (combine_driver_frames)")
        print(f"    transform (table_frame)      {t['transform']:7.2f}   {per_table('transform')}")
        print(f"    write transaction (_store)   {t['store']:7.2f}   {per_table('write')}, "
              f"ledger {t['ledger']:.3f}, of which {CLIENT_NAME[r['database']]} {client:.2f}")
        print(f"    other (schedule, schema, ...){other:7.2f}   (total minus the above)")
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
                        help="only the loader micro-benchmark (bench_loaders.py)")
    parser.add_argument("--micro-rows", type=int, default=1_000_000,
                        help="micro-benchmark rows (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=2, help="micro-benchmark repeats")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--run-one", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    kinds = parse_databases(parser, args.databases)
    if args.runs < 1:
        parser.error("--runs must be 1 or more")

    if args.run_one:  # child: one database, figures as JSON on the last line of stdout
        print(json.dumps(run_one(args.run_one, args.cache)))
        return
    if args.micro:
        from bench_loaders import run_micro
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
            print(f"Building the FastF1 cache in {cache_dir} ({args.seconds:g} s of telemetry "
                  f"at {HZ:g} Hz; FastF1 parses it once) ...", flush=True)
            started = time.perf_counter()
            run_script(CACHE_SCRIPT, ["--cache", str(cache_dir), "--seconds", str(args.seconds)],
                       "the cache build")
            build_seconds = time.perf_counter() - started
            print(f"Cache built in {build_seconds:.0f} s.", flush=True)
        results = []
        for kind in kinds:
            runs = []
            for number in range(1, args.runs + 1):
                print(f"Populating {kind} (run {number} of {args.runs}) ...", flush=True)
                output = run_script(SCRIPT, ["--run-one", kind, "--cache", str(cache_dir)],
                                    f"the {kind} run")
                runs.append(json.loads(output.strip().splitlines()[-1]))
            best = min(runs, key=lambda run: run["total_s"])
            best["all_totals_s"] = [run["total_s"] for run in runs]
            results.append(best)
        print_report(results, args.seconds, build_seconds)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
