"""SQLAlchemy models of the F1 database, for your own queries (defined in ``f1db/models.py``).

Every fact row carries ``year``, ``round_number`` and, for per-session tables,
``session_type``; each fact table's primary key (its unique constraint) is those columns
then the table's natural key, so a rerun can never store a row twice. The tables, their
columns and the views are listed in docs/DATA.md. Use them with SQLAlchemy::

    from sqlalchemy import create_engine, select
    from models import Lap
    engine = create_engine("sqlite:///f1_data.db")
    with engine.connect() as db:
        fastest = db.execute(select(Lap).where(Lap.year == 2021)
                             .order_by(Lap.lap_time_ms).limit(5)).all()

(``from f1db.models import Lap`` works the same from any folder.)
"""

from f1db.models import (  # noqa: F401
    FACT_MODELS, LEDGER_MODELS, SCHEDULE_MODELS, TABLE_NAMES, VIEW_NAMES, Base,
    CircuitLayout, CircuitMarker, ConstructorStanding, DriverStanding, Event, EventSession,
    Lap, Position, RaceControlMessage, Result, SessionFailure, SessionInfo, SessionPart,
    SessionStatus, StoredSession, Telemetry, TrackStatus, Weather)
