"""telemetry and positions: narrow integer types, no alignment padding, packed key index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The two tables hold nearly every row, and revision 0001 stored FastF1's whole-number
channels as float8 (RPM, Speed, Throttle, X, Y, Z), gear and DRS as int4, the times in
milliseconds as int8, in an order that made PostgreSQL pad between columns. Now: the car
channels smallint, X/Y/Z and the two times integer, fixed-width columns widest first after
the 2-byte keys and the text last, and (PostgreSQL) the primary key's index filled to 100 %
since rows arrive in key order and are never updated (docs/DATA.md, "Storage of
the big tables"). Same primary keys, same names (pk_telemetry, pk_positions).

Column order cannot be changed in place, so each table is rebuilt: renamed, recreated,
rows copied, old table dropped. Before anything changes, every stored value is checked
against its new type: a value that is not a whole number in range stops the migration with
one line naming table, column, value and row, and the database is left as it was (on
SQLite too: the revision runs in one transaction there as well). PostgreSQL: the new table
gets the old one's owner and exactly its grants (default privileges of the owner apply to
the new table, then the old access list is restored), so a loader or a dashboard role
keeps what it had. Downgrade rebuilds the 0001 shape (every value fits the wider types).
"""
import math

from alembic import context, op
import sqlalchemy as sa

from f1db.errors import SchemaError

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

KEY = ('year', 'round_number', 'session_type', 'driver_number', 'sample_index')
PACKED_FILLFACTOR = 100        # PostgreSQL: the primary key index of the new tables
SQLITE_WITHOUT_ROWID = True    # SQLite: the rows live in the primary key's B-tree


def _columns_0001(table: str) -> list[sa.Column]:
    """The table as revision 0001 made it (a revision never imports the models)."""
    head = [sa.Column('year', sa.SmallInteger(), nullable=False),
            sa.Column('round_number', sa.SmallInteger(), nullable=False),
            sa.Column('session_type', sa.String(length=40), nullable=False),
            sa.Column('driver_number', sa.Text(), nullable=False),
            sa.Column('sample_index', sa.Integer(), nullable=False),
            sa.Column('date_utc', sa.DateTime(), nullable=True),
            sa.Column('session_time_ms', sa.BigInteger(), nullable=True),
            sa.Column('time_ms', sa.BigInteger(), nullable=True)]
    if table == 'telemetry':
        return head + [sa.Column('rpm', sa.Float(), nullable=True),
                       sa.Column('speed', sa.Float(), nullable=True),
                       sa.Column('n_gear', sa.Integer(), nullable=True),
                       sa.Column('throttle', sa.Float(), nullable=True),
                       sa.Column('brake', sa.Boolean(), nullable=True),
                       sa.Column('drs', sa.Integer(), nullable=True),
                       sa.Column('source', sa.Text(), nullable=True)]
    return head + [sa.Column('status', sa.Text(), nullable=True),
                   sa.Column('x', sa.Float(), nullable=True),
                   sa.Column('y', sa.Float(), nullable=True),
                   sa.Column('z', sa.Float(), nullable=True),
                   sa.Column('source', sa.Text(), nullable=True)]


def _columns_0004(table: str) -> list[sa.Column]:
    """The new shape: 2-byte keys, then 4/8-byte columns, 2-byte ones, the flag, text last."""
    head = [sa.Column('year', sa.SmallInteger(), nullable=False),
            sa.Column('round_number', sa.SmallInteger(), nullable=False),
            sa.Column('sample_index', sa.Integer(), nullable=False),
            sa.Column('date_utc', sa.DateTime(), nullable=True),
            sa.Column('session_time_ms', sa.Integer(), nullable=True),
            sa.Column('time_ms', sa.Integer(), nullable=True)]
    keys = [sa.Column('session_type', sa.String(length=40), nullable=False),
            sa.Column('driver_number', sa.Text(), nullable=False)]
    if table == 'telemetry':
        return head + [sa.Column(name, sa.SmallInteger(), nullable=True)
                       for name in ('rpm', 'speed', 'n_gear', 'throttle', 'drs')] + [
            sa.Column('brake', sa.Boolean(), nullable=True), *keys,
            sa.Column('source', sa.Text(), nullable=True)]
    return head + [sa.Column(name, sa.Integer(), nullable=True) for name in 'xyz'] + [
        *keys, sa.Column('status', sa.Text(), nullable=True),
        sa.Column('source', sa.Text(), nullable=True)]


# Inclusive ranges of the integer types a column may narrow to.
_RANGES = {sa.SmallInteger: ('smallint', -2**15, 2**15 - 1),
           sa.Integer: ('integer', -2**31, 2**31 - 1)}


def upgrade() -> None:
    _in_one_transaction()
    for table in ('telemetry', 'positions'):
        _refuse_values_that_do_not_fit(table, _columns_0001(table), _columns_0004(table))
    for table in ('telemetry', 'positions'):
        _rebuild(table, _columns_0001(table), _columns_0004(table),
                 fillfactor=PACKED_FILLFACTOR, without_rowid=SQLITE_WITHOUT_ROWID)


def downgrade() -> None:
    _in_one_transaction()
    for table in ('telemetry', 'positions'):
        _rebuild(table, _columns_0004(table), _columns_0001(table), fillfactor=None,
                 without_rowid=False)


