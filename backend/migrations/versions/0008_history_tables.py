"""history tables: Jolpica's Formula 1 history since 1950 in the Ergast API's shape

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

New tables only (nothing existing changes): drivers, constructors and circuits shared by
every round, and per round (year, round_number) the race, its results, sprint results,
qualifying, lap times, pit stops and the standings after it (docs/DATA.md, "History
tables"). ``history_races`` also says where a round's rows came from (the dump or the API,
the dump's date) and their digest, so a rerun stores only rounds that changed.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _result_columns() -> list:
    """The columns of a race result and of a sprint result (the same)."""
    return [
        sa.Column('year', sa.SmallInteger(), nullable=False),
        sa.Column('round_number', sa.SmallInteger(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('position_text', sa.Text(), nullable=True),
        sa.Column('car_number', sa.Integer(), nullable=True),
        sa.Column('driver_id', sa.Text(), nullable=True),
        sa.Column('constructor_id', sa.Text(), nullable=True),
        sa.Column('grid', sa.Integer(), nullable=True),
        sa.Column('laps', sa.Integer(), nullable=True),
        sa.Column('status', sa.Text(), nullable=True),
        sa.Column('points', sa.Float(), nullable=True),
        sa.Column('time_ms', sa.BigInteger(), nullable=True),
        sa.Column('fastest_lap_rank', sa.Integer(), nullable=True),
        sa.Column('fastest_lap_number', sa.Integer(), nullable=True),
        sa.Column('fastest_lap_time_ms', sa.BigInteger(), nullable=True),
        sa.Column('fastest_lap_average_speed_kph', sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table('history_circuits',
    sa.Column('circuit_id', sa.Text(), nullable=False),
    sa.Column('circuit_name', sa.Text(), nullable=True),
    sa.Column('locality', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('circuit_id', name=op.f('pk_history_circuits'))
    )
    op.create_table('history_constructor_standings',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('constructor_id', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('position_text', sa.Text(), nullable=True),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('wins', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'constructor_id', name=op.f('pk_history_constructor_standings'))
    )
    op.create_table('history_constructors',
    sa.Column('constructor_id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('nationality', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('constructor_id', name=op.f('pk_history_constructors'))
    )
    op.create_table('history_driver_standings',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('driver_id', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('position_text', sa.Text(), nullable=True),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('wins', sa.Integer(), nullable=True),
    sa.Column('constructor_ids', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'driver_id', name=op.f('pk_history_driver_standings'))
    )
    op.create_table('history_drivers',
    sa.Column('driver_id', sa.Text(), nullable=False),
    sa.Column('code', sa.Text(), nullable=True),
    sa.Column('permanent_number', sa.Integer(), nullable=True),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('nationality', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('driver_id', name=op.f('pk_history_drivers'))
    )
    op.create_table('history_lap_times',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('driver_id', sa.Text(), nullable=False),
    sa.Column('lap_number', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'driver_id', 'lap_number', name=op.f('pk_history_lap_times'))
    )
    op.create_table('history_pit_stops',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('driver_id', sa.Text(), nullable=False),
    sa.Column('stop', sa.Integer(), nullable=False),
    sa.Column('lap_number', sa.Integer(), nullable=True),
    sa.Column('local_time', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'driver_id', 'stop', name=op.f('pk_history_pit_stops'))
    )
    op.create_table('history_qualifying',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('car_number', sa.Integer(), nullable=True),
    sa.Column('driver_id', sa.Text(), nullable=True),
    sa.Column('constructor_id', sa.Text(), nullable=True),
    sa.Column('q1_ms', sa.BigInteger(), nullable=True),
    sa.Column('q2_ms', sa.BigInteger(), nullable=True),
    sa.Column('q3_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'position', name=op.f('pk_history_qualifying'))
    )
    op.create_table('history_races',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('race_name', sa.Text(), nullable=True),
    sa.Column('circuit_id', sa.Text(), nullable=True),
    sa.Column('race_date', sa.Date(), nullable=True),
    sa.Column('race_time_utc', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('dump_date', sa.Date(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('stored_at_utc', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'round_number', name=op.f('pk_history_races'))
    )
    for table in ("history_results", "history_sprint_results"):
        op.create_table(table, *_result_columns(),
                        sa.PrimaryKeyConstraint('year', 'round_number', 'position',
                                                name=op.f(f'pk_{table}')))


def downgrade() -> None:
    op.drop_table('history_sprint_results')
    op.drop_table('history_results')
    op.drop_table('history_races')
    op.drop_table('history_qualifying')
    op.drop_table('history_pit_stops')
    op.drop_table('history_lap_times')
    op.drop_table('history_drivers')
    op.drop_table('history_driver_standings')
    op.drop_table('history_constructors')
    op.drop_table('history_constructor_standings')
    op.drop_table('history_circuits')
