"""Calendar, session facts, circuit layout and standings tables; stints, pit_stops views

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

New tables: ``events`` and ``event_sessions`` (FastF1's schedule, refreshed by every run),
``session_info`` (per session), ``circuit_layouts`` and ``circuit_markers`` (per event),
``driver_standings`` and ``constructor_standings`` (per round). New views over ``laps``:
``stints`` and ``pit_stops``, written in SQL that SQLite and PostgreSQL read alike (no
window functions, no dialect casts), so both databases answer the same.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The same laps of one driver in one session, for the views' joins.
_SAME_DRIVER = """{a}.year = {b}.year AND {a}.round_number = {b}.round_number
       AND {a}.session_type = {b}.session_type AND {a}.driver_number = {b}.driver_number"""


def _first_known(column: str) -> str:
    """The stint's first non-NULL ``column`` in lap order (pandas' groupby().first())."""
    return (f"(SELECT l.{column} FROM laps l WHERE {_SAME_DRIVER.format(a='l', b='s')}\n"
            f"            AND l.stint = s.stint AND l.{column} IS NOT NULL\n"
            f"            ORDER BY l.lap_number LIMIT 1) AS {column}")


VIEWS = {
    # One row per driver and tyre stint (FastF1's Stint), laps without a stint left out:
    # driver, team, compound and fresh_tyre are the stint's first known ones in lap order,
    # tyre life its lowest and highest.
    "stints": f"""CREATE VIEW stints AS
SELECT s.year, s.round_number, s.session_type, s.driver_number, s.stint,
       {_first_known("driver")},
       {_first_known("team")},
       {_first_known("compound")},
       {_first_known("fresh_tyre")},
       s.first_lap, s.last_lap, s.laps, s.tyre_life_start, s.tyre_life_end
FROM (SELECT year, round_number, session_type, driver_number, stint,
             MIN(lap_number) AS first_lap, MAX(lap_number) AS last_lap, COUNT(*) AS laps,
             MIN(tyre_life) AS tyre_life_start, MAX(tyre_life) AS tyre_life_end
      FROM laps WHERE stint IS NOT NULL
      GROUP BY year, round_number, session_type, driver_number, stint) s""",
    # One row per pit stop: a lap with a pit-in time, and the same driver's next lap for
    # the pit-out time (NULL when the car did not come out: a retirement, the session's end).
    "pit_stops": f"""CREATE VIEW pit_stops AS
SELECT i.year, i.round_number, i.session_type, i.driver_number, i.driver, i.team,
       i.lap_number AS lap, i.stint, i.pit_in_time_ms, o.pit_out_time_ms,
       o.pit_out_time_ms - i.pit_in_time_ms AS pit_lane_time_ms,
       o.compound AS compound_after
FROM laps i
LEFT JOIN laps o ON {_SAME_DRIVER.format(a="o", b="i")} AND o.lap_number = i.lap_number + 1
WHERE i.pit_in_time_ms IS NOT NULL""",
}


def upgrade() -> None:
    op.create_table('circuit_layouts',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('circuit_key', sa.Integer(), nullable=True),
    sa.Column('circuit_short_name', sa.Text(), nullable=True),
    sa.Column('rotation', sa.Float(), nullable=True),
    sa.Column('distances_from', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', name=op.f('pk_circuit_layouts'))
    )
    op.create_table('circuit_markers',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('marker_type', sa.Text(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('letter', sa.Text(), nullable=True),
    sa.Column('x', sa.Float(), nullable=True),
    sa.Column('y', sa.Float(), nullable=True),
    sa.Column('angle', sa.Float(), nullable=True),
    sa.Column('distance', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'marker_type', 'sequence', name=op.f('pk_circuit_markers'))
    )
    op.create_table('constructor_standings',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('constructor_id', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('position_text', sa.Text(), nullable=True),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('wins', sa.Integer(), nullable=True),
    sa.Column('constructor_url', sa.Text(), nullable=True),
    sa.Column('constructor_name', sa.Text(), nullable=True),
    sa.Column('constructor_nationality', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'constructor_id', name=op.f('pk_constructor_standings'))
    )
    op.create_table('driver_standings',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('driver_id', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('position_text', sa.Text(), nullable=True),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('wins', sa.Integer(), nullable=True),
    sa.Column('driver_number', sa.Integer(), nullable=True),
    sa.Column('driver_code', sa.Text(), nullable=True),
    sa.Column('driver_url', sa.Text(), nullable=True),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('driver_nationality', sa.Text(), nullable=True),
    sa.Column('constructor_ids', sa.Text(), nullable=True),
    sa.Column('constructor_urls', sa.Text(), nullable=True),
    sa.Column('constructor_names', sa.Text(), nullable=True),
    sa.Column('constructor_nationalities', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'driver_id', name=op.f('pk_driver_standings'))
    )
    op.create_table('events',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('event_name', sa.Text(), nullable=True),
    sa.Column('official_event_name', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('event_format', sa.Text(), nullable=True),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('f1_api_support', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', name=op.f('pk_events'))
    )
    op.create_table('session_info',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('meeting_key', sa.Integer(), nullable=True),
    sa.Column('meeting_name', sa.Text(), nullable=True),
    sa.Column('meeting_official_name', sa.Text(), nullable=True),
    sa.Column('meeting_location', sa.Text(), nullable=True),
    sa.Column('country_key', sa.Integer(), nullable=True),
    sa.Column('country_code', sa.Text(), nullable=True),
    sa.Column('country_name', sa.Text(), nullable=True),
    sa.Column('circuit_key', sa.Integer(), nullable=True),
    sa.Column('circuit_short_name', sa.Text(), nullable=True),
    sa.Column('session_key', sa.Integer(), nullable=True),
    sa.Column('type', sa.Text(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('archive_status', sa.Text(), nullable=True),
    sa.Column('start_date_utc', sa.DateTime(), nullable=True),
    sa.Column('end_date_utc', sa.DateTime(), nullable=True),
    sa.Column('gmt_offset_ms', sa.BigInteger(), nullable=True),
    sa.Column('t0_date_utc', sa.DateTime(), nullable=True),
    sa.Column('session_start_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('total_laps', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', name=op.f('pk_session_info'))
    )
    op.create_table('event_sessions',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('session_number', sa.SmallInteger(), nullable=True),
    sa.Column('session_start_utc', sa.DateTime(), nullable=True),
    sa.Column('gmt_offset_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['year', 'round_number'], ['events.year', 'events.round_number'], name=op.f('fk_event_sessions_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', name=op.f('pk_event_sessions'))
    )
    for statement in VIEWS.values():
        op.execute(statement)


# The per-session tables this revision adds: their ledger rows go with them on downgrade,
# so that upgrading again loads them (a "loaded" status for an empty table never would).
_SESSION_PART_TABLES = ("session_info", "circuit_layouts", "circuit_markers",
                        "driver_standings", "constructor_standings")


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    names = ", ".join(f"'{name}'" for name in _SESSION_PART_TABLES)
    op.execute(f"DELETE FROM session_parts WHERE table_name IN ({names})")
    op.drop_table('event_sessions')
    op.drop_table('session_info')
    op.drop_table('events')
    op.drop_table('driver_standings')
    op.drop_table('constructor_standings')
    op.drop_table('circuit_markers')
    op.drop_table('circuit_layouts')
