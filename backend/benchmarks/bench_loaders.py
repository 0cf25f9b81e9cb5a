"""Loader micro-benchmark: ``f1db.load.replace_session_rows`` alone, on a ready telemetry frame.

How to run (from the repository root; PostgreSQL on 127.0.0.1:5432, user postgres):

    python backend/benchmarks/bench_loaders.py                        # 1,000,000 rows, both DBs
    python backend/benchmarks/bench_loaders.py --rows 200000 --databases sqlite
    python backend/benchmarks/bench_populate.py --micro --micro-rows 200000   # the same

What it measures
----------------
A ``telemetry`` table frame of ``--rows`` rows (default 1,000,000) is built once, untimed
in the figures, by the product's own transform: ``combine_driver_frames`` + ``table_frame``
on FastF1-shaped synthetic per-driver frames (20 drivers). Then, per database (a fresh
SQLite file, or a fresh PostgreSQL database made and force-dropped through pg8000):

* the client side alone: ``csv_chunks`` (the CSV text for PostgreSQL's COPY) or
  ``sqlite_rows`` (the parameter tuples for SQLite's executemany, built in the loader's
  ``SQLITE_CHUNK_ROWS`` slices), with the column kinds from ``column_kinds``;
* ``replace_session_rows`` as the product runs it (DELETE of the session's rows, none
  here, then COPY / executemany), ``--repeats`` times (default 2), into an emptied table;
* the database side alone: ``replace_session_rows`` with ``f1db.load.csv_chunks`` /
  ``f1db.load.sqlite_rows`` replaced by a stand-in that returns what the real one made for
  the same slice in an untimed, rolled-back pass. The benchmark fails if the loader did
  not go through that function (nothing recorded, or a slice it had not seen), so this
  figure can never silently include the client side.

Each write is timed to the end of ``replace_session_rows`` ("s") and to the end of the
COMMIT ("+commit s"); rows/s uses the latter. For comparison: pg8000 COPY with the CSV
built by pandas ``to_csv`` wrote about 157,000 rows/s, measured earlier on this machine
(local PostgreSQL 15, 2 cores).
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
from pathlib import Path

from timing import YEAR, fail, fresh_database, parse_databases, quiet

DRIVERS = 20


def telemetry_frame(rows: int, drivers: int = DRIVERS):
    """A ``telemetry`` table frame of ``rows`` rows, through the product's transform."""
    import numpy as np
    import pandas as pd
    from f1db.models import Base
    from f1db.records import SessionKey
    from f1db.transform import combine_driver_frames, table_frame

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
            "nGear": rng.integers(1, 9, per_driver),
            "Throttle": rng.integers(0, 101, per_driver).astype(float),
            "Brake": rng.random(per_driver) < 0.2,
            "DRS": rng.choice([1, 8, 12], per_driver), "Source": "car",
            "Time": time_, "SessionTime": time_ + np.timedelta64(3_600_000, "ms")})
    key = SessionKey(YEAR, 14, "Race")
    return table_frame(Base.metadata.tables["telemetry"], combine_driver_frames(frames), key), key


class PrebuiltBuilder:
    """Stand-in for ``csv_chunks`` / ``sqlite_rows`` answering from what the real one made.

    While ``recording``, it calls the real builder and keeps its output per slice (keyed
    by the slice's first index label and length, so it works however the loader slices
    the frame); afterwards it only answers from what it kept, and fails on a slice it has
    not seen.
    """

    def __init__(self, builder, name: str):
        self.builder, self.name = builder, name
        self.made: dict = {}
        self.recording = True
        self.calls = 0
        functools.update_wrapper(self, builder)

    def __call__(self, frame, *args, **kwargs):
        self.calls += 1
        slice_key = (frame.index[0] if len(frame) else None, len(frame))
        if slice_key not in self.made:
            if not self.recording:
                fail(f"the loader asked {self.name} for a slice the recording pass did not "
                     f"see ({slice_key}); update the benchmark")
            self.made[slice_key] = list(self.builder(frame, *args, **kwargs))
        made = self.made[slice_key]
        return iter(made) if self.name == "csv_chunks" else made


