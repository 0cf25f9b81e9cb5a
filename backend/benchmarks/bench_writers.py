"""Writer comparison: the same telemetry rows into a fresh ``telemetry`` table, every way.

How to run (from the repository root; PostgreSQL on 127.0.0.1:5432, user postgres):

    python backend/benchmarks/bench_writers.py                      # 300,000 rows, PostgreSQL
    python backend/benchmarks/bench_writers.py --rows 100000 --repeats 3
    python backend/benchmarks/bench_writers.py --url sqlite:////tmp/writers.db
    python backend/benchmarks/bench_writers.py --url postgresql+pg8000://postgres@127.0.0.1/test

Without ``--url`` it makes a scratch PostgreSQL database and force-drops it afterwards.
With a PostgreSQL ``--url`` it works in a schema of its own (``bench_writers_<random>``,
dropped afterwards), so the database's own tables are never touched; a SQLite ``--url``
must not hold a ``telemetry`` table. ``bench_populate.py`` imports :func:`compare_writers`.

What it measures
----------------
``--rows`` telemetry rows (20 drivers, values like FastF1's car data) are made by the
product's transform (``transform.table_frame`` per driver) before any timing. Each way then
writes them into a freshly created ``telemetry`` table (the product's model: types, column
order and primary key, fillfactor included), timed from the first byte built to the end of
the COMMIT, and the table is checked to hold every row (and, on PostgreSQL, the same
values as the loader's own write: an md5 of the ordered rows). PostgreSQL ways:

* ``ORM bulk_save_objects``: SQLAlchemy's ORM (``Session.bulk_save_objects`` of
  ``Telemetry`` objects made from the rows), the usual first way of writing; slow, so it
  writes at most ``ORM_ROWS`` rows;
* ``temp tables + ON CONFLICT``: the usual way to make inserts idempotent: per 10,000
  rows, a temp table ``LIKE`` telemetry, a CSV COPY into it, ``INSERT ... SELECT ... ON
  CONFLICT DO NOTHING``;
* ``psql \\copy (CSV file)``: the psql client copying a CSV file of the rows written
  beforehand (only the psql run is timed): no Python at all;
* ``CSV COPY (previous loader)``: the loader before binary COPY (CSV built column-wise
  with numpy and Python strings, ``FORMAT csv``), kept here as :func:`csv_chunks`;
* ``pyarrow CSV COPY``: the CSV built by pyarrow's C writer (``pyarrow.csv.write_csv``),
  then the same COPY; only when pyarrow is importable (it is not a dependency);
* ``binary COPY (loader)``: ``load.replace_session_rows`` as the populator calls it, with
  the rows one driver at a time (its usual input) and as one frame.

SQLite ways: ``ORM bulk_save_objects``, ``executemany (loader)`` and a multi-row
``INSERT ... VALUES (...), (...)`` of 200 rows a statement (the stdlib's other way to
batch; it did not beat executemany, docs/BENCHMARKS.md, "Writers").

The machine is shared: compare figures measured side by side in one run (``--repeats N``
keeps each way's fastest of N).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator

import timing  # noqa: F401  (puts this checkout's f1db and tests/support on sys.path)

DEFAULT_ROWS = 300_000
ORM_ROWS = 20_000          # the ORM writes ~3,500 rows/s: 300k rows would take minutes
TEMP_TABLE_ROWS = 10_000
CSV_CHUNK_ROWS = 20_000    # the previous loader's rows per COPY message
DRIVERS = ("1", "11", "44", "63", "16", "55", "4", "81", "14", "18",
           "10", "31", "23", "2", "22", "3", "77", "24", "20", "27")


def fail(message: str) -> None:
    print(f"bench_writers: {message}", file=sys.stderr)
    raise SystemExit(2)


# --- the rows -------------------------------------------------------------------------------

def telemetry_chunks(rows: int, drivers: int = len(DRIVERS)):
    """``rows`` telemetry rows as per-driver table frames (the product's transform), and
    their session key. Values like FastF1's car data: whole-number channels, ms times."""
    import numpy as np
    import pandas as pd

    from f1db.models import Base
    from f1db.records import SessionKey
    from f1db.transform import table_frame

    table = Base.metadata.tables["telemetry"]
    key = SessionKey(2021, 14, "Race")
    rng = np.random.default_rng(0)
    start = np.datetime64("2021-09-12T13:03:00.000", "ns")
    chunks = []
    for index in range(drivers):
        count = rows // drivers + (index < rows % drivers)
        times = np.cumsum(rng.integers(200, 300, count)).astype("timedelta64[ms]")
        times = times.astype("timedelta64[ns]")
        source = pd.DataFrame({
            "driver_number": DRIVERS[index % len(DRIVERS)], "sample_index": np.arange(count),
            "Date": start + times, "RPM": rng.integers(4000, 12900, count).astype(float),
            "Speed": rng.integers(0, 350, count).astype(float),
            "nGear": rng.integers(0, 9, count),
            "Throttle": rng.integers(0, 105, count).astype(float),
            "Brake": rng.random(count) < 0.2, "DRS": rng.choice([0, 1, 8, 10, 12, 14], count),
            "Source": "car", "Time": times, "SessionTime": times + np.timedelta64(3_600_000, "ms")})
        chunks.append(table_frame(table, source, key))
    return chunks, key


# --- the previous loader's CSV (FORMAT csv, NULL '\N'), kept to compare with ---------------

CSV_NULL = r"\N"


def _csv_put_missing(fields: list, series) -> list:
    import numpy as np

    missing = series.isna().to_numpy()
    for index in np.flatnonzero(missing).tolist():
        fields[index] = CSV_NULL
    return fields


def _csv_quote(text: str) -> str:
    if text == CSV_NULL or any(c in text for c in ('"', ",", "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_column(series, kind: str) -> list[str]:
    import numpy as np
    import pandas as pd

    if kind in ("integer", "duration_ms"):
        return _csv_put_missing(list(map(str, series.to_numpy(dtype="int64", na_value=0)
                                         .tolist())), series)
    if kind == "real":
        return _csv_put_missing(list(map(repr, series.to_numpy().tolist())), series)
    if kind == "flag":
        return _csv_put_missing(list(map(str, series.to_numpy(dtype="bool", na_value=False)
                                         .tolist())), series)
    if kind == "timestamp_utc":
        values = series.to_numpy(dtype="datetime64[us]")
        texts = np.strings.replace(np.datetime_as_string(values, unit="us"), "T", " ", 1)
        return _csv_put_missing(texts.tolist(), series)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    quoted = [_csv_quote(v if isinstance(v, str) else str(v)) for v in uniques]
    return np.array(quoted + [CSV_NULL], dtype=object)[codes].tolist()


def csv_chunks(frames: Iterable, kinds: list[str],
               chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes]:
    """The previous loader's CSV for COPY, built column by column (load.py before binary)."""
    for frame in frames:
        for start in range(0, len(frame), chunk_rows):
            part = frame.iloc[start:start + chunk_rows]
            columns = [_csv_column(part.iloc[:, i], kind) for i, kind in enumerate(kinds)]
            yield ("\n".join(map(",".join, zip(*columns))) + "\n").encode("utf-8")


def pyarrow_csv_chunks(frames: Iterable, chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes]:
    """The same CSV made by pyarrow's C writer (strings always quoted, so a literal ``\\N``
    stays text; timestamps cast to microseconds first)."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    options = pa_csv.WriteOptions(include_header=False, null_string=CSV_NULL)
    for frame in frames:
        for start in range(0, len(frame), chunk_rows):
            table = pa.Table.from_pandas(frame.iloc[start:start + chunk_rows],
                                         preserve_index=False)
            table = table.cast(pa.schema([
                field.with_type(pa.timestamp("us")) if pa.types.is_timestamp(field.type)
                else field for field in table.schema]))
            buffer = io.BytesIO()
            pa_csv.write_csv(table, buffer, options)
            yield buffer.getvalue()


# --- the ways ---------------------------------------------------------------------------------

class Target:
    """Where the ways write: an engine whose connections see a fresh ``telemetry`` table.

    PostgreSQL: a schema of our own first on every connection's search_path (and psql's,
    through PGOPTIONS), dropped at the end. SQLite: the file itself.
    """

    def __init__(self, url: str):
        from sqlalchemy import event, text

        from f1db.config import resolve_database
        from f1db.db import open_database
        from f1db.models import Base

        self.url = url
        self.database = open_database(resolve_database(url))
        self.engine = self.database.engine
        self.postgresql = self.engine.dialect.name == "postgresql"
        self.table = Base.metadata.tables["telemetry"]
        self.schema = None
        if self.postgresql:
            self.schema = f"bench_writers_{uuid.uuid4().hex[:10]}"
            with self.engine.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            self.engine.dispose()              # pooled connections predate the listener

            @event.listens_for(self.engine, "connect")
            def _search_path(dbapi_connection, record):
                cursor = dbapi_connection.cursor()
                cursor.execute(f'SET search_path TO "{self.schema}"')
                cursor.close()
                dbapi_connection.commit()
        else:
            with self.engine.connect() as connection:
                if self.engine.dialect.has_table(connection, "telemetry"):
                    fail(f"{url} already has a telemetry table: give a fresh SQLite file")

    @contextlib.contextmanager
    def fresh_table(self):
        with self.engine.begin() as connection:
            self.table.create(connection)
        try:
            yield
        finally:
            with self.engine.begin() as connection:
                self.table.drop(connection)

    def count_and_digest(self) -> tuple[int, str | None]:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM telemetry")).scalar_one()
            if not self.postgresql:
                return count, None
            digest = connection.execute(text(
                "SELECT md5(string_agg(t::text, E'\\n' ORDER BY driver_number, sample_index)) "
                "FROM telemetry t")).scalar_one()
        return count, digest

    def close(self) -> None:
        from sqlalchemy import text

        try:
            if self.schema:
                self.engine.dispose()
                with self.engine.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        finally:
            self.database.close()


def _orm(target: Target, chunks: list, key) -> int:
    import pandas as pd
    from sqlalchemy.orm import Session

    from f1db.models import Telemetry

    frame = pd.concat(chunks, ignore_index=True).iloc[:ORM_ROWS]
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    with Session(target.engine) as session:
        session.bulk_save_objects([Telemetry(**record) for record in records])
        session.commit()
    return len(frame)


def _copy_stream(connection, sql: str, stream) -> None:
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, stream=stream)
    finally:
        cursor.close()


def _copy_csv_sql(table: str, names: str) -> str:
    return f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '{CSV_NULL}')"


def _names(target: Target) -> str:
    return ", ".join(f'"{column.name}"' for column in target.table.columns)


def _kinds(target: Target) -> list[str]:
    return [column.info["kind"] for column in target.table.columns]


def _temp_tables(target: Target, chunks: list, key) -> int:
    import pandas as pd
    from sqlalchemy import text

    frame = pd.concat(chunks, ignore_index=True)
    names = _names(target)
    with target.engine.begin() as connection:
        for start in range(0, len(frame), TEMP_TABLE_ROWS):
            part = frame.iloc[start:start + TEMP_TABLE_ROWS]
            connection.execute(text("CREATE TEMP TABLE telemetry_incoming "
                                    "(LIKE telemetry INCLUDING DEFAULTS)"))
            _copy_stream(connection, _copy_csv_sql("telemetry_incoming", names),
                         csv_chunks([part], _kinds(target)))
            connection.execute(text(f"INSERT INTO telemetry ({names}) SELECT {names} "
                                    f"FROM telemetry_incoming ON CONFLICT DO NOTHING"))
            connection.execute(text("DROP TABLE telemetry_incoming"))
    return len(frame)


def _old_csv(target: Target, chunks: list, key) -> int:
    with target.engine.begin() as connection:
        _copy_stream(connection, _copy_csv_sql("telemetry", _names(target)),
                     csv_chunks(chunks, _kinds(target)))
    return sum(map(len, chunks))


def _pyarrow_csv(target: Target, chunks: list, key) -> int:
    with target.engine.begin() as connection:
        _copy_stream(connection, _copy_csv_sql("telemetry", _names(target)),
                     pyarrow_csv_chunks(chunks))
    return sum(map(len, chunks))


def _loader(one_frame: bool):
    def write(target: Target, chunks: list, key) -> int:
        import pandas as pd

        from f1db.load import replace_session_rows

        frames = pd.concat(chunks, ignore_index=True) if one_frame else iter(chunks)
        with target.engine.begin() as connection:
            _, inserted = replace_session_rows(connection, target.table, key, frames)
        return inserted
    return write


def _psql_copy(csv_file: Path):
    def write(target: Target, chunks: list, key) -> float:
        from sqlalchemy.engine import make_url

        url = make_url(target.url)
        environment = {**os.environ, "PGOPTIONS": f"-c search_path={target.schema}"}
        if url.password:
            environment["PGPASSWORD"] = url.password
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1",
                   "-p", str(url.port or 5432), "-U", url.username or "postgres",
                   "-d", url.database, "-c",
                   f"\\copy telemetry ({_names(target)}) FROM '{csv_file}' "
                   f"WITH (FORMAT csv, NULL '{CSV_NULL}')"]
        started = time.perf_counter()
        done = subprocess.run(command, env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode:
            fail(f"psql \\copy failed: {done.stderr.strip().splitlines()[-1:]}")
        return seconds
    return write


def _sqlite_multirow(target: Target, chunks: list, key, per_statement: int = 200) -> int:
    from f1db.dialects.sqlite import sqlite_rows

    columns = list(target.table.columns)
    one = "(" + ", ".join("?" for _ in columns) + ")"
    head = f"INSERT INTO telemetry ({_names(target)}) VALUES "
    with target.engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for frame in chunks:
            rows = sqlite_rows(frame, columns)
            whole = len(rows) // per_statement * per_statement
            width = len(columns) * per_statement
            flat = [value for row in rows[:whole] for value in row]
            cursor.executemany(head + ", ".join([one] * per_statement),
                               [flat[i:i + width] for i in range(0, len(flat), width)])
            cursor.executemany(head + one, rows[whole:])
        cursor.close()
    return sum(map(len, chunks))


Way = tuple[str, Callable]


def _ways(target: Target, csv_file: Path | None) -> list[Way]:
    if not target.postgresql:
        return [("ORM bulk_save_objects", _orm), ("executemany (loader)", _loader(True)),
                ("multi-row INSERT, 200 rows a statement", _sqlite_multirow)]
    ways = [("ORM bulk_save_objects", _orm),
            ("temp tables + ON CONFLICT", _temp_tables),
            ("psql \\copy of a CSV file", _psql_copy(csv_file)),
            ("CSV COPY (previous loader)", _old_csv)]
    try:
        import pyarrow  # noqa: F401
        ways.append(("pyarrow CSV COPY", _pyarrow_csv))
    except ImportError:
        pass
    return ways + [("binary COPY (loader), one frame", _loader(True)),
                   ("binary COPY (loader), per driver", _loader(False))]


def compare_writers(rows: int, url: str, *, repeats: int = 1,
                    progress: Callable[[str], None] | None = None) -> list[dict]:
    """Write the same ``rows`` telemetry rows into a fresh telemetry table at ``url`` every
    way; one dict per way: name, rows, seconds (fastest of ``repeats``), rows_per_s.

    Fails (SystemExit 2, one line) if a way stores fewer rows than it wrote or, on
    PostgreSQL, values that differ from the loader's binary COPY.
    """
    chunks, key = telemetry_chunks(rows)
    target = Target(url)
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-writers-") as workdir:
            csv_file = None
            if target.postgresql:
                csv_file = Path(workdir) / "telemetry.csv"
                with open(csv_file, "wb") as file:
                    for data in csv_chunks(chunks, _kinds(target)):
                        file.write(data)
            digests = {}
            for name, write in _ways(target, csv_file):
                best = None
                for _ in range(repeats):
                    with target.fresh_table():
                        started = time.perf_counter()
                        outcome = write(target, chunks, key)
                        seconds = time.perf_counter() - started
                        if isinstance(outcome, float):     # psql: only the copy is timed
                            seconds, written = outcome, rows
                        else:
                            written = outcome
                        stored, digest = target.count_and_digest()
                    if stored != written:
                        fail(f"{name}: stored {stored:,} rows of {written:,}")
                    if digest is not None and written == rows:
                        digests[name] = digest
                    best = seconds if best is None else min(best, seconds)
                result = {"name": name, "rows": written, "seconds": round(best, 3),
                          "rows_per_s": round(written / best)}
                results.append(result)
                if progress:
                    progress(f"{name}: {written:,} rows in {best:.2f} s")
            if len(set(digests.values())) > 1:
                fail(f"the ways stored different values: {digests}")
    finally:
        target.close()
    return results


def compare_encoders(rows: int) -> list[dict]:
    """The client side alone (no database): the bytes each COPY way sends, built from the
    same rows; name, rows, seconds, rows_per_s, mib."""
    from f1db.dialects.pg_copy import copy_messages
    from f1db.models import Base

    table = Base.metadata.tables["telemetry"]
    chunks, _ = telemetry_chunks(rows)
    kinds = [column.info["kind"] for column in table.columns]
    builders = [("CSV (previous loader)", lambda: csv_chunks(chunks, kinds)),
                ("binary (loader), per driver",
                 lambda: copy_messages(iter(chunks), table, list(table.columns)))]
    with contextlib.suppress(ImportError):
        import pyarrow  # noqa: F401
        builders.insert(1, ("pyarrow CSV", lambda: pyarrow_csv_chunks(chunks)))
    results = []
    for name, build in builders:
        started = time.perf_counter()
        size = sum(len(data) for data in build())
        seconds = time.perf_counter() - started
        results.append({"name": name, "rows": rows, "seconds": round(seconds, 3),
                        "rows_per_s": round(rows / seconds), "mib": round(size / 2**20, 1)})
    return results


def print_table(results: list[dict], title: str = "Writers") -> None:
    """The figures as a small table."""
    print(f"\n{title}")
    wide = max(len(result["name"]) for result in results)
    extra = any("mib" in result for result in results)
    print(f"{'way':<{wide}}  {'rows':>9}  {'s':>7}  {'rows/s':>10}" + ("  MiB" if extra else ""))
    for result in results:
        print(f"{result['name']:<{wide}}  {result['rows']:>9,}  {result['seconds']:>7.2f}  "
              f"{result['rows_per_s']:>10,}" + (f"  {result['mib']:>5}" if extra else ""))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help=f"telemetry rows (default {DEFAULT_ROWS:,}; the ORM writes at "
                             f"most {ORM_ROWS:,})")
    parser.add_argument("--url", help="database URL (default: a scratch PostgreSQL database "
                                      "on 127.0.0.1:5432)")
    parser.add_argument("--repeats", type=int, default=1, help="keep the fastest of N")
    parser.add_argument("--no-encoders", action="store_true",
                        help="skip the client-side-only figures")
    args = parser.parse_args(argv)
    if args.rows < len(DRIVERS) or args.repeats < 1:
        parser.error(f"--rows must be at least {len(DRIVERS)} and --repeats at least 1")
    import warnings
    warnings.simplefilter("ignore")
    print(f"{args.rows:,} telemetry rows; {os.cpu_count()} CPUs, 1-min load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    if args.url:
        results = compare_writers(args.rows, args.url, repeats=args.repeats,
                                  progress=lambda line: print("  " + line, flush=True))
    else:
        from support.scratch_postgres import PostgresUnavailable, scratch_postgres_database

        try:
            with scratch_postgres_database("f1db_bench") as url:
                results = compare_writers(args.rows, url, repeats=args.repeats,
                                          progress=lambda line: print("  " + line, flush=True))
        except PostgresUnavailable as error:
            fail(f"{error}; give --url sqlite:///FILE")
    print_table(results, "Writers (seconds to COMMIT)")
    if not args.no_encoders:
        print_table(compare_encoders(args.rows), "Client side alone (bytes for COPY, no database)")


if __name__ == "__main__":
    main()
