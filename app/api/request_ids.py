"""A request id for every request: the client's own when it is sane, else a new one.

asgi-correlation-id's middleware does the work (create_app sets it up with the two functions
here); it keeps the id in a context variable, where the access log reads it.
"""

import itertools
import os
import re

from asgi_correlation_id import correlation_id

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_sane(incoming: str) -> bool:
    """Whether a client's id is one a log line can hold as it is."""
    return REQUEST_ID.fullmatch(incoming) is not None


class RequestIds:
    """Ids for requests that bring none: 32 hex digits like ``uuid4().hex``, a random prefix and a
    counter, so that a request costs no system call (``os.urandom`` took a twentieth of the time
    of a cached response). A forked child starts a prefix of its own, never its parent's ids."""

    def __init__(self) -> None:
        self._restart()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self._prefix = os.urandom(10).hex()
        self._numbers = itertools.count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._numbers):012x}"


new_request_id = RequestIds().new  # one per process, so one fork hook


def current_request_id() -> str:
    """The id of the request being answered."""
    return correlation_id.get() or ""
