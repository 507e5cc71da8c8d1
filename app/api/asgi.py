"""What the edge's pieces share: ASGI's types and reading a request header."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ASGIApp", "Headers", "Message", "Receive", "Scope", "Send", "header"]

Headers = list[tuple[bytes, bytes]]


def header(scope: Scope, name: bytes) -> bytes:
    """A request header's value (the first, by its lower-case name), or b"" without one."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""
