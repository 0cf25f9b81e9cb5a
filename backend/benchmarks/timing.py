"""What the benchmark tools share: child processes measured from outside, and small helpers.

Not run on its own. ``bench_populate.py`` (the end-to-end benchmark) and ``bench_cache.py``
(the FastF1 caches it runs on) import it.

The end-to-end figures come from outside the product: :func:`run_child` starts a command
(``populate_db.py``, or FastF1 alone), waits for it with ``os.wait4`` and returns its wall
time and its own peak RSS (``ru_maxrss`` of that child). The product is driven only through
its command line, so a change inside it (a new writer, a write-behind thread, lazier
imports) can never make the benchmark measure something else, or stop measuring.

Only the standard library is imported at module level: ``bench_populate.py``'s parent
process imports this module and must stay small, because Linux carries ``ru_maxrss`` over
``fork`` + ``exec`` (a child's peak is never reported below its parent's RSS at the fork).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BACKEND_DIR = BENCH_DIR.parent
REPO = BACKEND_DIR.parent
TESTS_DIR = BACKEND_DIR / "tests"
# The benchmarks measure this checkout: its f1db (whichever checkout pip installed in
# place) and the tests' support package (recorded sessions, synthetic telemetry).
for _path in (TESTS_DIR, BACKEND_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# The race-sized session, and the databases the benchmarks write to.
YEAR, EVENT, SESSION = 2021, "Italian Grand Prix", "FP2"
HZ = 4.0
DATABASES = ("sqlite", "postgresql")

FAIL_EXIT = 2   # fail()'s exit code: the one-line message has been printed already


def fail(message: str) -> None:
    """Stop with a one-line message on stderr and exit code 2."""
    print(f"{Path(sys.argv[0]).stem}: {message}", file=sys.stderr)
    raise SystemExit(FAIL_EXIT)


def parse_databases(parser, value: str) -> list[str]:
    """``--databases``: a comma-separated list of DATABASES (argparse error otherwise)."""
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    if not kinds or set(kinds) - set(DATABASES):
        parser.error(f"--databases takes a comma-separated list of {', '.join(DATABASES)}")
    return kinds


def peak_rss_mb() -> float:
    """Peak RSS of this process so far (``ru_maxrss``, KiB on Linux), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quiet() -> None:
    """FastF1 logs every step at INFO and pandas warns on every FastF1 DataFrame."""
    warnings.simplefilter("ignore")
    logging.getLogger("f1db").setLevel(logging.WARNING)
    import fastf1
    fastf1.set_log_level("WARNING")


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- databases ------------------------------------------------------------------------------

@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path):
    """Yield the URL of a new, empty database: a SQLite file in ``workdir``, or a PostgreSQL
    database on 127.0.0.1:5432 (user postgres), force-dropped afterwards."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    from support.scratch_postgres import PostgresUnavailable, scratch_postgres_database

    try:
        with scratch_postgres_database("f1db_bench") as url:
            yield url
    except PostgresUnavailable as error:
        fail(f"{error}; use --databases sqlite")


def postgres_rows(url: str, sql: str) -> list[list]:
    """Rows of one query on the database of a ``fresh_database`` PostgreSQL URL (pg8000)."""
    import pg8000.native

    from support.scratch_postgres import POSTGRES

    connection = pg8000.native.Connection(**{**POSTGRES, "database": url.rsplit("/", 1)[1]},
                                          timeout=30)
    try:
        return connection.run(sql)
    finally:
        connection.close()


# --- child processes ------------------------------------------------------------------------

@dataclass
class ChildRun:
    """One finished child process, measured from outside."""
    wall_s: float          # from the start of the process to its exit, Python start-up included
    peak_rss_mb: float     # ru_maxrss of this child alone (os.wait4), in MiB
    returncode: int
    stdout: Path
    stderr: Path

    def last_line(self, path: Path | None = None) -> str:
        lines = (path or self.stderr).read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "(no output)"


def run_child(command: list[str], *, output: Path, cwd: Path = REPO,
              env: dict | None = None) -> ChildRun:
    """Run ``command`` with stdout/stderr in ``output``.out/.err; wall time and peak RSS.

    ``os.wait4`` reports the child's own resource usage, so its ``ru_maxrss`` is that
    process's peak, whatever ran before it.
    """
    stdout, stderr = output.with_suffix(".out"), output.with_suffix(".err")
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                   cwd=cwd, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(wall, usage.ru_maxrss / 1024, process.returncode, stdout, stderr)


def json_last_line(run: ChildRun, what: str) -> dict | list:
    """The JSON a child of ours prints on its last stdout line (fail with its error if not)."""
    if run.returncode:
        fail(f"{what} failed (exit {run.returncode}): {run.last_line()}")
    try:
        return json.loads(run.stdout.read_text().strip().splitlines()[-1])
    except (IndexError, ValueError):
        fail(f"{what} printed no result: {run.last_line()}")


def run_script(script: Path, arguments: list[str], what: str) -> str:
    """Run a benchmark script in a child process; return its stdout (stderr passes through).

    A child that stopped through :func:`fail` has printed its one-line reason: the parent
    exits with the same code and adds nothing.
    """
    done = subprocess.run([sys.executable, str(script), *arguments], stdout=subprocess.PIPE,
                          text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode == FAIL_EXIT:
        raise SystemExit(FAIL_EXIT)
    if done.returncode:
        fail(f"{what} failed (exit {done.returncode})")
    return done.stdout


# --- the machine ----------------------------------------------------------------------------

def machine(postgres_url: str | None) -> dict:
    """CPU model, cores, RAM, PostgreSQL, Python and FastF1 versions, load average."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 2**20, 1)
    try:
        fastf1_version = version("fastf1")
    except PackageNotFoundError:
        fail("FastF1 is not installed: python -m pip install -r requirements.txt")
    postgres = None
    if postgres_url:
        postgres = postgres_rows(postgres_url, "SHOW server_version")[0][0]
    return {"cpu": cpu, "cpus": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "ram_gib": ram_gib, "postgresql": postgres,
            "python": platform.python_version(), "fastf1": fastf1_version,
            "load_average_1min": round(os.getloadavg()[0], 2)}


def machine_line(info: dict) -> str:
    return (f"Machine: {info['cpu']}, {info['cpus_usable']} of {info['cpus']} CPUs usable, "
            f"{info['ram_gib']} GiB RAM; PostgreSQL {info['postgresql'] or '(not used)'}; "
            f"Python {info['python']}; FastF1 {info['fastf1']}; 1-min load average "
            f"{info['load_average_1min']:.2f} at start")
