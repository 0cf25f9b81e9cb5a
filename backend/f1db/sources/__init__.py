"""Where the data comes from: FastF1 (live timing, and Jolpica through FastF1's Ergast).

* fastf1_source.py: FastF1 set up (cache, offline mode, the request meter and budget),
  the season's schedule, and one ``Session.load`` per session;
* readers.py: the reader of each table, registered by table name, and the fetch that
  runs them; fastf1_readers.py registers FastF1's;
* events.py: the schedule's events and sessions, and matching what a user names;
* fastf1_costs.py: requests per cold load, ``Session.load`` options per table;
* fastf1_compat.py: every reach into FastF1's internals;
* budget.py, http_meter.py: the request budget every run on the machine shares, and the
  meter between FastF1's HTTP sessions and the network.

Adding a source: models for its tables (models.py, with their ``__source__``) and readers
registered with ``readers.reads`` (docs/ARCHITECTURE.md, "How to add a source").
"""
