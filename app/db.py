"""Database engines: SQLite by default, PostgreSQL when the URL says so."""

from typing import Any

from sqlalchemy import Connection, Engine, event, make_url
from sqlmodel import create_engine

POSTGRESQL_OPTIONS: dict[str, Any] = {
    # A load replaces the data in one transaction. Under READ COMMITTED, PostgreSQL's default,
    # each statement sees the data as of its own start, so a reader that reads several tables in a
    # transaction could see some from before a load and some from after. REPEATABLE READ gives the
    # whole transaction one snapshot: the old data or the new, never a mix.
    "isolation_level": "REPEATABLE READ",
    # A server's pooled connections outlive a database restart; test them before use.
    "pool_pre_ping": True,
}


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def read_only_sqlite_url(url: str) -> str:
    """The SQLite database at ``url``, opened read-only: never created, never written (not even
    to roll back an interrupted load), and readable from a read-only folder in DELETE journal mode.
    """
    return f"sqlite:///file:{make_url(url).database}?mode=ro&uri=true"


def make_engine(url: str, **options: Any) -> Engine:
    if is_postgresql(url):
        options = POSTGRESQL_OPTIONS | options
    engine = create_engine(url, **options)
    if is_sqlite(url):
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite opens a transaction only before a write, so the SELECTs of one read would each see
    # the data as of their own moment, and a snapshot could mix two loads. Take transactions out
    # of its hands and begin them ourselves (SQLAlchemy's documented recipe for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