def run_micro(kinds: list[str], rows: int, repeats: int) -> None:
    """Time ``replace_session_rows`` alone, its client side alone, and its database side alone."""
    quiet()
    from sqlalchemy import text
    import f1db.load
    from f1db.config import resolve_database
    from f1db.db import open_database
    from f1db.load import SQLITE_CHUNK_ROWS, column_kinds, replace_session_rows
    from f1db.models import Base
    from f1db.schema import require_current_schema

    started = time.perf_counter()
    frame, key = telemetry_frame(rows)
    print(f"Built a {len(frame):,}-row telemetry frame in {time.perf_counter() - started:.1f} s "
          f"(combine_driver_frames + table_frame); 1-min load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
    table = Base.metadata.tables["telemetry"]
    column_kind_list = column_kinds(table, frame.columns)
    results = []
    with tempfile.TemporaryDirectory(prefix="f1bench-micro-") as workdir:
        for kind in kinds:
            name = "csv_chunks" if kind == "postgresql" else "sqlite_rows"
            builder = getattr(f1db.load, name, None)
            if builder is None:
                fail(f"f1db.load.{name} does not exist (renamed or moved?); update the "
                     f"benchmark")

            # The client side alone: the CSV for COPY / the tuples for executemany.
            started = time.perf_counter()
            if kind == "postgresql":
                for _ in builder(frame, column_kind_list):
                    pass
            else:
                for first in range(0, len(frame), SQLITE_CHUNK_ROWS):
                    builder(frame.iloc[first:first + SQLITE_CHUNK_ROWS], column_kind_list)
            client = time.perf_counter() - started
            results.append((kind, f"{name} alone", len(frame), client, client))

            with fresh_database(kind, Path(workdir)) as url:
                database = open_database(resolve_database(url))
                try:
                    require_current_schema(database)
                    prebuilt = PrebuiltBuilder(builder, name)
                    setattr(f1db.load, name, prebuilt)   # the loaders call it from there
                    try:
                        with database.engine.connect() as connection:
                            with connection.begin() as transaction:
                                replace_session_rows(connection, table, key, frame)
                                transaction.rollback()
                    finally:
                        setattr(f1db.load, name, builder)
                    if not prebuilt.calls:
                        fail(f"{kind}: replace_session_rows never called f1db.load.{name}: "
                             f"the 'database side only' figure would include it; update "
                             f"the benchmark")
                    prebuilt.recording = False

                    for attempt in range(1, repeats + 1):
                        for use_prebuilt in (False, True):
                            with database.engine.begin() as connection:
                                connection.execute(text("DELETE FROM telemetry" if kind == "sqlite"
                                                        else "TRUNCATE telemetry"))
                            calls_before = prebuilt.calls
                            setattr(f1db.load, name, prebuilt if use_prebuilt else builder)
                            try:
                                started = time.perf_counter()
                                with database.engine.begin() as connection:
                                    _, inserted = replace_session_rows(connection, table, key,
                                                                       frame)
                                    written = time.perf_counter() - started
                                committed = time.perf_counter() - started
                            finally:
                                setattr(f1db.load, name, builder)
                            if use_prebuilt and prebuilt.calls == calls_before:
                                fail(f"{kind}: the pre-built {name} never ran; update the "
                                     f"benchmark")
                            if inserted != len(frame):
                                fail(f"{kind}: replace_session_rows wrote {inserted:,} of "
                                     f"{len(frame):,} rows")
                            what = (f"database side only ({name} pre-built)" if use_prebuilt
                                    else "replace_session_rows")
                            results.append((kind, f"{what} #{attempt}", inserted, written,
                                            committed))
                finally:
                    database.close()
    if "postgresql" in kinds:
        sample = frame.iloc[:100_000]
        size = (sum(len(chunk) for chunk in f1db.load.csv_chunks(sample, column_kind_list))
                * len(frame) / len(sample))
        print(f"CSV for COPY: about {size / 2**20:.0f} MiB")

    print(f"{'database':<11}{'what':<48}{'rows':>11}{'s':>8}{'+commit s':>10}{'rows/s':>10}")
    for kind, what, inserted, written, committed in results:
        print(f"{kind:<11}{what:<48}{inserted:>11,}{written:>8.2f}{committed:>10.2f}"
              f"{inserted / committed:>10,.0f}")
    print("\nreplace_session_rows: DELETE of the session's rows (none here), then COPY with "
          "csv_chunks / executemany with sqlite_rows; +commit s includes COMMIT."
          "\nFor comparison: pg8000 COPY with the CSV built by pandas to_csv wrote about "
          "157,000 rows/s, measured earlier on this machine.")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="rows of the telemetry frame (default 1,000,000)")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="timed writes per database and way (default 2)")
    args = parser.parse_args(argv)
    run_micro(parse_databases(parser, args.databases), args.rows, args.repeats)


if __name__ == "__main__":
    main()
