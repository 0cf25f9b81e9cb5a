"""telemetry and positions: samples stored packed in chunk tables, the row tables become views

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

Car data and positions are 99 % of the rows. Their samples now live in
``telemetry_chunks`` and ``positions_chunks``: one row per driver and run of up to 512
samples, each whole-number column as a base and little-endian offsets of 0-8 bytes
(f1db/packing.py says how; docs/DATA.md, "Storage of the big tables"). ``telemetry`` and
``positions`` become views with the same columns and types as the tables they replace,
decoding the chunks in plain SQL (``sample_numbers`` holds 0..511 for the samples'
places), so existing queries keep working on both databases.

Converting stored samples is not done here: packing needs the project's code and a
database of years of telemetry needs hours, so it must be resumable. A table holding rows
is renamed ``<table>_unpacked``; ``migrate_db.py`` then packs it one session per
transaction (f1db/packed_conversion.py) and drops it when it is empty. Until then loads
and reads refuse with a line saying to run migrate_db.py. An empty table is simply dropped.
On PostgreSQL every new table and view gets the old table's owner and grants.

Downgrade writes the rows back into tables of revision 0004's shape (the views decode
them), in one transaction.
"""
from alembic import context, op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

CHUNK_SAMPLES = 512
PACKED_FILLFACTOR = 100
ROW_KEY = ('year', 'round_number', 'session_type', 'driver_number', 'sample_index')
CHUNK_KEY = ('year', 'round_number', 'session_type', 'driver_number', 'first_sample')
# Each table's columns as revision 0004 left them: (name, PostgreSQL type) in order, the
# whole-number columns stored packed, and the text columns kept once a chunk.
ROW_COLUMNS = {
    'telemetry': (('year', 'smallint'), ('round_number', 'smallint'),
                  ('sample_index', 'integer'), ('date_utc', 'timestamp'),
                  ('session_time_ms', 'integer'), ('time_ms', 'integer'),
                  ('rpm', 'smallint'), ('speed', 'smallint'), ('n_gear', 'smallint'),
                  ('throttle', 'smallint'), ('drs', 'smallint'), ('brake', 'boolean'),
                  ('session_type', 'varchar(40)'), ('driver_number', 'text'),
                  ('source', 'text')),
    'positions': (('year', 'smallint'), ('round_number', 'smallint'),
                  ('sample_index', 'integer'), ('date_utc', 'timestamp'),
                  ('session_time_ms', 'integer'), ('time_ms', 'integer'), ('x', 'integer'),
                  ('y', 'integer'), ('z', 'integer'), ('session_type', 'varchar(40)'),
                  ('driver_number', 'text'), ('status', 'text'), ('source', 'text')),
}
TEXTS = {'telemetry': ('source',), 'positions': ('status', 'source')}
# Stored relative to another column (truncated integer division of the reference).
RELATIVE_TO = {'session_time_ms': ('date_utc', 1000), 'time_ms': ('session_time_ms', 1)}
_NOT_PACKED = {'year', 'round_number', 'session_type', 'driver_number', 'sample_index'}


def _numbers(table: str) -> list[str]:
    return [name for name, _ in ROW_COLUMNS[table]
            if name not in _NOT_PACKED and name not in TEXTS[table]]


def _types(table: str) -> dict[str, str]:
    return dict(ROW_COLUMNS[table])


# -- upgrade -------------------------------------------------------------------------------

