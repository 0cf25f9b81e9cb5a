"""FastF1 alone: the baseline ``bench_populate.py`` compares ``populate_db.py`` with.

How to run (``bench_populate.py`` runs it in a child process; alone, for a look):

    python backend/benchmarks/fastf1_alone.py --cache DIR --session 2021/Italian/FP2

Loads each ``--session YEAR/EVENT/NAME`` in turn, offline from the FastF1 cache in DIR,
with what a run of ``populate_db.py`` over every table asks FastF1 for:
``fastf1.get_session(...).load(laps=True, telemetry=True, weather=True, messages=True)``
(f1db.sources.fastf1_costs.load_options for all tables; the populator also reads the
season's schedule, which ``get_session`` does as well). FastF1 logs at WARNING, as under
``populate_db.py`` without ``--verbose``. Nothing is stored: this is what getting the data out of FastF1 costs
in one process, Python start-up and ``import fastf1`` included.

Prints, on its last line, JSON: per session the seconds of ``get_session`` + ``load`` and
the rows FastF1 gave (car data, position data, laps), so the benchmark can check that
``populate_db.py`` stored exactly the telemetry and position rows FastF1 holds.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

# What populate_db.py's default run (every table) passes to Session.load.
LOAD_OPTIONS = {"laps": True, "telemetry": True, "weather": True, "messages": True}


def rows(session, attribute: str, fastf1) -> int:
    """Rows FastF1 holds in ``session.<attribute>`` (summed over drivers); 0 if not loaded."""
    try:
        value = getattr(session, attribute)
    except fastf1.exceptions.DataNotLoadedError:
        return 0
    return sum(map(len, value.values())) if isinstance(value, dict) else len(value)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True, help="FastF1 cache directory (offline)")
    parser.add_argument("--session", action="append", required=True,
                        metavar="YEAR/EVENT/NAME", help="repeatable, loaded in this order")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import fastf1
    warnings.simplefilter("ignore")
    fastf1.set_log_level("WARNING")
    fastf1.Cache.configure(cache_dir=args.cache)
    fastf1.Cache.offline_mode(True)
    imported = time.perf_counter() - started

    sessions = []
    for spec in args.session:
        year, event, name = spec.split("/", 2)
        started = time.perf_counter()
        session = fastf1.get_session(int(year), event, name)
        session.load(**LOAD_OPTIONS)
        seconds = time.perf_counter() - started
        sessions.append({"session": spec, "seconds": round(seconds, 3),
                         "car_rows": rows(session, "car_data", fastf1),
                         "pos_rows": rows(session, "pos_data", fastf1),
                         "laps": rows(session, "laps", fastf1)})
        del session
    print(json.dumps({"import_s": round(imported, 3), "sessions": sessions}))


if __name__ == "__main__":
    main()
