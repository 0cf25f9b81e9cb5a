"""What the tests (and the benchmarks) share: no test lives here.

* entry_scripts: running populate_db.py, migrate_db.py and test_backend.py as a user does;
* child_processes, replay_child: populate_db.py in a real process, answered by the replay,
  paused, killed and checked from outside;
* fastf1_replay: the recorded F1 live timing and Jolpica answers, served to FastF1;
* recorded: what the tests' recorded FastF1 cache holds;
* synthetic_telemetry, synthetic_circuits, synthetic_jolpica: what was not recorded, made in
  the exact wire formats (synthetic, and said so wherever it is used);
* fastf1_comparison: FastF1's own frames against the stored rows, worked out independently;
* database: what a database holds, and one populator run;
* scratch_postgres: a fresh PostgreSQL database per test; pseudo_terminal: a real terminal.
"""
