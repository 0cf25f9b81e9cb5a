"""results and laps: the row's position in FastF1's own frame (``row_order``)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

FastF1 orders ``Session.results`` and ``Session.laps`` by rules that no stored column
reproduces (results sorted by position with ties and NaN positions in timing order, laps
grouped by driver in timing order), and the read side gives a session back exactly as
FastF1 had it. New nullable ``row_order`` columns keep the position; sessions stored
before this revision keep NULL there and are read back in a documented order
(docs/READING.md, "Row order"). Plain ADD/DROP COLUMN: both databases do it in place,
without rebuilding the tables (SQLite 3.35+ drops a column itself).
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ("results", "laps")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("row_order", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN row_order")