def _in_one_transaction() -> None:
    """SQLite: Python's sqlite3 runs DDL outside a transaction unless one is open, so a
    failure halfway would leave a renamed table behind. Open one (PostgreSQL's revisions
    already run in the caller's transaction); whoever holds the connection commits it."""
    if context.is_offline_mode() or op.get_bind().dialect.name != 'sqlite':
        return
    driver = op.get_bind().connection.driver_connection
    if not driver.in_transaction:
        driver.execute('BEGIN')


def _refuse_values_that_do_not_fit(table: str, old: list[sa.Column],
                                   new: list[sa.Column]) -> None:
    """Stop, changing nothing, at the first stored value the new type cannot hold exactly."""
    if context.is_offline_mode():       # `migrate_db.py --sql`: DDL for an empty database
        return
    old_types = {column.name: column.type for column in old}
    narrowed = {}
    for column in new:
        if type(column.type) in _RANGES and type(column.type) is not type(old_types[column.name]):
            narrowed[column.name] = _RANGES[type(column.type)]
    stored = sa.table(table, *[sa.column(column.name) for column in old])
    tests = {}
    for name, (_, low, high) in narrowed.items():
        value = stored.c[name]
        outside = sa.or_(value < low, value > high)
        if isinstance(old_types[name], sa.Float):
            outside = sa.or_(outside, value != sa.func.round(value))
        tests[name] = sa.and_(value.is_not(None), outside)
    query = (sa.select(*[stored.c[name] for name in KEY], *[stored.c[name] for name in tests])
             .where(sa.or_(*tests.values())).limit(1))
    row = op.get_bind().execute(query).mappings().first()
    if row is None:
        return
    for name, (type_name, low, high) in narrowed.items():
        value = row[name]
        if value is not None and not (math.isfinite(value) and low <= value <= high
                                      and value == int(value)):
            break
    raise SchemaError(
        f"Revision 0004 cannot store {table}.{name} as {type_name}: the value {value!r} "
        f"(year {row['year']}, round {row['round_number']}, {row['session_type']}, driver "
        f"{row['driver_number']}, sample {row['sample_index']}) is not a whole number in "
        f"{low}..{high}; nothing was changed: fix or delete that session's rows, then run "
        f"migrate_db.py again")


def _rebuild(table: str, before: list[sa.Column], after: list[sa.Column], *,
             fillfactor: int | None, without_rowid: bool) -> None:
    """Recreate ``table`` from shape ``before`` as ``after`` (same names, new order and
    types), copying its rows; a column whose type changes is cast (values checked first)."""
    dialect = op.get_context().dialect.name
    previous = f'{table}_before_0004'
    op.rename_table(table, previous)
    old = sa.table(previous, *[sa.column(c.name) for c in before])
    if dialect == 'postgresql':
        # The key index is built once after the copy (faster than row by row) and with the
        # fillfactor, which SQLAlchemy cannot render; the old index keeps the name meanwhile.
        new = op.create_table(table, *after)
    else:
        new = op.create_table(table, *after, sa.PrimaryKeyConstraint(*KEY, name=f'pk_{table}'),
                              sqlite_with_rowid=not without_rowid)
    old_types = {c.name: type(c.type) for c in before}
    select = sa.select(*[old.c[c.name] if type(c.type) is old_types[c.name]
                         else sa.cast(old.c[c.name], c.type) for c in after])
    if dialect == 'sqlite':           # key order: a packed B-tree (the old key index reads it)
        select = select.order_by(*[old.c[name] for name in KEY])
    op.execute(sa.insert(new).from_select([c.name for c in after], select))
    if dialect == 'postgresql':
        _keep_owner_and_grants(previous, table)
    op.drop_table(previous)
    if dialect == 'postgresql':
        packing = f' WITH (fillfactor = {fillfactor})' if fillfactor else ''
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY '
                   f'({", ".join(KEY)}){packing}')


def _keep_owner_and_grants(previous: str, table: str) -> None:
    """PostgreSQL: give the new table the old one's owner and exactly its access list.

    Created by whoever migrates, the new table has that role as owner and the owner's
    default privileges. The old owner is put back (a superuser or a member of that role
    migrates), every grant the new table got is revoked, and the old table's grants are
    given again, so no role gains or loses access through the rebuild.
    """
    if context.is_offline_mode():
        return
    bind = op.get_bind()
    owner = bind.execute(sa.text(
        "SELECT quote_ident(pg_get_userbyid(relowner)) FROM pg_class "
        "WHERE oid = CAST(:name AS regclass)"), {"name": previous}).scalar_one()
    op.execute(f'ALTER TABLE {table} OWNER TO {owner}')
    acl = ("SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
           "ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee, a.privilege_type, "
           "a.is_grantable FROM pg_class c, aclexplode(c.relacl) a "
           "WHERE c.oid = CAST(:name AS regclass) AND a.grantee <> c.relowner")
    for grantee in {row.grantee for row in bind.execute(sa.text(acl), {"name": table})}:
        op.execute(f'REVOKE ALL ON {table} FROM {grantee}')
    for row in bind.execute(sa.text(acl), {"name": previous}).all():
        option = ' WITH GRANT OPTION' if row.is_grantable else ''
        op.execute(f'GRANT {row.privilege_type} ON {table} TO {row.grantee}{option}')
