"""A request id for every request: the client's own when it is sane, else a new one."""

import itertools
import os
import re

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


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


_ids = RequestIds()  # one per process, so one fork hook


def request_id(incoming: bytes) -> str:
    """The id a client sent, if it is one a log line can hold as it is; otherwise a new one."""
    text = incoming.decode("latin-1")
    return text if REQUEST_ID.match(text) else _ids.new()
