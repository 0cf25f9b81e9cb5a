"""What the benchmark tools share: timers around product functions, and small helpers.

Not run on its own. ``bench_populate.py`` (end-to-end timer), ``bench_cache.py`` (the FastF1
cache it runs on) and ``bench_loaders.py`` (loader micro-benchmark) import it.

Only the standard library is imported at module level: ``bench_populate.py``'s parent
process imports this module and must stay small, because Linux carries ``ru_maxrss`` over
``fork`` + ``exec`` and each child's peak RSS would otherwise start at the parent's.

:class:`Timers` wraps product functions where they are defined (a method on its class, a
function in its defining module) and records whether each one ran; :meth:`Timers.require`
fails the benchmark when a timer the report relies on never ran, so a rename or a moved
call in the library stops the benchmark instead of printing 0.0 s for a phase.
"""

from __future__ import annotations

import collections.abc
import contextlib
import functools
import inspect
import logging
import resource
import sys
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

# The session every tool works on, and the databases it can write to.
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


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def quiet() -> None:
    """FastF1 logs every step at INFO and pandas warns on every FastF1 DataFrame."""
    warnings.simplefilter("ignore")
    logging.getLogger("f1db").setLevel(logging.WARNING)
    import fastf1
    fastf1.set_log_level("WARNING")


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
    from scratch_postgres import PostgresUnavailable, scratch_postgres_database

    try:
        with scratch_postgres_database("f1db_bench") as url:
            yield url
    except PostgresUnavailable as error:
        fail(f"{error}; use --databases sqlite")


# --- timers ---------------------------------------------------------------------------------

class Timer:
    """Wall-clock seconds and number of calls of one wrapped function."""

    def __init__(self, label: str, where: str, *, by_table: bool = False):
        self.label = label
        self.where = where                     # e.g. "f1db.load.replace_session_rows"
        self.by_table = by_table               # also keeps seconds per table
        self.calls = 0
        self.seconds = 0.0
        self.per_table: dict[str, float] = defaultdict(float)

    def add(self, elapsed: float, table: str | None = None) -> None:
        self.seconds += elapsed
        if table is not None:
            self.per_table[table] += elapsed


