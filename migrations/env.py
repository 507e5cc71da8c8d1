"""Alembic environment: the target comes from Muster's models, the database from the caller.

``app.migrate`` passes the connection to migrate through (on PostgreSQL it holds the migration
lock); without one, the URL comes from the configuration or from Muster's settings.
"""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from app.config import get_settings
from app.db import make_engine
from app.models import keys, tables  # noqa: F401  (registers every table on SQLModel.metadata)
from app.services.search import include_in_autogenerate

config = context.config


def render_item(type_: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Render SQLModel's string type as plain ``sa.String``, so migrations need only SQLAlchemy."""
    if type_ == "type" and isinstance(item, AutoString):
        return f"sa.String({item.length})" if item.length else "sa.String()"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite can only ALTER a table by copying it
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_in_autogenerate,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


given: Connection | None = config.attributes.get("connection")
if given is not None:
    run_migrations(given)
else:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()
