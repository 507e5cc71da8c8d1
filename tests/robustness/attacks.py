"""Hostile HTTP/1.1 clients on raw sockets, each reporting what it saw, and the memory a server
holds: what tests/robustness/test_edge_server.py sends to a real deployment."""

import select
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

HEAD = b"GET /healthz HTTP/1.1\r\nHost: muster\r\n"


@dataclass
class Answer:
    """What came back on a connection: the status (0 if none) and head, and when it ended."""

    status: int
    head: bytes
    body: bytes
    seconds: float

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None


def send_and_read(port: int, chunks: Iterator[bytes], *, timeout: float = 30) -> Answer:
    """Send ``chunks`` (stopping early if the server closes or answers), then read until the
    server closes the connection, or ``timeout`` seconds have passed since the start."""
    started = time.monotonic()
    received = b""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.setblocking(True)
        connection.settimeout(timeout)
        try:
            for chunk in chunks:
                connection.sendall(chunk)
                if _readable(connection):
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        connection.settimeout(max(0.1, timeout - (time.monotonic() - started)))
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    seconds = time.monotonic() - started
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0
    return Answer(status, head, body, seconds)


def _readable(connection: socket.socket) -> bool:
    """Whether the server has answered or closed, without waiting."""
    readable, _, _ = select.select([connection], [], [], 0)
    return bool(readable)


def huge_header(megabytes: int) -> Iterator[bytes]:
    """A request with one header field of ``megabytes`` MB, sent in 64 KiB pieces."""
    yield HEAD + b"X-Filler: "
    piece = b"a" * 65536
    for _ in range(megabytes * 16):
        yield piece
    yield b"\r\n\r\n"


def trickle(pieces: list[bytes], every_seconds: float) -> Iterator[bytes]:
    """``pieces`` one after another, ``every_seconds`` apart (slowloris)."""
    for number, piece in enumerate(pieces):
        if number:
            time.sleep(every_seconds)
        yield piece


def slowloris(header_count: int, every_seconds: float) -> Iterator[bytes]:
    """A request line, then one short header every ``every_seconds``, never the end."""
    return trickle([HEAD, *(b"X-Slow-%d: 1\r\n" % n for n in range(header_count))], every_seconds)


def healthz_seconds(port: int, probes: int = 5) -> float:
    """The median time of ``probes`` requests for /healthz, each on a new connection."""
    times = []
    for _ in range(probes):
        answer = send_and_read(port, iter([HEAD + b"Connection: close\r\n\r\n"]), timeout=30)
        assert answer.status == 200, answer.head
        times.append(answer.seconds)
    return statistics.median(times)


@contextmanager
def pipelining_flood(port: int, connections: int, requests: int, path: bytes) -> Iterator[None]:
    """``connections`` connections that each pipeline ``requests`` GETs of ``path`` and never
    read; they stay open for the block, then go away without reading."""
    request = b"GET %s HTTP/1.1\r\nHost: muster\r\n\r\n" % path
    with ExitStack() as stack:
        for _ in range(connections):
            connection = stack.enter_context(socket.create_connection(("127.0.0.1", port)))
            connection.settimeout(5)
            # The server may stop reading (or hang up) before all is sent: the flood is delivered.
            with suppress(TimeoutError, BrokenPipeError, ConnectionResetError):
                connection.sendall(request * requests)
        yield


def resident_bytes(pids: list[int]) -> int:
    """The resident memory of the processes ``pids`` and all their descendants."""
    total = 0
    for pid in _with_descendants(pids):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _with_descendants(pids: list[int]) -> list[int]:
    found = list(pids)
    for pid in pids:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            found += _with_descendants([int(child) for child in children.read_text().split()])
    return found