def upgrade() -> None:
    _in_one_transaction()
    dialect = op.get_context().dialect.name
    op.create_table('sample_numbers', sa.Column('i', sa.SmallInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('i', name='pk_sample_numbers'))
    op.execute(f'INSERT INTO sample_numbers (i) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL '
               f'SELECT i + 1 FROM n WHERE i < {CHUNK_SAMPLES - 1}) SELECT i FROM n')
    for table in ROW_COLUMNS:
        chunks = f'{table}_chunks'
        _create_chunk_table(table, dialect)
        if _holds_rows(table):
            op.rename_table(table, f'{table}_unpacked')
            if dialect == 'postgresql':
                op.execute(f'ALTER TABLE {table}_unpacked RENAME CONSTRAINT pk_{table} '
                           f'TO pk_{table}_unpacked')
            previous = f'{table}_unpacked'
        else:
            previous = table
        if dialect == 'postgresql':
            _keep_owner_and_grants(previous, chunks, 'TABLE')
            if table == 'telemetry':
                _keep_owner_and_grants(previous, 'sample_numbers', 'TABLE')
        view = _view_sql(table, dialect)
        if previous == table:
            op.drop_table(table)
        op.execute(f'CREATE VIEW {table} AS {view}')
        if dialect == 'postgresql':
            _keep_owner_and_grants(previous, table, 'VIEW')


def _holds_rows(table: str) -> bool:
    if context.is_offline_mode():        # `migrate_db.py --sql`: DDL for an empty database
        return False
    return op.get_bind().execute(sa.text(f'SELECT 1 FROM {table} LIMIT 1')).first() is not None


def _create_chunk_table(table: str, dialect: str) -> None:
    types = _types(table)
    numbers = _numbers(table)
    columns = [sa.Column('year', sa.SmallInteger(), nullable=False),
               sa.Column('round_number', sa.SmallInteger(), nullable=False),
               sa.Column('first_sample', sa.Integer(), nullable=False),
               sa.Column('samples', sa.SmallInteger(), nullable=False),
               sa.Column('start_ms', sa.Integer(), nullable=True),
               sa.Column('end_ms', sa.Integer(), nullable=True),
               *[sa.Column(f'{name}_base', sa.BigInteger(), nullable=True) for name in numbers],
               sa.Column('session_type', sa.String(length=40), nullable=False),
               sa.Column('driver_number', sa.Text(), nullable=False),
               *[sa.Column(name, sa.Text(), nullable=True) for name in TEXTS[table]],
               *[sa.Column(name, sa.LargeBinary(), nullable=False) for name in numbers]]
    assert set(types) - set(numbers) - set(TEXTS[table]) == _NOT_PACKED
    op.create_table(f'{table}_chunks', *columns,
                    sa.PrimaryKeyConstraint(*CHUNK_KEY, name=f'pk_{table}_chunks'))
    if dialect == 'postgresql':
        op.execute(f'ALTER INDEX pk_{table}_chunks SET (fillfactor = {PACKED_FILLFACTOR})')


def _byte(dialect: str, blob: str, index: str) -> str:
    """Byte ``index`` (0-based) of ``blob`` as an integer. SQLite has no byte function: the
    byte's place in a blob of all 256 byte values is its value plus one."""
    if dialect == 'postgresql':
        return f'get_byte({blob}, {index})::bigint'
    every_byte = ''.join(f'{value:02X}' for value in range(256))
    return f"(instr(X'{every_byte}', substr({blob}, {index} + 1, 1)) - 1)"


def _offset(dialect: str, blob: str) -> str:
    """The sample's offset in ``blob`` (c.<column>), NULL where it is the all-ones value
    that means NULL, for each width the chunk may use (bytes / samples)."""
    cases = []
    for width, null in ((1, '255'), (2, '65535'), (4, '4294967295'), (8, '-1')):
        # Every shift in parentheses: both databases give << and | one precedence.
        terms = [f'({_byte(dialect, blob, f"n.i * {width} + {k}")} << {8 * k})' if k
                 else _byte(dialect, blob, f'n.i * {width}') for k in range(width)]
        cases.append(f'WHEN {width} THEN NULLIF({" | ".join(terms)}, {null})')
    return f'CASE length({blob}) / c.samples WHEN 0 THEN 0 {" ".join(cases)} END'


def _view_sql(table: str, dialect: str) -> str:
    """The rows of ``<table>_chunks``: an inner query decodes each column's stored value
    (base + offset), the outer one adds references back and gives each column its type."""
    numbers = _numbers(table)
    inner = ', '.join(
        ['c.year', 'c.round_number', 'c.session_type', 'c.driver_number',
         'c.first_sample + n.i AS sample_index',
         *[f'c.{name}_base + {_offset(dialect, "c." + name)} AS {name}' for name in numbers],
         *[f'c.{name}' for name in TEXTS[table]]])
    absolute = {}
    for name in numbers:
        value = f'd.{name}'
        if name in RELATIVE_TO:
            reference, divisor = RELATIVE_TO[name]
            value = f'({value} + COALESCE({absolute[reference]} / {divisor}, 0))'
        absolute[name] = value
    outer = []
    for name, sql_type in ROW_COLUMNS[table]:
        value = absolute.get(name, f'd.{name}')
        if name == 'sample_index':
            value = 'd.sample_index'
        if sql_type == 'timestamp':
            value = _timestamp(dialect, value)
        elif sql_type == 'boolean':
            value = f'({value} = 1)' if dialect == 'postgresql' else value
        elif dialect == 'postgresql' and name in numbers:
            value = f'CAST({value} AS {sql_type})'
        outer.append(f'{value} AS {name}')
    return (f'SELECT {", ".join(outer)} FROM (SELECT {inner} FROM {table}_chunks c '
            f'JOIN sample_numbers n ON n.i < c.samples) d')


def _timestamp(dialect: str, micros: str) -> str:
    """Microseconds since 1970 as the column's timestamp: PostgreSQL's type, SQLite's text
    as SQLAlchemy stores it (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    if dialect == 'postgresql':
        return f"(TIMESTAMP '1970-01-01 00:00:00' + {micros} * INTERVAL '1 microsecond')"
    return (f"(strftime('%Y-%m-%d %H:%M:%S', {micros} / 1000000, 'unixepoch') || '.' || "
            f"substr('00000' || ({micros} % 1000000), -6))")


# -- downgrade -----------------------------------------------------------------------------

def downgrade() -> None:
    _in_one_transaction()
    dialect = op.get_context().dialect.name
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ROW_COLUMNS:
        rows = f'{table}_rows'
        columns = [sa.Column(name, _sa_type(sql_type), nullable=name not in ROW_KEY)
                   for name, sql_type in ROW_COLUMNS[table]]
        if dialect == 'postgresql':
            op.create_table(rows, *columns)
        else:
            op.create_table(rows, *columns, sa.PrimaryKeyConstraint(*ROW_KEY, name=f'pk_{table}'),
                            sqlite_with_rowid=False)
        names = ', '.join(name for name, _ in ROW_COLUMNS[table])
        op.execute(f'INSERT INTO {rows} ({names}) SELECT {names} FROM {table} '
                   f'ORDER BY {", ".join(ROW_KEY)}')
        if f'{table}_unpacked' in existing:
            op.execute(f'INSERT INTO {rows} ({names}) SELECT {names} FROM {table}_unpacked')
        if dialect == 'postgresql':
            _keep_owner_and_grants(table, rows, 'TABLE')
        op.execute(f'DROP VIEW {table}')
        if f'{table}_unpacked' in existing:
            op.drop_table(f'{table}_unpacked')
        op.rename_table(rows, table)
        if dialect == 'postgresql':
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY '
                       f'({", ".join(ROW_KEY)}) WITH (fillfactor = {PACKED_FILLFACTOR})')
        op.drop_table(f'{table}_chunks')
    op.drop_table('sample_numbers')


def _sa_type(sql_type: str):
    return {'smallint': sa.SmallInteger(), 'integer': sa.Integer(),
            'timestamp': sa.DateTime(), 'boolean': sa.Boolean(), 'text': sa.Text(),
            'varchar(40)': sa.String(length=40)}[sql_type]


# -- both ----------------------------------------------------------------------------------

def _in_one_transaction() -> None:
    """SQLite: Python's sqlite3 runs DDL outside a transaction unless one is open; open one
    so a failure halfway changes nothing (PostgreSQL's revisions run in the caller's)."""
    if context.is_offline_mode() or op.get_bind().dialect.name != 'sqlite':
        return
    driver = op.get_bind().connection.driver_connection
    if not driver.in_transaction:
        driver.execute('BEGIN')


def _keep_owner_and_grants(previous: str, new: str, kind: str) -> None:
    """PostgreSQL: give ``new`` (a TABLE or VIEW) the owner and exactly the access list of
    ``previous``, so no role gains or loses access through the revision."""
    if context.is_offline_mode():
        return
    bind = op.get_bind()
    owner = bind.execute(sa.text(
        "SELECT quote_ident(pg_get_userbyid(relowner)) FROM pg_class "
        "WHERE oid = CAST(:name AS regclass)"), {"name": previous}).scalar_one()
    op.execute(f'ALTER {kind} {new} OWNER TO {owner}')
    acl = ("SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
           "ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee, a.privilege_type, "
           "a.is_grantable FROM pg_class c, aclexplode(c.relacl) a "
           "WHERE c.oid = CAST(:name AS regclass) AND a.grantee <> c.relowner")
    for grantee in {row.grantee for row in bind.execute(sa.text(acl), {"name": new})}:
        op.execute(f'REVOKE ALL ON {new} FROM {grantee}')
    for row in bind.execute(sa.text(acl), {"name": previous}).all():
        option = ' WITH GRANT OPTION' if row.is_grantable else ''
        op.execute(f'GRANT {row.privilege_type} ON {new} TO {row.grantee}{option}')
