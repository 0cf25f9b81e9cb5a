"""initial schema: sessions ledger and eight fact tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 00:51:27.011342
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('laps',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('driver_number', sa.Text(), nullable=False),
    sa.Column('lap_number', sa.Integer(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.Column('driver', sa.Text(), nullable=True),
    sa.Column('lap_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('stint', sa.Integer(), nullable=True),
    sa.Column('pit_out_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('pit_in_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('sector1_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('sector2_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('sector3_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('sector1_session_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('sector2_session_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('sector3_session_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('speed_i1', sa.Float(), nullable=True),
    sa.Column('speed_i2', sa.Float(), nullable=True),
    sa.Column('speed_fl', sa.Float(), nullable=True),
    sa.Column('speed_st', sa.Float(), nullable=True),
    sa.Column('is_personal_best', sa.Boolean(), nullable=True),
    sa.Column('compound', sa.Text(), nullable=True),
    sa.Column('tyre_life', sa.Integer(), nullable=True),
    sa.Column('fresh_tyre', sa.Boolean(), nullable=True),
    sa.Column('team', sa.Text(), nullable=True),
    sa.Column('lap_start_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('lap_start_date_utc', sa.DateTime(), nullable=True),
    sa.Column('track_status', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=True),
    sa.Column('deleted_reason', sa.Text(), nullable=True),
    sa.Column('fast_f1_generated', sa.Boolean(), nullable=True),
    sa.Column('is_accurate', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'driver_number', 'lap_number', name=op.f('pk_laps'))
    )
    op.create_table('positions',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('driver_number', sa.Text(), nullable=False),
    sa.Column('sample_index', sa.Integer(), nullable=False),
    sa.Column('date_utc', sa.DateTime(), nullable=True),
    sa.Column('session_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('x', sa.Float(), nullable=True),
    sa.Column('y', sa.Float(), nullable=True),
    sa.Column('z', sa.Float(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'driver_number', 'sample_index', name=op.f('pk_positions'))
    )
    op.create_table('race_control_messages',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('time_utc', sa.DateTime(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('flag', sa.Text(), nullable=True),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('sector', sa.Integer(), nullable=True),
    sa.Column('racing_number', sa.Text(), nullable=True),
    sa.Column('lap', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'sequence', name=op.f('pk_race_control_messages'))
    )
    op.create_table('results',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('driver_number', sa.Text(), nullable=False),
    sa.Column('broadcast_name', sa.Text(), nullable=True),
    sa.Column('abbreviation', sa.Text(), nullable=True),
    sa.Column('driver_id', sa.Text(), nullable=True),
    sa.Column('team_name', sa.Text(), nullable=True),
    sa.Column('team_color', sa.Text(), nullable=True),
    sa.Column('team_id', sa.Text(), nullable=True),
    sa.Column('first_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=True),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('headshot_url', sa.Text(), nullable=True),
    sa.Column('country_code', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('classified_position', sa.Text(), nullable=True),
    sa.Column('grid_position', sa.Integer(), nullable=True),
    sa.Column('q1_ms', sa.BigInteger(), nullable=True),
    sa.Column('q2_ms', sa.BigInteger(), nullable=True),
    sa.Column('q3_ms', sa.BigInteger(), nullable=True),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('laps', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'driver_number', name=op.f('pk_results'))
    )
    op.create_table('session_status',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'sequence', name=op.f('pk_session_status'))
    )
    op.create_table('sessions',
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
    sa.Column('results_status', sa.String(length=10), nullable=True),
    sa.Column('laps_status', sa.String(length=10), nullable=True),
    sa.Column('weather_status', sa.String(length=10), nullable=True),
    sa.Column('telemetry_status', sa.String(length=10), nullable=True),
    sa.Column('positions_status', sa.String(length=10), nullable=True),
    sa.Column('session_status_status', sa.String(length=10), nullable=True),
    sa.Column('track_status_status', sa.String(length=10), nullable=True),
    sa.Column('race_control_messages_status', sa.String(length=10), nullable=True),
    sa.Column('loaded_at_utc', sa.DateTime(), nullable=False),
    sa.Column('updated_at_utc', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('year', 'round_number', 'session_type', name=op.f('uq_sessions_year'))
    )
    op.create_table('telemetry',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('driver_number', sa.Text(), nullable=False),
    sa.Column('sample_index', sa.Integer(), nullable=False),
    sa.Column('date_utc', sa.DateTime(), nullable=True),
    sa.Column('session_time_ms', sa.BigInteger(), nullable=True),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.Column('rpm', sa.Float(), nullable=True),
    sa.Column('speed', sa.Float(), nullable=True),
    sa.Column('n_gear', sa.Integer(), nullable=True),
    sa.Column('throttle', sa.Float(), nullable=True),
    sa.Column('brake', sa.Boolean(), nullable=True),
    sa.Column('drs', sa.Integer(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'driver_number', 'sample_index', name=op.f('pk_telemetry'))
    )
    op.create_table('track_status',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'sequence', name=op.f('pk_track_status'))
    )
    op.create_table('weather',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=True),
    sa.Column('air_temp', sa.Float(), nullable=True),
    sa.Column('humidity', sa.Float(), nullable=True),
    sa.Column('pressure', sa.Float(), nullable=True),
    sa.Column('rainfall', sa.Boolean(), nullable=True),
    sa.Column('track_temp', sa.Float(), nullable=True),
    sa.Column('wind_direction', sa.Integer(), nullable=True),
    sa.Column('wind_speed', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', 'sequence', name=op.f('pk_weather'))
    )


def downgrade() -> None:
    op.drop_table('weather')
    op.drop_table('track_status')
    op.drop_table('telemetry')
    op.drop_table('sessions')
    op.drop_table('session_status')
    op.drop_table('results')
    op.drop_table('race_control_messages')
    op.drop_table('positions')
    op.drop_table('laps')
