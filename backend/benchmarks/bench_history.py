"""Loading Jolpica's history from a dump at history scale: wall time and peak memory.

Builds a SYNTHETIC dump the size of Jolpica's (every season 1950-2025: 15 rounds a season
before 1996 made from the 1979 round of tests/support/synthetic_jolpica_dump.py, 20 from
1996 made from its 2023 Bahrain round with 1,055 lap times and 33 pit stops; about 1,290
rounds and 630,000 lap times), then runs ``populate_db.py --history-file`` into a fresh
database as a user does, and again (every round unchanged), measured from outside.

    python backend/benchmarks/bench_history.py [--databases sqlite,postgresql]

Needs ../shared/fastf1-recorded (the rounds are made from recorded answers).
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import sys
import time
from pathlib import Path

from timing import (BACKEND_DIR, fail, fresh_database, machine, machine_line, parse_databases,
                    run_child)


def history_rounds() -> list:
    from support.fastf1_replay import load_recordings, recordings_available
    from support.synthetic_jolpica_dump import made_rounds

    if not recordings_available():
        fail("../shared/fastf1-recorded is absent: the dump is made from recorded answers")
    made = {(r.year, r.number): r for r in made_rounds(load_recordings())}
    old, modern = made[(1979, 1)], made[(2023, 1)]
    rounds = []
    for year in range(1950, 2026):
        template, count = (modern, 20) if year >= 1996 else (old, 15)
        for number in range(1, count + 1):
            made_round = copy.deepcopy(template)
            made_round.race["season"], made_round.race["round"] = str(year), str(number)
            made_round.race["date"] = f"{year}-{3 + number // 3:02d}-{1 + number % 3 * 7:02d}"
            if year < 2011:
                made_round.pit_stops = []
            rounds.append(made_round)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    databases = parse_databases(parser, args.databases)

    from support.synthetic_jolpica_dump import dump_zip

    with tempfile.TemporaryDirectory(prefix="f1bench-history-") as folder:
        workdir = Path(folder)
        started = time.perf_counter()
        rounds = history_rounds()
        dump = workdir / "jolpica-f1-csv-2026-11-20.zip"
        dump.write_bytes(dump_zip(rounds))
        laps = sum(len(t["Timings"]) for r in rounds for t in r.laps)
        print(f"Synthetic dump: {len(rounds)} rounds, {laps} lap times, "
              f"{dump.stat().st_size / 2**20:.1f} MiB zip (made in "
              f"{time.perf_counter() - started:.0f} s)")
        info = None
        for kind in databases:
            with fresh_database(kind, workdir) as url:
                if kind == "postgresql" or (info is None and kind == databases[-1]):
                    info = machine(url if kind == "postgresql" else None)
                for label in ("first load", "rerun (unchanged)"):
                    run = run_child([sys.executable, str(BACKEND_DIR / "populate_db.py"),
                                     "--history-file", str(dump), "--database-url", url,
                                     "--quiet", "--log-file", ""],
                                    output=workdir / f"{kind}-{label[:5]}")
                    if run.returncode:
                        fail(f"{kind} {label} failed: {run.last_line()}")
                    print(f"{kind:10s} {label:18s} wall {run.wall_s:6.1f} s   peak RSS "
                          f"{run.peak_rss_mb:6.0f} MiB   {run.last_line().strip()}")
        print(machine_line(info))


if __name__ == "__main__":
    main()
