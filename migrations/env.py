"""Alembic environment: the URL comes from Muster's settings, the target from its models."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from app.config import get_settings
from app.db import is_sqlite, make_engine
from app.models import tables  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def render_item(type_: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Render SQLModel's string type as plain ``sa.String``, so migrations need only SQLAlchemy."""
    if type_ == "type" and isinstance(item, AutoString):
        return f"sa.String({item.length})" if item.length else "sa.String()"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=is_sqlite(url),  # SQLite can only ALTER a table by copying it
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


with make_engine(url).connect() as connection:
    run_migrations(connection)
