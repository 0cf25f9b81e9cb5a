"""Schema revisions through Alembic: where the database stands and how to bring it up to date.

Two runs may start together on an empty database (parallel tasks, a cron job and a user).
Whatever changes the schema therefore does it under a schema lock and re-checks where the
database stands once the lock is held: the first run migrates, the others wait, then find
the schema current. PostgreSQL: a transaction-level advisory lock taken in the transaction
that runs the revisions (it needs no privilege, is scoped to the database, ends with the
commit or with the connection, and works behind transaction-pooling proxies); SQLite: a
file lock beside the database file. An up-to-date database never takes the lock.

A careful administrator gives the loader a role that may read and write the tables but not
create any (docs/OPERATIONS.md, "Least privilege"): where that role meets a step it may not
take, the error says which privilege is missing and who must run what.

Every run asks where the schema stands, and nearly always it is current. That answer
needs no Alembic (importing it and the revision files is a good part of a rerun of
stored sessions: docs/BENCHMARKS.md, "Start-up"): the head is read from the revision
files' text, the stored revision with one query. Alembic is imported when something has
to change, or when the revisions are not one plain chain.

Nor does an empty PostgreSQL database need it: it is created by the creation script
(``CREATION_SCRIPTS``: the revisions' own statements, as ``migrate_db.py --sql`` prints
them) in one query, instead of 220-odd statements each waiting for its answer.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from .config import BACKEND_DIR
from .db import Database
from .dialects import dialect_of
from .dialects.sqlstate import INSUFFICIENT_PRIVILEGE, sqlstate
from .errors import LEAST_PRIVILEGE_DOCS, PermissionProblem, SchemaError, first_line
from .models import UNPACKED_TABLES, Base, stored_tables

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

ALEMBIC_INI = BACKEND_DIR / "alembic.ini"       # also what the `alembic` command reads
VERSION_TABLE = "alembic_version"               # Alembic's default; env.py keeps it
# ``revision = '0004'`` / ``down_revision: str | None = None`` at the start of a line; the
# value up to a comment (a '#' inside it makes literal_eval fail: Alembic decides then).
_REVISION_LINE = re.compile(r"^(revision|down_revision)[ \t]*(?::[^=\n]*)?=([^#\n]*)",
                            re.MULTILINE)

SCHEMA_LOCK_TIMEOUT = 300.0     # seconds a run waits for another run's migration

# <dialect>.sql: the schema at the newest revision for an empty database, exactly as
# `migrate_db.py --sql` prints it (tests/test_schema.py keeps it in step with the revisions).
CREATION_SCRIPTS = BACKEND_DIR / "migrations" / "head"
_STAMPED = re.compile(r"version_num='([^']+)'")      # the script's INSERT/UPDATE of the stamp
_OWN_TRANSACTION = ("BEGIN;", "COMMIT;")             # its lines; it runs in the lock's instead


@dataclass(frozen=True)
class SchemaState:
    current: str | None      # revision stored in the database (None: never migrated)
    head: str                # newest revision this code knows
    has_tables: bool         # any of our tables exist
    # Row tables revision 0010 left for migrate_db.py to pack (packed_conversion.py).
    unpacked: tuple[str, ...] = ()

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head and not self.unpacked

    @property
    def packing_left(self) -> bool:
        """At the newest revision, with samples stored before 0010 still to pack."""
        return self.current == self.head and bool(self.unpacked)

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables


def alembic_config(database: Database | None = None) -> Config:
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    if database is not None:
        config.attributes["database"] = database
    return config


def schema_state(database: Database) -> SchemaState:
    with database.engine.connect() as connection:
        return _state(database, connection)


def _state(database: Database, connection: Connection) -> SchemaState:
    head = head_revision()
    try:
        current = _stored_revision(connection)
        existing = set(inspect(connection).get_table_names())
    except DBAPIError as error:
        _raise_if_permission_denied(database, error, "read where the schema stands")
        raise
    return SchemaState(current=current, head=head,
                       has_tables=bool(existing & set(Base.metadata.tables)),
                       unpacked=tuple(name for name in UNPACKED_TABLES if name in existing))


def head_revision() -> str:
    """The newest revision this code knows (Alembic's ``get_current_head()``).

    Read from the revision files' ``revision`` and ``down_revision`` assignments, the
    values Alembic takes from them after importing each one; when they are not a single
    chain of plain literals (a branch, a merge, a computed name), Alembic decides.
    """
    head = _head_of_chain(_revision_files())
    if head is None:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return head


def _revision_files() -> list[Path] | None:
    """The revision files Alembic would read (None: a layout this reader leaves to it)."""
    ini = configparser.ConfigParser(defaults={"here": str(ALEMBIC_INI.parent)})
    if not ini.read(ALEMBIC_INI) or not ini.has_option("alembic", "script_location"):
        return None
    if any(ini.has_option("alembic", option) for option in (
            "version_locations", "sourceless", "recursive_version_locations")):
        return None
    versions = Path(ini.get("alembic", "script_location")) / "versions"
    return sorted(path for path in versions.glob("*.py")
                  if not path.name.startswith((".#", "__init__")))


def _head_of_chain(files: list[Path] | None) -> str | None:
    """The one revision no other revision builds on, if the files form one chain from a
    single root, each assigning ``revision`` and ``down_revision`` once, at the start of a
    line, a literal string (or None for the root's ``down_revision``)."""
    if not files:
        return None
    parent: dict[str, str | None] = {}
    for path in files:
        try:
            found = _REVISION_LINE.findall(path.read_text(encoding="utf-8"))
            values = {name: ast.literal_eval(value.strip()) for name, value in found}
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, TypeError):
            return None                                 # Alembic says what is wrong
        if sorted(name for name, _ in found) != ["down_revision", "revision"]:
            return None                                 # missing, or assigned twice
        revision, down = values["revision"], values["down_revision"]
        if (not isinstance(revision, str) or revision in parent
                or not (down is None or isinstance(down, str))):
            return None
        parent[revision] = down
    heads = set(parent) - set(parent.values())
    if len(heads) != 1:
        return None
    head = revision = heads.pop()
    walked = 0
    while revision in parent and walked < len(parent):      # from the head to the root
        revision, walked = parent[revision], walked + 1
    return head if revision is None and walked == len(parent) else None


def _stored_revision(connection: Connection) -> str | None:
    """What Alembic's ``MigrationContext.get_current_revision()`` answers (None: never
    migrated), in one query; Alembic itself when the table holds several heads (it raises
    its own error then)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    stored = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(stored) > 1:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()
    return stored[0] if stored else None


def upgrade(database: Database) -> tuple[str | None, str]:
    """Migrate to the newest revision, then pack the samples revision 0010 left unpacked;
    returns (revision before, revision after).

    Both are the head when there was nothing to do, also when another run migrated the
    database while this one waited for the schema lock.
    """
    state = schema_state(database)
    before = state.current
    if state.current != state.head:
        with schema_lock(database) as connection:
            state = _state(database, connection)  # another run may have migrated meanwhile
            before = state.current
            if state.current != state.head:
                if state.current is None and state.has_tables:
                    raise SchemaError("The database has F1 tables but no Alembic revision "
                                      "(made by another tool?): drop them or use an empty "
                                      "database, then run migrate_db.py")
                _refuse_newer_revision(state)
                _migrate(database, connection, _may_not_create_message_for_migrate,
                         empty=state.empty)
        state = schema_state(database)
    if state.unpacked:
        from .packed_conversion import convert_unpacked

        convert_unpacked(database, lambda: schema_lock(database))
        state = schema_state(database)
    require_intact_schema(database, state)
    return before, state.current


def upgrade_sql(dialect_url: str) -> str:
    """The DDL that ``upgrade`` would run on an empty database of this dialect (for DBAs)."""
    from alembic import command

    output = io.StringIO()
    config = alembic_config()
    config.attributes["offline_url"] = dialect_url
    config.attributes["sql_output"] = output
    command.upgrade(config, "head", sql=True)
    return output.getvalue()


def require_current_schema(database: Database, *, create_if_empty: bool = True,
                           access: str | None = "write") -> SchemaState:
    """Make sure the schema matches this code, and that this role may use it, before loading.

    An empty database is created on the spot so that ``python populate_db.py`` works with
    no set-up; a database with older revisions is left to ``migrate_db.py``, so upgrades of
    a shared database stay a deliberate step. ``access`` ("write", "read" or None): the
    table privileges the caller needs (``require_privileges``).
    """
    state = schema_state(database)
    if not state.up_to_date:
        with schema_lock(database) as connection:
            state = _current_or_created(database, connection, create_if_empty)
    require_intact_schema(database, state)
    if access is not None:
        require_privileges(database, access)
    return state


def schema_damage(database: Database) -> list[str]:
    """How the tables differ from the models and views of this revision (a table or view
    missing, a column missing), each as a few words; [] when they do not. Columns added by
    hand are no damage: nothing here reads them."""
    from .models import VIEW_NAMES

    with database.engine.connect() as connection:
        found = dialect_of(connection).table_columns(connection)
    damage = []
    for table in Base.metadata.sorted_tables:      # the row views too: same columns
        if table.name not in found:
            damage.append(f"table {table.name} is missing")
            continue
        missing = [column.name for column in table.columns
                   if column.name not in found[table.name]]
        damage += [f"table {table.name} has no column {name}" for name in missing]
    damage += [f"view {name} is missing" for name in VIEW_NAMES if name not in found]
    return damage


def require_intact_schema(database: Database, state: SchemaState) -> None:
    """Refuse (SchemaError) a schema at the newest revision whose tables were changed by
    hand: found before any load, instead of a failure of every session after FastF1's."""
    damage = schema_damage(database)
    if damage:
        more = f" (and {len(damage) - 1} more differences)" if len(damage) > 1 else ""
        raise SchemaError(f"The schema of {database.describe()} is at revision {state.current} "
                          f"but differs from it: {damage[0]}{more}. It was changed by hand, "
                          f"and migrate_db.py cannot repair that: restore the tables from a "
                          f"backup, or load into a new database")


def _current_or_created(database: Database, connection: Connection,
                        create_if_empty: bool) -> SchemaState:
    """Under the schema lock: where the database stands now, creating an empty one."""
    state = _state(database, connection)     # another run may have created it meanwhile
    if state.up_to_date:
        return state
    if state.packing_left:
        raise SchemaError(packing_unfinished(state))
    if state.empty and create_if_empty:
        _migrate(database, connection, _may_not_create_message_for_populate, empty=True)
        return _state(database, connection)
    if state.current is None:
        raise SchemaError("The database has F1 tables that Alembic does not manage: use an "
                          "empty database, or drop those tables and run migrate_db.py")
    _refuse_newer_revision(state)
    raise SchemaError(f"The database schema is behind (revision {state.current}, newest "
                      f"{state.head}): run python migrate_db.py first")


def packing_unfinished(state: SchemaState) -> str:
    """Why a database at the newest revision is not ready yet: samples left to pack."""
    return (f"The telemetry stored before revision 0010 is not packed yet "
            f"({', '.join(state.unpacked)} still holds rows): run python migrate_db.py to "
            f"finish (it goes on where it stopped)")


def _refuse_newer_revision(state: SchemaState) -> None:
    if state.current is not None and state.current not in _known_revisions():
        raise SchemaError(f"The database schema (revision {state.current}) is newer than this "
                          f"code: update the project (git pull) before loading")


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


# -- migrating -----------------------------------------------------------------------------

def creation_script(dialect_name: str) -> str | None:
    """The statements that give an empty database of this dialect the schema at the newest
    revision, stamp included, from its ``CREATION_SCRIPTS`` file without the file's own
    transaction lines; None when there is no such file, or when it stamps another revision
    than the newest (a revision added since: the revisions are replayed instead)."""
    try:
        script = (CREATION_SCRIPTS / f"{dialect_name}.sql").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    stamped, head = _STAMPED.findall(script), head_revision()
    if not stamped or stamped[-1] != head:
        log.debug("%s.sql stamps revision %s, not %s: replaying the revisions", dialect_name,
                  stamped[-1] if stamped else None, head)
        return None
    return "\n".join(line for line in script.splitlines() if line not in _OWN_TRANSACTION)


def _migrate(database: Database, connection: Connection, may_not_create, *,
             empty: bool) -> None:
    """Run the revisions on the locked connection, in its transaction (the lock's holder
    commits); a role that may not create tables is told who must run what.

    An ``empty`` database of a dialect that ``creates_from_script`` gets the creation
    script instead, in one go: the same statements, without Alembic or a round trip each.

    PostgreSQL: CREATE on the schema is checked first, so the usual case (a loader role on
    a database nobody migrated yet) gets its own message; a privilege only the failing
    statement reveals (ALTER on a table another role owns) is reported as PostgreSQL
    words it.
    """
    dialect = dialect_of(connection)
    refused = dialect.may_not_create_tables(connection)
    if refused is not None:
        raise PermissionProblem(may_not_create(*refused))
    script = creation_script(dialect.name) if empty and dialect.creates_from_script else None
    try:
        if script is not None:
            connection.exec_driver_sql(script)       # no parameters: one simple query
        else:
            from alembic import command

            config = alembic_config(database)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as error:
        _raise_if_permission_denied(database, error, "change the schema", migrating=True)
        raise


def _may_not_create_message_for_populate(role: str, schema: str) -> str:
    return (f"The database is empty and role {role} may not create tables in schema "
            f"{schema}: the database owner must run `python migrate_db.py` once "
            f"({LEAST_PRIVILEGE_DOCS})")


def _may_not_create_message_for_migrate(role: str, schema: str) -> str:
    return (f"Role {role} may not create tables in schema {schema}, which migrating needs: "
            f"run `python migrate_db.py` as the database owner, or have the owner "
            f"GRANT CREATE ON SCHEMA {schema} TO {role} ({LEAST_PRIVILEGE_DOCS})")


# -- the schema lock and privileges --------------------------------------------------------

@contextlib.contextmanager
def schema_lock(database: Database, *,
                timeout: float = SCHEMA_LOCK_TIMEOUT) -> Iterator[Connection]:
    """A connection on which this run alone checks and changes the schema; other runs wait
    up to ``timeout``. Committed when the block ends without an error, else rolled back.
    PostgreSQL: an advisory lock in the transaction that runs the revisions (its DDL is
    transactional, so the schema appears all at once); SQLite: ``<file>.schema.lock``."""
    with dialect_of(database.engine).schema_lock(database.engine, database.describe(),
                                                 timeout) as connection:
        yield connection


def require_privileges(database: Database, access: str = "write") -> None:
    """Refuse to start when this role may not read ("read") or also write ("write") every
    table, or may not use a table's id sequence: one line naming the first gap and the grant
    that closes it, instead of a failure halfway through a load. SQLite has no roles."""
    dialect_of(database.engine).require_privileges(database.engine,
                                                   stored_tables(), access)


def _raise_if_permission_denied(database: Database, error: DBAPIError, step: str, *,
                                migrating: bool = False) -> None:
    """PostgreSQL refused a statement for lack of privilege: one line, PostgreSQL's words."""
    if sqlstate(error) != INSUFFICIENT_PRIVILEGE:
        return
    role = _current_role(database)
    who = ("run `python migrate_db.py` as the database owner (the role that owns the tables)"
           if migrating else "have the database owner grant it")
    raise PermissionProblem(f"Role {role} may not {step} ({first_line(error)}): {who} "
                            f"({LEAST_PRIVILEGE_DOCS})") from None


def _current_role(database: Database) -> str:
    """The role of this connection, quoted as a GRANT needs it (a privilege error is
    PostgreSQL's: SQLite has no roles)."""
    from .dialects.postgresql import quoted_role

    try:
        with database.engine.connect() as connection:
            return quoted_role(connection,
                               connection.execute(text("SELECT current_user")).scalar())
    except DBAPIError:
        return "of this connection"
