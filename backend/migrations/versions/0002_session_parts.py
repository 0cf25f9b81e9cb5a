"""ledger statuses in session_parts: one row per session and table instead of a column each

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Revision 0001 kept a status column per fact table on ``sessions`` (``laps_status``, ...,
``session_status_status``), so every new table meant a new ledger column. The statuses
move, unchanged, into ``session_parts`` (with room for the reason a part is missing), and
the columns are dropped. Rows are carried over; downgrade puts them back.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# The fact tables of revision 0001 (a revision never imports the models: they move on).
FACT_TABLES = ("results", "laps", "weather", "telemetry", "positions", "session_status",
               "track_status", "race_control_messages")


def _sessions_0001() -> sa.Table:
    """``sessions`` as revision 0001 made it: SQLite rebuilds the table from this (also in
    ``--sql`` mode, where there is no database to read it from)."""
    return sa.Table(
        'sessions', sa.MetaData(),
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('year', sa.SmallInteger(), nullable=False),
        sa.Column('round_number', sa.SmallInteger(), nullable=False),
        sa.Column('session_type', sa.String(length=40), nullable=False),
        sa.Column('event_name', sa.Text(), nullable=False),
        sa.Column('country', sa.Text(), nullable=True),
        sa.Column('location', sa.Text(), nullable=True),
        sa.Column('event_format', sa.Text(), nullable=True),
        sa.Column('session_start_utc', sa.DateTime(), nullable=True),
        sa.Column('fastf1_version', sa.String(length=20), nullable=False),
        *[sa.Column(f'{table}_status', sa.String(length=10), nullable=True)
          for table in FACT_TABLES],
        sa.Column('loaded_at_utc', sa.DateTime(), nullable=False),
        sa.Column('updated_at_utc', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_sessions'),
        sa.UniqueConstraint('year', 'round_number', 'session_type', name='uq_sessions_year'))


def upgrade() -> None:
    op.create_table('session_parts',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('updated_at_utc', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['year', 'round_number', 'session_type'], ['sessions.year', 'sessions.round_number', 'sessions.session_type'], name=op.f('fk_session_parts_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'table_name', name=op.f('pk_session_parts'))
    )
    for table in FACT_TABLES:
        op.execute(
            f"INSERT INTO session_parts (year, round_number, session_type, table_name, status, "
            f"updated_at_utc) SELECT year, round_number, session_type, '{table}', "
            f"{table}_status, updated_at_utc FROM sessions WHERE {table}_status IS NOT NULL")
    with op.batch_alter_table('sessions', copy_from=_sessions_0001()) as batch_op:
        for table in FACT_TABLES:
            batch_op.drop_column(f'{table}_status')


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        for table in FACT_TABLES:
            batch_op.add_column(sa.Column(f'{table}_status', sa.String(length=10),
                                          nullable=True))
    for table in FACT_TABLES:
        op.execute(
            f"UPDATE sessions SET {table}_status = (SELECT status FROM session_parts p "
            f"WHERE p.year = sessions.year AND p.round_number = sessions.round_number "
            f"AND p.session_type = sessions.session_type AND p.table_name = '{table}')")
    op.drop_table('session_parts')
