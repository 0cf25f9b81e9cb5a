"""Alembic environment for the F1 database.

Run three ways, all with the same revisions:
* by f1db.schema (migrate_db.py, populate_db.py on an empty database), which hands over
  its open ``Database`` in ``config.attributes["database"]`` and the connection holding the
  schema lock in ``config.attributes["connection"]``: the revisions run in that
  connection's transaction, which f1db.schema commits (releasing the lock with it);
* by f1db.schema.upgrade_sql (``migrate_db.py --sql``), offline, printing DDL;
* by the ``alembic`` command from backend/ with alembic.ini (writing a new revision), which
  connects the way the scripts do: DATABASE_URL, Cloud SQL variables, .env.
"""

from alembic import context

from f1db.models import Base   # the package requirements.txt installs in place

config = context.config
target_metadata = Base.metadata
if not config.attributes and config.config_file_name:   # the `alembic` command: its logging
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_offline() -> None:
    url = config.attributes.get("offline_url")
    if url is None:                         # `alembic upgrade head --sql`
        from f1db.config import resolve_database

        url = f"{resolve_database().dialect}://"
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"},
                      output_buffer=config.attributes.get("sql_output"))
    with context.begin_transaction():
        context.run_migrations()


def _database():
    """The Database f1db handed over, or one opened from the project's settings."""
    if "database" in config.attributes:
        return config.attributes["database"], False
    from f1db.cli import load_env_files
    from f1db.config import resolve_database
    from f1db.db import open_database

    load_env_files()
    return open_database(resolve_database()), True


def run_migrations_on(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():     # a no-op inside the caller's transaction
        context.run_migrations()


def run_online() -> None:
    if "connection" in config.attributes:
        run_migrations_on(config.attributes["connection"])
        return
    database, opened_here = _database()
    try:
        with database.engine.connect() as connection:
            run_migrations_on(connection)
            connection.commit()
    finally:
        if opened_here:
            database.close()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
