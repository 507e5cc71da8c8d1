"""What the edge's middleware share: ASGI's types, reading a request header, sending a problem."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import problem_response

__all__ = [
    "NO_STORE",
    "ASGIApp",
    "Headers",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "header",
    "send_problem",
    "with_headers",
]

Headers = list[tuple[bytes, bytes]]

# A problem is about one request, which the client mends and sends again: nothing for a cache to
# keep. A short max-age would still let a shared cache answer 404 for a record the next load
# adds (404 is cacheable by default, RFC 9111 4.2.2) and 503 after the database is back.
NO_STORE = b"no-store"


def header(scope: Scope, name: bytes) -> bytes:
    """A request header's value (the first, by its lower-case name), or b"" without one."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with an RFC 9457 problem that no cache keeps."""
    response = problem_response(
        status,
        detail,
        scope["path"],
        headers={"cache-control": NO_STORE.decode(), **(headers or {})},
    )
    await response(scope, receive, send)


def with_headers(send: Send, added: Headers) -> Send:
    """``send`` that adds ``added`` to the response's headers."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *added]
        await send(message)

    return sending
