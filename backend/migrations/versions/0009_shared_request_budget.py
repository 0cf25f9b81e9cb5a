"""request_budget: the request budget shared by every process writing to a PostgreSQL database

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

One row per request to FastF1's servers made in the last hour, by any process or task
writing to this database: its time (the server's clock, seconds since the epoch) and
whether it went to Jolpica (sources/budget_db.py). PostgreSQL only: a SQLite target keeps
the budget in the file beside the FastF1 cache, as before. ``IF NOT EXISTS``: a run whose
first requests come before the schema step creates the same table itself, with the same
statement.
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE TABLE IF NOT EXISTS request_budget "
               "(at double precision NOT NULL, jolpica boolean NOT NULL)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_request_budget_at ON request_budget (at)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS request_budget")
