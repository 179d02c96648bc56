"""Alembic environment, configured programmatically by database.migrate (no alembic.ini).

The connection comes from `config.attributes["connection"]` when database.migrate opens it, or
else from the URL in the config / ONEWINDOW_DATABASE_URL. The target metadata is every model
module listed in database.models.MODEL_MODULES.
"""
from __future__ import annotations

from alembic import context

from database.engine import database_url, get_engine
from database.models import load_models

config = context.config
target_metadata = load_models()


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates tables
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or database_url()
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = get_engine(config.get_main_option("sqlalchemy.url") or database_url())
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
