"""session_failures: why a session that is not stored last failed (for --plan)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

A failed session is rolled back, so until now nothing said, between runs, that it had
failed or why. ``session_failures`` keeps the last reason per session until a run stores it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('session_failures',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('round_number', sa.SmallInteger(), nullable=False),
    sa.Column('session_type', sa.String(length=40), nullable=False),
    sa.Column('event_name', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('failed_runs', sa.Integer(), nullable=False),
    sa.Column('failed_at_utc', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'round_number', 'session_type', name=op.f('pk_session_failures'))
    )


def downgrade() -> None:
    op.drop_table('session_failures')
