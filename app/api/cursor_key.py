"""The key that signs pagination cursors, in ``app.state.cursor_key``: MUSTER_CURSOR_KEY when it
is set, else the database's own (``app/models/keys.py``), read once, when the app is made.

A load keeps the database's key (on SQLite, in the new file it swaps in too), so the key read at
start stays the one every server of the database signs with: no request reads it again. A
database that cannot tell it yet (not migrated, unreachable) is asked again by the first request
that signs or checks a cursor, until it answers, and that request answers 503 meanwhile.
"""

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
        raise ProblemError(503, NO_KEY, slug="service-unavailable") from error
    if key is None:
        raise ProblemError(503, NO_KEY, slug="service-unavailable")
    return key


class _DatabaseKeyState(State):
    """An app's state whose ``cursor_key``, not read at start, is read when first asked for."""

    def __init__(self, store: DataStore, state: State) -> None:
        super().__init__({**{name: state[name] for name in state}, "_cursor_key_store": store})

    @property
    def cursor_key(self) -> bytes:
        key: bytes | None = self._state.get("cursor_key")
        if key is None:
            key = self["cursor_key"] = _read(self["_cursor_key_store"])
        return key
