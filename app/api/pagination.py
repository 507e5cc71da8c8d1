"""Opaque cursors for keyset pagination, bound to their query and checked against its order."""

import base64
import binascii
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request

from app.api.errors import InvalidParameterError
from app.models.common import ID_MAX_CHARACTERS, NAME_MAX_CHARACTERS
from app.services.records import Order, SortKey


def query_fingerprint(params: dict[str, Any], order: Order) -> str:
    """A short hash of the filters and sort, and of the columns of the order they are read in
    and how its values are counted, when that is said (which another release may change for the
    same query), so that a cursor cannot be replayed on another query or order."""
    owner: dict[str, Any] = {"params": params, "order": order.named or order.columns}
    if order.numbering:  # said only of orders whose count changed: other cursors stay good
        owner["numbering"] = order.numbering
    if order.held_as:  # a fact's id for its place: a cursor that held the place is refused
        owner["held_as"] = order.held_as
    canonical = orjson.dumps(owner, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(canonical, digest_size=6).hexdigest()


class InvalidCursorError(InvalidParameterError):
    """A 400 naming the cursor parameter and why it was refused."""

    def __init__(self, reason: str) -> None:
        super().__init__("cursor", reason, slug="invalid-cursor")


SIGNATURE_BYTES = 16


def sign(payload: bytes, secret: bytes) -> bytes:
    return hmac.digest(secret, payload, "sha256")[:SIGNATURE_BYTES]


def encode_cursor(key: SortKey, fingerprint: str, secret: bytes) -> str:
    """The sort key and the query's fingerprint, signed with the deployment's cursor key
    (HMAC-SHA256, cut to 128 bits): a client can read a cursor but not make one."""
    payload = orjson.dumps({"k": list(key), "q": fingerprint})
    raw = sign(payload, secret) + payload
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


JSON_BYTES_PER_CHARACTER = 6
"""The most that one character of a name takes in a cursor, casefolded as a sort name and
written as JSON: a control character escaped (\\u0001), or "ΐ" casefolded to three letters of
two bytes each."""

CURSOR_MAX_CHARACTERS = len(
    encode_cursor(
        ("x" * NAME_MAX_CHARACTERS * JSON_BYTES_PER_CHARACTER, "x" * ID_MAX_CHARACTERS),
        "0" * 12,  # a fingerprint's hex digits (query_fingerprint)
        b"any key",
    )
)
"""The longest cursor this API issues: one in a list sorted by name, after the longest name."""


def decode_cursor(cursor: str, fingerprint: str, order: Order, secret: bytes) -> SortKey:
    """The sort key a cursor holds, refused unless this deployment issued it for this query, and
    (should the key ever leak) unless it has one value of the right type per column of the order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, binascii.Error) as error:
        raise InvalidCursorError("not a cursor this API issued") from error
    signature, payload = raw[:SIGNATURE_BYTES], raw[SIGNATURE_BYTES:]
    if not hmac.compare_digest(signature, sign(payload, secret)):
        raise InvalidCursorError("not a cursor this API issued")
    try:
        decoded = orjson.loads(payload)
        key, owner = decoded["k"], decoded["q"]
        if not isinstance(key, list) or not isinstance(owner, str) or set(decoded) != {"k", "q"}:
            raise TypeError
    except (TypeError, KeyError, orjson.JSONDecodeError) as error:
        raise InvalidCursorError("not a cursor this API issued") from error
    if owner != fingerprint:
        raise InvalidCursorError(
            "it belongs to a query with other filters or sort, or to an order of another "
            "release; start again without it"
        )
    if len(key) != len(order.types) or not all(
        type(value) is expected for value, expected in zip(key, order.types, strict=False)
    ):
        raise InvalidCursorError("not a cursor for this list")
    return tuple(key)


def page_url(request: Request, params: dict[str, Any], cursor: str) -> str:
    """The absolute URL of the page after ``cursor``, on the address the client asked (behind a
    proxy, the scheme and client address the server's trusted proxies forward)."""
    query = {name: value for name, value in params.items() if value is not None}
    return str(request.url.replace(query=urlencode({**query, "cursor": cursor}, doseq=True)))
