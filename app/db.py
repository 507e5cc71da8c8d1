"""Database engines: SQLite by default, PostgreSQL when the URL says so."""

from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import create_engine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **options: Any) -> Engine:
    engine = create_engine(url, **options)
    if is_sqlite(url):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
