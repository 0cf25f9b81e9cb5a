"""Alembic environment: runs on the connection of the Database object f1db passes in."""

from alembic import context

from f1db.models import Base

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(url=config.attributes["offline_url"], target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"},
                      output_buffer=config.attributes["sql_output"])
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    database = config.attributes["database"]
    with database.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
