"""Benchmark: populate_db.py end to end against FastF1 alone, the writers, bytes per sample.

How to run (from the repository root; no network needed, ../shared/fastf1-recorded must
exist; PostgreSQL on 127.0.0.1:5432, user postgres, for the postgresql runs):

    python backend/benchmarks/bench_populate.py                 # everything (about 10 min)
    python backend/benchmarks/bench_populate.py --keep-cache /tmp/f1bench-race \\
        --keep-sessions-cache /tmp/f1bench-sessions              # keep the caches for reruns
    python backend/benchmarks/bench_populate.py --parts race --runs 1 \\
        --keep-cache /tmp/f1bench-race                           # the race and bytes per sample
    python backend/benchmarks/bench_populate.py --seconds 600 --session-seconds 300 \\
        --runs 1 --writer-rows 20000                             # a quick look
    python backend/benchmarks/bench_populate.py --databases sqlite --parts race
    python backend/benchmarks/bench_populate.py --parts sessions --sessions 6 --jobs 2

The tools: this script runs everything and prints the report; ``bench_cache.py`` builds the
FastF1 caches (run in a child process when a cache is missing), ``fastf1_alone.py`` is the
FastF1-alone baseline, ``bench_writers.py`` compares the writers (also alone), and
``timing.py`` holds what they share. The product is driven only through
``backend/populate_db.py``'s command line: what is measured is what a user runs, whatever
changes inside.

What it prints, in one run
--------------------------
0. The machine: CPU model, cores, RAM, PostgreSQL, Python and FastF1 versions.
1. The writers (``--parts writers``): ``bench_writers.compare_writers(--writer-rows,
   url)`` on a fresh PostgreSQL database, in a child process (ORM, temp tables +
   ``ON CONFLICT``, ``psql \\copy``, CSV COPY, binary COPY); a one-line note if
   ``bench_writers.py`` is not there.
2. One race end to end (``--parts race``): the recorded 2021 Italian GP FP2 plus
   ``--seconds`` (default 7200: 576,000 telemetry + 576,000 position rows) of synthetic
   4 Hz telemetry for its 20 drivers. ``--runs`` times (default 2), alternating: FastF1
   alone (``fastf1_alone.py``: ``get_session(...).load()`` with the populator's load
   options), then ``populate_db.py`` into a fresh PostgreSQL database, then into a fresh
   SQLite file. Each is its own child process, started from this parent (which imports
   the standard library and pg8000 only: Linux carries ``ru_maxrss`` over fork + exec),
   on its own copy of the FastF1 cache without FastF1's parsed-data pickles (every run
   pays the same cold parse of the cached responses, as the first load after a download
   does; nothing is downloaded). Reported: wall time (process start to exit, start-up
   included) and peak RSS (``ru_maxrss`` from ``os.wait4``), min and median, and the
   ratios populate / FastF1 alone. Each populate run must load the session and store
   exactly the telemetry and position rows FastF1 gave, or the benchmark stops.
3. Several sessions end to end (``--parts sessions``): the same for ``--sessions`` K
   (default 3) recorded sessions (``bench_cache.SEVERAL_SESSIONS``: 2023 Azerbaijan
   Qualifying, Sprint Shootout and Sprint, then 2021 Italian Practice 2, ...) with
   ``--session-seconds`` (default 1800) of synthetic telemetry each, loaded by one
   ``populate_db.py`` process, against one FastF1-alone process loading the same sessions
   in turn. ``populate_db.py`` selects years x events x sessions; where that names
   sessions which are not in the cache (K=4 and more do), they fail at once offline, and
   the report lists them; the default K=3 selects exactly the three. With ``--jobs N``
   (default 2) also ``populate_db.py --jobs N`` per database; its peak RSS is the largest
   of the run's processes (``ru_maxrss`` of a process covers the children it reaped), so
   it is a worker's peak.
4. Bytes per sample of telemetry and positions (stored packed in ``telemetry_chunks`` and
   ``positions_chunks``), from the race's last runs: PostgreSQL heap
   (``pg_relation_size``), indexes (``pg_indexes_size``), total
   (``pg_total_relation_size``: heap, TOAST and indexes) as loaded (no VACUUM), divided by
   the samples the chunks hold; SQLite from the ``dbstat`` virtual table (table b-tree
   with its overflow pages, its key's b-tree), or the file size when the sqlite3 build
   lacks it.

Also echoed: the ``f1db`` lines of each database's last populate log (the per-session
"Loaded ..." line with its rows). ``--json FILE`` saves every figure. Whatever it needs and
misses (the recordings, PostgreSQL, a run that did not load) stops it with a one-line
message. Timings are wall clock on a machine that may be shared: compare the ratios,
measured side by side in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench_cache import RACE, SCRIPT as CACHE_SCRIPT, SEVERAL_SESSIONS, cache_is_built, copy_cold
from timing import (BACKEND_DIR, DATABASES, HZ, ChildRun, fail, fresh_database, json_last_line,
                    machine, machine_line, median, parse_databases, peak_rss_mb, postgres_rows,
                    run_child, run_script)

SCRIPT = Path(__file__).resolve()
POPULATE = BACKEND_DIR / "populate_db.py"
FASTF1_ALONE = SCRIPT.parent / "fastf1_alone.py"
PARTS = ("writers", "race", "sessions")
TELEMETRY_TABLES = ("telemetry", "positions")
# FastF1's session names for the abbreviations used in the cache lists.
SESSION_NAMES = {"FP1": "Practice 1", "FP2": "Practice 2", "FP3": "Practice 3",
                 "Q": "Qualifying", "SQ": "Sprint Qualifying", "SS": "Sprint Shootout",
                 "S": "Sprint", "R": "Race"}
LOG_LINES = 16   # f1db log lines echoed per populate run


# --- caches ---------------------------------------------------------------------------------

def ensure_cache(directory: Path, sessions: list[tuple], seconds: float, what: str) -> float:
    """Build the cache in ``directory`` (child process) unless it holds this one already;
    the seconds it took (0 when reused)."""
    if cache_is_built(directory, sessions, seconds):
        print(f"{what}: FastF1 cache reused from {directory}.", flush=True)
        return 0.0
    arguments = ["--cache", str(directory), "--seconds", str(seconds)]
    if sessions != RACE:
        arguments += ["--sessions", str(len(sessions))]
    print(f"{what}: building the FastF1 cache in {directory} ...", flush=True)
    started = time.perf_counter()
    run_script(CACHE_SCRIPT, arguments, "the cache build")
    built = time.perf_counter() - started
    print(f"{what}: cache built in {built:.0f} s.", flush=True)
    return built


def populate_flags(sessions: list[tuple]) -> list[str]:
    """``populate_db.py`` selection flags naming ``sessions`` (years x events x sessions)."""
    flags = ["--year", ",".join(str(y) for y in sorted({y for y, _, _ in sessions}))]
    for event in dict.fromkeys(event for _, event, _ in sessions):
        flags += ["--event", event]
    for name in dict.fromkeys(name for _, _, name in sessions):
        flags += ["--session", name]
    return flags


def session_key(year: int, event: str, name: str) -> tuple:
    return (int(year), event, SESSION_NAMES.get(name, name))


# --- one scenario: FastF1 alone vs populate_db.py, alternating -------------------------------

def run_fastf1_alone(cache: Path, sessions: list[tuple], workdir: Path, tag: str):
    copy = copy_cold(cache, workdir / f"cache-{tag}")
    named = [part for session in sessions
             for part in ("--session", "/".join(map(str, session)))]
    try:
        run = run_child([sys.executable, str(FASTF1_ALONE), "--cache", str(copy), *named],
                        output=workdir / tag)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    return run, json_last_line(run, "FastF1 alone")


def run_populate(kind: str, cache: Path, sessions: list[tuple], workdir: Path, tag: str,
                 baseline: dict, measure_sizes: bool):
    """``populate_db.py`` into a fresh ``kind`` database; checks what it stored."""
    copy = copy_cold(cache, workdir / f"cache-{tag}")
    log, summary_path = workdir / f"{tag}.log", workdir / f"{tag}.summary.json"
    database, _, extra_flags = kind.partition(" ")        # "postgresql --jobs 2"
    tag = tag.replace(" ", "")
    try:
        with fresh_database(database, workdir) as url:
            run = run_child([sys.executable, str(POPULATE), *populate_flags(sessions),
                             *extra_flags.split(), "--offline", "--cache-dir", str(copy),
                             "--database-url", url, "--log-file", str(log),
                             "--summary-json", str(summary_path)],
                            output=workdir / tag)
            summary = check_populate(kind, run, summary_path, sessions, baseline)
            sizes = database_sizes(database, url) if measure_sizes else None
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    log_lines = [line.split(" ", 2)[2] for line in
                 (log.read_text(errors="replace").splitlines() if log.is_file() else [])
                 if " f1db: " in line and line.count(" ") >= 2]
    return run, summary, sizes, log_lines


def check_populate(kind: str, run: ChildRun, summary_path: Path, sessions: list[tuple],
                   baseline: dict) -> dict:
    """The run loaded exactly ``sessions`` (others it selected: not in the cache) and
    stored the telemetry and position rows FastF1 gave; its summary otherwise fail."""
    what = f"populate_db.py into {kind}"
    if not summary_path.is_file():
        fail(f"{what} wrote no summary (exit {run.returncode}): {run.last_line()}")
    summary = json.loads(summary_path.read_text())
    try:
        return checked_summary(what, run, summary, sessions, baseline)
    except (KeyError, TypeError) as error:
        fail(f"{what}: its --summary-json has changed ({type(error).__name__}: {error}); "
             f"update the benchmark")


def checked_summary(what: str, run: ChildRun, summary: dict, sessions: list[tuple],
                    baseline: dict) -> dict:
    wanted = {session_key(*s) for s in sessions}
    loaded = {(s["year"], s["event"], s["session_type"]) for s in summary["sessions"]
              if s["outcome"] == "loaded"}
    others = [s for s in summary["sessions"]
              if (s["year"], s["event"], s["session_type"]) not in wanted]
    unexpected = [s for s in others
                  if s["outcome"] != "failed" or "not in the cache" not in s.get("reason", "")]
    if loaded != wanted or unexpected:
        problems = [f"{s['session']}: {s['outcome']} {s.get('reason', '')}".strip()
                    for s in summary["sessions"]
                    if (s["year"], s["event"], s["session_type"]) in wanted - loaded
                    or s in unexpected]
        fail(f"{what} did not load what was asked (exit {run.returncode}): "
             f"{'; '.join(problems) or run.last_line()}")
    if run.returncode != (1 if others else 0):
        fail(f"{what} exited {run.returncode}: {run.last_line()}")
    rows = summary["rows_inserted"]
    gave = {"telemetry": sum(s["car_rows"] for s in baseline["sessions"]),
            "positions": sum(s["pos_rows"] for s in baseline["sessions"])}
    for table, expected in gave.items():
        if rows.get(table) != expected:
            fail(f"{what} stored {rows.get(table)} {table} rows; FastF1 gave {expected}")
    summary["not_in_cache"] = [s["session"] for s in others]
    return summary


def scenario(name: str, cache: Path, sessions: list[tuple], kinds: list[str], runs: int,
             workdir: Path, *, measure_sizes: bool = False) -> dict:
    """``runs`` rounds of FastF1 alone, then populate_db.py per database; all figures."""
    figures = {"fastf1": [], **{kind: [] for kind in kinds}}
    result = {"sessions": [list(s) for s in sessions], "runs": figures, "sizes": {},
              "log": {}, "not_in_cache": []}
    for number in range(1, runs + 1):
        run, baseline = run_fastf1_alone(cache, sessions, workdir, f"{name}-{number}-fastf1")
        figures["fastf1"].append({"wall_s": round(run.wall_s, 3),
                                  "peak_rss_mb": round(run.peak_rss_mb, 1), **baseline})
        rows = sum(s["car_rows"] + s["pos_rows"] for s in baseline["sessions"])
        print(f"  {name} run {number}/{runs}: FastF1 alone {run.wall_s:6.1f} s "
              f"{run.peak_rss_mb:7,.0f} MB ({rows:,} telemetry + position rows)", flush=True)
        for kind in kinds:
            run, summary, sizes, log_lines = run_populate(
                kind, cache, sessions, workdir, f"{name}-{number}-{kind}", baseline,
                measure_sizes)
            figures[kind].append({"wall_s": round(run.wall_s, 3),
                                  "peak_rss_mb": round(run.peak_rss_mb, 1),
                                  "rows_inserted": summary["rows_inserted"],
                                  "summary_duration_s": summary.get("duration_seconds")})
            result["not_in_cache"] = summary["not_in_cache"]
            result["log"][kind] = log_lines
            if sizes:
                result["sizes"][kind] = sizes
            print(f"  {name} run {number}/{runs}: populate_db.py {kind:<10} {run.wall_s:6.1f} s "
                  f"{run.peak_rss_mb:7,.0f} MB", flush=True)
    result["stats"] = statistics_of(figures)
    return result


def statistics_of(figures: dict) -> dict:
    """Min and median of wall and RSS per runner; ratios to FastF1 alone."""
    stats = {}
    for runner, runs in figures.items():
        walls = [run["wall_s"] for run in runs]
        rss = [run["peak_rss_mb"] for run in runs]
        stats[runner] = {"wall_min_s": min(walls), "wall_median_s": round(median(walls), 3),
                         "rss_min_mb": min(rss), "rss_median_mb": round(median(rss), 1)}
    base = stats["fastf1"]
    for runner, figure in stats.items():
        figure["wall_ratio_min"] = round(figure["wall_min_s"] / base["wall_min_s"], 3)
        figure["wall_ratio_median"] = round(figure["wall_median_s"] / base["wall_median_s"], 3)
        figure["rss_ratio_median"] = round(figure["rss_median_mb"] / base["rss_median_mb"], 3)
        figure["extra_s_median"] = round(figure["wall_median_s"] - base["wall_median_s"], 3)
    return stats


# --- bytes per sample -----------------------------------------------------------------------

def stored_table(table: str) -> str:
    """The chunk table holding the samples of row view ``table`` (revision 0010; this
    parent imports no f1db, see the module docstring)."""
    return f"{table}_chunks"


def database_sizes(kind: str, url: str) -> dict:
    """``{table: {rows, heap, index, total}}`` in bytes, for telemetry and positions."""
    sizes = {}
    if kind == "postgresql":
        for table in TELEMETRY_TABLES:
            stored = stored_table(table)
            heap, index, total, rows = postgres_rows(
                url, f"SELECT pg_relation_size('{stored}'), pg_indexes_size('{stored}'), "
                     f"pg_total_relation_size('{stored}'), "
                     f"(SELECT coalesce(sum(samples), 0) FROM {stored})")[0]
            sizes[table] = {"rows": rows, "heap": heap, "index": index, "total": total}
        sizes["method"] = ("pg_relation_size (the heap's main fork) / pg_indexes_size / "
                           "pg_total_relation_size (heap, TOAST and indexes) of the chunk "
                           "tables, per sample")
        sizes["as a race"] = race_named_sizes(url)
        return sizes
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = {table: connection.execute(
                    f"SELECT coalesce(sum(samples), 0) FROM {stored_table(table)}").fetchone()[0]
                for table in TELEMETRY_TABLES}
        try:
            pages = dict(connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
        except sqlite3.OperationalError:      # sqlite3 built without SQLITE_ENABLE_DBSTAT_VTAB
            total = sum(Path(path + suffix).stat().st_size for suffix in ("", "-wal")
                        if Path(path + suffix).exists())
            return {"file": {"rows": sum(rows.values()), "heap": None, "index": None,
                             "total": total},
                    "method": "file size (whole database) / telemetry + positions rows: "
                              "this sqlite3 has no dbstat"}
        indexes = connection.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'").fetchall()
    finally:
        connection.close()
    for table in TELEMETRY_TABLES:
        stored = stored_table(table)
        heap = pages.get(stored, 0)
        index = sum(pages.get(name, 0) for name, owner in indexes if owner == stored)
        sizes[table] = {"rows": rows[table], "heap": heap, "index": index,
                        "total": heap + index}
    sizes["method"] = ("dbstat: heap = the chunk table's b-tree (overflow pages included), "
                       "index = its primary key's b-tree, per sample")
    return sizes


def race_named_sizes(url: str) -> dict:
    """The same rows as a race would store them: bytes per sample depend a little on the
    session's name (``session_type`` is text, in every chunk row and key entry), and the
    benchmark's session is a practice ("Practice 2"). Each chunk table's rows are copied, in
    key order as the loader writes them, with session_type 'Race', into a copy of the table
    (``LIKE ... INCLUDING ALL``: same columns, key and key fillfactor), measured, then
    dropped."""
    sizes = {}
    for table in TELEMETRY_TABLES:
        stored = stored_table(table)
        copy = f"bench_race_{table}"
        columns = [name for (name,) in postgres_rows(
            url, f"SELECT column_name FROM information_schema.columns WHERE table_name = "
                 f"'{stored}' ORDER BY ordinal_position")]
        select = ", ".join("'Race'" if name == "session_type" else f'"{name}"'
                           for name in columns)
        postgres_rows(url, f"DROP TABLE IF EXISTS {copy}")
        postgres_rows(url, f"CREATE TABLE {copy} (LIKE {stored} INCLUDING ALL)")
        postgres_rows(url, f"INSERT INTO {copy} SELECT {select} FROM {stored} "
                           f"ORDER BY year, round_number, driver_number, first_sample")
        heap, index, total, rows = postgres_rows(
            url, f"SELECT pg_relation_size('{copy}'), pg_indexes_size('{copy}'), "
                 f"pg_total_relation_size('{copy}'), "
                 f"(SELECT coalesce(sum(samples), 0) FROM {copy})")[0]
        postgres_rows(url, f"DROP TABLE {copy}")
        sizes[table] = {"rows": rows, "heap": heap, "index": index, "total": total}
    sizes["method"] = "the same rows as session_type 'Race', in a LIKE ... INCLUDING ALL copy"
    return sizes


# --- the writers (child process) ------------------------------------------------------------

def writers_child(rows: int, url: str) -> None:
    """In a child: bench_writers.compare_writers, its table, then the figures as JSON."""
    try:
        import bench_writers
        compare_writers = bench_writers.compare_writers
    except (ImportError, AttributeError) as error:
        print(json.dumps({"unavailable": f"bench_writers.compare_writers is not there "
                                         f"({error})"}))
        return
    results = compare_writers(rows, url)
    if hasattr(bench_writers, "print_table"):
        bench_writers.print_table(results)
    print(json.dumps({"results": results}, default=str))


def run_writers(rows: int, workdir: Path) -> dict:
    with fresh_database("postgresql", workdir) as url:
        run = run_child([sys.executable, str(SCRIPT), "--writers-child", url,
                         "--writer-rows", str(rows)], output=workdir / "writers")
    figures = json_last_line(run, "the writer comparison")
    printed = [line for line in run.stdout.read_text().strip().splitlines()[:-1]
               if line.strip() not in ("", "Writers")]    # print_table's own title
    return {**figures, "printed": printed}


# --- report ---------------------------------------------------------------------------------

def print_writers(writers: dict) -> None:
    print("\n1. Writers: telemetry-shaped rows into a fresh telemetry table on PostgreSQL "
          "(bench_writers.compare_writers)")
    if "unavailable" in writers:
        print(f"   The writer comparison is unavailable: {writers['unavailable']}.")
        return
    if writers["printed"]:
        print("\n".join("   " + line for line in writers["printed"]))
        return
    print(f"   {'writer':<36}{'rows':>10}{'s':>9}{'rows/s':>11}")
    for row in writers["results"]:
        print(f"   {row['name']:<36}{row['rows']:>10,}{row['seconds']:>9.2f}"
              f"{row['rows_per_s']:>11,.0f}")


def print_scenario(title: str, result: dict, kinds: list[str], runs: int) -> None:
    stats = result["stats"]
    print(f"\n{title}")
    print(f"   {runs} run(s) each, alternating; wall = process start to exit; peak RSS = "
          f"ru_maxrss of that process; ratio = populate_db.py / FastF1 alone")
    print(f"   {'':<36}{'wall s':>15}{'ratio':>14}{'extra s':>9}{'peak RSS MB':>13}"
          f"{'ratio':>8}")
    print(f"   {'':<36}{'min / median':>15}{'min / median':>14}{'median':>9}{'median':>13}"
          f"{'median':>8}")
    for runner in ["fastf1", *kinds]:
        s = stats[runner]
        label = "FastF1 alone" if runner == "fastf1" else f"populate_db.py {runner}"
        print(f"   {label:<36}{s['wall_min_s']:>8.1f} / {s['wall_median_s']:<4.1f}"
              f"{s['wall_ratio_min']:>7.2f} / {s['wall_ratio_median']:<4.2f}"
              f"{s['extra_s_median']:>9.1f}{s['rss_median_mb']:>13,.0f}"
              f"{s['rss_ratio_median']:>8.2f}")
    last = result["runs"]["fastf1"][-1]
    loads = ", ".join(f"{s['session'].replace('/', ' ')} {s['seconds']:.1f} s"
                      for s in last["sessions"])
    print(f"   FastF1 alone, last run: import {last['import_s']:.1f} s; get_session + load: "
          f"{loads}")
    if result["not_in_cache"]:
        print(f"   populate_db.py's selection (years x events x sessions) also named "
              f"{len(result['not_in_cache'])} session(s) not in the cache, each failing at "
              f"once offline: {', '.join(result['not_in_cache'])}")
    for kind in kinds:
        rows = result["runs"][kind][-1]["rows_inserted"]
        print(f"   {kind} rows: " + ", ".join(f"{table} {n:,}" for table, n in rows.items() if n))
        lines = result["log"].get(kind, [])
        print(f"   {kind} log (f1db lines, last run):")
        for line in lines[:LOG_LINES]:
            print(f"     {line}")
        if len(lines) > LOG_LINES:
            print(f"     ... {len(lines) - LOG_LINES} more")


def print_sizes(sizes: dict) -> None:
    shown = {}
    for kind, tables in sizes.items():
        shown[kind] = {name: figure for name, figure in tables.items() if name != "as a race"}
        if "as a race" in tables:
            shown[f"{kind} as 'Race'"] = tables["as a race"]
    sizes = shown
    print("\n4. Bytes per sample (the race, last run, as loaded)")
    print(f"   {'database':<22}{'table':<11}{'samples':>11}{'heap B/s.':>12}{'index B/s.':>13}"
          f"{'total B/s.':>13}{'total MB':>10}")
    for kind, tables in sizes.items():
        entries = {name: figure for name, figure in tables.items() if name != "method"}
        if len(entries) > 1:
            entries["both"] = {key: sum(f[key] for f in entries.values())
                               for key in ("rows", "heap", "index", "total")}
        for name, f in entries.items():
            rows = f["rows"] or 1

            def per_row(value):
                return f"{value / rows:>{12}.1f}" if value is not None else f"{'-':>12}"

            print(f"   {kind:<22}{name:<11}{f['rows']:>11,}{per_row(f['heap'])}"
                  f"{per_row(f['index']):>13}{f['total'] / rows:>13.1f}"
                  f"{f['total'] / 2**20:>10.1f}")
        print(f"   {kind}: {tables['method']}")


# --- command line ---------------------------------------------------------------------------

def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated: {', '.join(PARTS)} (default all; bytes per "
                             f"row come with the race)")
    parser.add_argument("--databases", default="postgresql,sqlite",
                        help="comma-separated: postgresql, sqlite (default both)")
    parser.add_argument("--runs", type=int, default=2,
                        help="rounds of FastF1 alone + populate per database (default 2); "
                             "min and median reported")
    parser.add_argument("--seconds", type=float, default=7200.0,
                        help="the race's synthetic telemetry, seconds at 4 Hz (default 7200)")
    parser.add_argument("--sessions", type=int, default=3, metavar="K",
                        help=f"sessions in the several-sessions run, 1-{len(SEVERAL_SESSIONS)} "
                             f"(default 3: one event's Q, SS and Sprint)")
    parser.add_argument("--jobs", type=int, default=2, metavar="N",
                        help="the several-sessions run also with populate_db.py --jobs N per "
                             "database (default 2; 1: not)")
    parser.add_argument("--session-seconds", type=float, default=1800.0,
                        help="synthetic telemetry per session of that run (default 1800)")
    parser.add_argument("--writer-rows", type=int, default=300_000,
                        help="rows for the writer comparison (default 300,000)")
    parser.add_argument("--keep-cache", metavar="DIR", type=Path,
                        help="the race's FastF1 cache: built here and kept, reused if it fits "
                             "(only copies are run on)")
    parser.add_argument("--keep-sessions-cache", metavar="DIR", type=Path,
                        help="the same for the several-sessions cache")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--writers-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    kinds = parse_databases(parser, args.databases)
    kinds = [kind for kind in DATABASES[::-1] if kind in kinds]    # postgresql first
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    if not parts or set(parts) - set(PARTS):
        parser.error(f"--parts takes a comma-separated list of {', '.join(PARTS)}")
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    if not 1 <= args.sessions <= len(SEVERAL_SESSIONS):
        parser.error(f"--sessions takes 1 to {len(SEVERAL_SESSIONS)}")

    if args.writers_child:
        writers_child(args.writer_rows, args.writers_child)
        return

    report: dict = {"arguments": {key: str(value) if isinstance(value, Path) else value
                                  for key, value in vars(args).items()}}
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="f1bench-")))
        if "postgresql" in kinds:
            with fresh_database("postgresql", workdir) as url:
                report["machine"] = machine(url)
        else:
            report["machine"] = machine(None)
        print(machine_line(report["machine"]), flush=True)

        if "writers" in parts:
            if "postgresql" in kinds:
                print("Writers: running bench_writers.compare_writers ...", flush=True)
                report["writers"] = run_writers(args.writer_rows, workdir)
            else:
                report["writers"] = {"unavailable": "it needs PostgreSQL (--databases)"}

        session_kinds = kinds + ([f"{kind} --jobs {args.jobs}" for kind in kinds]
                                 if args.jobs > 1 else [])
        race_sessions = RACE
        several = SEVERAL_SESSIONS[:args.sessions]
        caches = {}
        for part, sessions, seconds, kept in (
                ("race", race_sessions, args.seconds, args.keep_cache),
                ("sessions", several, args.session_seconds, args.keep_sessions_cache)):
            if part not in parts:
                continue
            directory = (kept.expanduser().resolve() if kept
                         else workdir / f"cache-{part}-source")
            report.setdefault("cache_build_s", {})[part] = ensure_cache(
                directory, sessions, seconds, f"{part.capitalize()}")
            caches[part] = directory

        if "race" in parts:
            print(f"Race: {args.runs} run(s) ...", flush=True)
            report["race"] = scenario("race", caches["race"], race_sessions, kinds, args.runs,
                                      workdir, measure_sizes=True)
        if "sessions" in parts:
            print(f"Sessions: {args.runs} run(s) ...", flush=True)
            report["several_sessions"] = scenario("sessions", caches["sessions"], several,
                                                  session_kinds, args.runs, workdir)
        report["parent_peak_rss_mb"] = round(peak_rss_mb(), 1)

    print("\n" + machine_line(report["machine"]))
    print(f"Peak RSS is each child's own (os.wait4); this parent's own peak, "
          f"{report['parent_peak_rss_mb']:.0f} MB, is a floor under it (Linux keeps it "
          f"over fork + exec).")
    if "writers" in report:
        print_writers(report["writers"])
    if "race" in report:
        year, event, name = RACE[0]
        print_scenario(f"2. One race end to end: {year} {event} {name} (recorded) + "
                       f"{args.seconds:g} s of synthetic telemetry at {HZ:g} Hz, cold "
                       f"FastF1 parse, offline", report["race"], kinds, args.runs)
    if "several_sessions" in report:
        names = "; ".join(f"{y} {e} {n}" for y, e, n in several)
        print_scenario(f"3. {len(several)} sessions in one run: {names} (recorded) + "
                       f"{args.session_seconds:g} s of synthetic telemetry each",
                       report["several_sessions"], session_kinds, args.runs)
    if "race" in report:
        print_sizes(report["race"]["sizes"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nEvery figure: {args.json}")


if __name__ == "__main__":
    main()
