"""The key that signs pagination cursors, in ``app.state.cursor_key``: MUSTER_CURSOR_KEY when it
is set, else the database's own (``app/models/keys.py``), read once, when the app is made.

A load keeps the database's key (on SQLite, in the new file it swaps in too), so the key read at
start stays the one every server of the database signs with: no request reads it again. A
database that cannot tell it yet (not migrated, unreachable) is asked again, in a thread of its
own, by the first list request after, and by each one after until it answers; they answer 503
meanwhile. Never on the event loop, where a database that waits (a writer's lock, a server that
does not answer) would hold up every request.

A server reads the key once: one that is served a file made apart from its database (by another
`muster db upgrade`), moved over the served one, signs with the key it read until it restarts.
"""

import asyncio
import logging
import sqlite3

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import State

from app.api.errors import ProblemError
from app.config import Settings
from app.models.keys import cursor_key
from app.services.store import DataStore

logger = logging.getLogger("muster")

NO_KEY = "the database holds no key for cursors: run `muster db upgrade`"
NOT_READ = "the database's key for cursors cannot be read yet: try again shortly"


def install_cursor_key(api: FastAPI, settings: Settings, store: DataStore) -> None:
    """Give ``api`` its cursor key; call before anything else is put in its state."""
    if settings.cursor_key is not None:
        api.state.cursor_key = settings.cursor_key.get_secret_value().encode()
        return
    state = api.state = _DatabaseKeyState(store, api.state)
    try:
        state["cursor_key"] = _read(store)
    except ProblemError as error:
        logger.info("cursor key not read at start (%s): read at the first cursor", error.detail)
    finally:
        # Closed now, not pooled: the server's connections are the reads' (and are counted so).
        store.engine.dispose()


def _read(store: DataStore) -> bytes:
    try:
        with store.engine.connect() as connection:
            key = cursor_key(connection)
    except (SQLAlchemyError, sqlite3.Error) as error:
        raise ProblemError(503, NOT_READ, slug="service-unavailable") from error
    if key is None:
        raise ProblemError(503, NO_KEY, slug="service-unavailable")
    return key


class _DatabaseKeyState(State):
    """An app's state whose ``cursor_key``, not read at start, is read in a thread once asked
    for: until it is, asking is a 503."""

    def __init__(self, store: DataStore, state: State) -> None:
        super().__init__({**{name: state[name] for name in state}, "_cursor_key_store": store})
        self._reading: asyncio.Future[None] | None = None

    @property
    def cursor_key(self) -> bytes:
        key: bytes | None = self._state.get("cursor_key")
        if key is not None:
            return key
        if self._reading is None or self._reading.done():
            self._reading = asyncio.get_running_loop().run_in_executor(None, self._read_key)
        raise ProblemError(503, NOT_READ, slug="service-unavailable")

    def _read_key(self) -> None:
        try:
            self._state["cursor_key"] = _read(self["_cursor_key_store"])
        except ProblemError as error:
            logger.info("cursor key not read (%s): read again at the next list", error.detail)
