"""SQLAlchemy models of the F1 database (defined in ``f1db/models.py``, re-exported here).

Tables: the ledger ``sessions`` (one row per stored session) and ``session_parts`` (the
status of each of its tables: loaded, partial or missing), and the fact tables ``results``, ``laps``, ``weather``, ``telemetry``, ``positions``,
``session_status``, ``track_status`` and ``race_control_messages``. Every fact row
carries ``year``, ``round_number`` and ``session_type``; each fact table's primary key
(its unique constraint) is those three columns then the table's natural key, so a
rerun can never store a row twice. Use them with SQLAlchemy::

    from sqlalchemy import create_engine, select
    from models import Lap
    engine = create_engine("sqlite:///f1_data.db")
    with engine.connect() as db:
        fastest = db.execute(select(Lap).where(Lap.year == 2021)
                             .order_by(Lap.lap_time_ms).limit(5)).all()
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from f1db.models import (FACT_MODELS, LEDGER_MODELS, TABLE_NAMES, Base,  # noqa: E402,F401
                         Lap, Position, RaceControlMessage, Result, SessionFailure, SessionPart,
                         SessionStatus,
                         StoredSession, Telemetry, TrackStatus, Weather)