class Timers:
    """Timed replacements of product functions; ``with Timers() as timers:`` undoes them.

    ``wrap(owner, name, label)`` replaces ``owner.name``:

    * ``owner`` a class: the method must be defined on that class itself (not inherited);
      calls through any instance are timed.
    * ``owner`` a module: the function must be defined in that module (``__module__``), so
      a timer always sits where the function is defined. A module that imported it by
      name (``from .load import replace_session_rows``) keeps its own reference, which a
      patch of the defining module alone would not reach: every name bound to that same
      function object in an already imported ``f1db`` module is replaced. Whichever way
      the library calls it, the ``calls`` count shows whether the timer saw the calls,
      and :meth:`require` fails the run when it did not.

    A name that no longer exists, or is no longer defined where the benchmark expects it,
    fails at once.
    """

    def __init__(self):
        self.timers: dict[str, Timer] = {}
        self._undo: list = []

    def __enter__(self) -> "Timers":
        return self

    def __exit__(self, *exc) -> None:
        self.restore()

    def wrap(self, owner, name: str, label: str, *, per_table: bool = False,
             iterate: bool = False) -> Timer:
        """Time every call of ``owner.name`` under ``label``.

        ``per_table``: also keep the time per table, from the call's ``table`` argument
        (a SQLAlchemy Table). ``iterate``: the function returns an iterator that does the
        work lazily (a generator); the time spent in its ``next`` is added too, but not
        the time its consumer spends between items.
        """
        original, where, targets = self._locate(owner, name, label)
        if per_table and "table" not in inspect.signature(original).parameters:
            fail(f"timer '{label}': {where} has no 'table' parameter any more; update "
                 f"the benchmark")
        signature = inspect.signature(original) if per_table else None
        timer = Timer(label, where, by_table=per_table)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            timer.calls += 1
            table = None
            if signature is not None:
                table = signature.bind(*args, **kwargs).arguments["table"]
                table = getattr(table, "name", table)
            started = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                timer.add(time.perf_counter() - started, table)
            if iterate and isinstance(result, collections.abc.Iterator):
                return _timed_items(result, timer, table)
            return result

        for target, attribute in targets:
            setattr(target, attribute, timed)
            self._undo.append((target, attribute, original))
        self.timers[label] = timer
        return timer

    def restore(self) -> None:
        while self._undo:
            target, name, original = self._undo.pop()
            setattr(target, name, original)

    def require(self, labels, *, tables: tuple[str, ...] = (), context: str = "") -> None:
        """Fail unless every timer of ``labels`` ran; per-table ones for each of ``tables``."""
        prefix = f"{context}: " if context else ""
        for label in labels:
            timer = self.timers[label]
            if not timer.calls:
                fail(f"{prefix}timer '{label}' ({timer.where}) never ran: the library no "
                     f"longer calls it this way; update the benchmark")
            if timer.by_table:
                for table in tables:
                    if table not in timer.per_table:
                        fail(f"{prefix}timer '{label}' ({timer.where}) never ran for table "
                             f"{table}; update the benchmark")

    def seconds(self) -> dict[str, float]:
        """``{label: s}`` plus ``{f"{label}:{table}": s}`` for per-table timers."""
        figures = {}
        for label, timer in self.timers.items():
            figures[label] = round(timer.seconds, 3)
            for table, value in timer.per_table.items():
                figures[f"{label}:{table}"] = round(value, 3)
        return figures

    def calls(self) -> dict[str, int]:
        return {label: timer.calls for label, timer in self.timers.items()}

    @staticmethod
    def _locate(owner, name: str, label: str):
        """(the function, its dotted name, the (object, attribute) pairs to patch), or fail."""
        where = f"{owner.__module__}.{owner.__qualname__}.{name}" if inspect.isclass(owner) \
            else f"{owner.__name__}.{name}"
        if inspect.isclass(owner):
            if name not in vars(owner):
                fail(f"timer '{label}': {where} is not defined on {owner.__qualname__} "
                     f"(renamed, removed or inherited?); update the benchmark")
            return vars(owner)[name], where, [(owner, name)]
        original = getattr(owner, name, None)
        if original is None:
            fail(f"timer '{label}': {where} does not exist (renamed or moved?); update the "
                 f"benchmark")
        if getattr(original, "__module__", None) != owner.__name__:
            fail(f"timer '{label}': {where} is defined in {original.__module__}, not in "
                 f"{owner.__name__}: wrap it where it is defined")
        # Every name bound to it in an f1db module: the defining module's own, other
        # names there (aliases), and modules that imported it by name.
        bindings = [(module, attribute)
                    for module_name, module in list(sys.modules.items())
                    if module is not None
                    and (module_name == "f1db" or module_name.startswith("f1db."))
                    for attribute, value in list(vars(module).items()) if value is original]
        return original, where, bindings


def _timed_items(items, timer: Timer, table: str | None):
    """Yield from ``items``, adding the time of each ``next`` to ``timer``."""
    while True:
        started = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            timer.add(time.perf_counter() - started, table)
            return
        timer.add(time.perf_counter() - started, table)
        yield item


def run_script(script: Path, arguments: list[str], what: str) -> str:
    """Run a benchmark script in a child process; return its stdout (stderr passes through).

    A child that stopped through :func:`fail` has printed its one-line reason: the parent
    exits with the same code and adds nothing.
    """
    import os
    import subprocess

    done = subprocess.run([sys.executable, str(script), *arguments], stdout=subprocess.PIPE,
                          text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode == FAIL_EXIT:
        raise SystemExit(FAIL_EXIT)
    if done.returncode:
        fail(f"{what} failed (exit {done.returncode})")
    return done.stdout
