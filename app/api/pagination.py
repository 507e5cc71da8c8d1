"""Keyset pagination over an ordered list, with an opaque cursor bound to its query."""

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson

from app.api.errors import ProblemError

ItemT = TypeVar("ItemT")
SortKey = tuple[Any, ...]


def query_fingerprint(params: dict[str, Any]) -> str:
    """A short hash of the filters and sort, so a cursor cannot be replayed on another query."""
    canonical = orjson.dumps(params, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(canonical, digest_size=6).hexdigest()


class InvalidCursorError(ProblemError):
    """A 400 naming the cursor parameter and why it was refused."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            400,
            f"cursor: {reason}",
            slug="invalid-cursor",
            invalid_params=[{"name": "cursor", "reason": reason}],
        )


def encode_cursor(key: SortKey, fingerprint: str) -> str:
    raw = orjson.dumps({"k": list(key), "q": fingerprint}, default=str)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> SortKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = orjson.loads(raw)
        key, owner = decoded["k"], decoded["q"]
        if not isinstance(key, list) or not isinstance(owner, str):
            raise TypeError
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError) as error:
        raise InvalidCursorError("not a cursor this API issued") from error
    if owner != fingerprint:
        raise InvalidCursorError(
            "it belongs to a query with other filters or sort; start again without it"
        )
    return tuple(key)


def paginate(
    items: Sequence[ItemT],
    *,
    key: Callable[[ItemT], SortKey],
    limit: int,
    cursor: str | None,
    fingerprint: str,
    descending: bool = False,
) -> tuple[list[ItemT], str | None]:
    """The page after ``cursor`` of ``items`` (sorted by ``key``) and the next page's cursor.

    Keys hold strings and numbers only, never None, so that any two compare.
    """
    start = 0
    if cursor is not None:
        after = decode_cursor(cursor, fingerprint)
        keys = [_comparable(key(item)) for item in items]
        try:
            target = _comparable(after)
            start = next(
                (i for i, k in enumerate(keys) if (k < target if descending else k > target)),
                len(items),
            )
        except TypeError as error:
            raise InvalidCursorError("not a cursor for this list") from error
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, encode_cursor(key(page[-1]), fingerprint) if more and page else None


def _comparable(key: SortKey) -> SortKey:
    """Keys as they survive JSON: dates and enums become strings, so both sides compare alike."""
    return tuple(orjson.loads(orjson.dumps(list(key), default=str)))


def page_url(path: str, params: dict[str, Any], cursor: str) -> str:
    query = {name: value for name, value in params.items() if value is not None}
    return f"{path}?{urlencode({**query, 'cursor': cursor}, doseq=True)}"
