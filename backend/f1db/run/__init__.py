"""The run: one session's work in one place, and what drives the sessions of a run.

* options.py: a run's arguments, checked (``RunOptions``);
* session_job.py: one session's claim -> fetch -> transform -> write -> ledger
  (``SessionJob``), its outcome typed (records.Loaded / Skipped / Failed);
* retry.py: the one retry policy every attempt and every write goes through;
* write_behind.py: the writer thread that writes session N while N+1 loads;
* runner.py: the sessions of a selection in schedule order, each under the retry policy,
  outcomes recorded in order;
* calendar.py, planning.py, watch.py: the calendar refresh, ``--plan``, ``--watch``.

populator.py (``DatabasePopulator``) is the facade a caller uses.
"""
