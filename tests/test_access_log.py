"""The access log's lines, gathered per turn of the event loop, all reach the log."""

import asyncio
import logging

import pytest

from app.api.access_log import AccessLog


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "muster.access"]


def test_lines_of_a_loop_that_stopped_before_writing_them_do_not_stop_later_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One application can serve in several event loops in turn (each TestClient block runs its
    # own); a loop closed before its turn ended must not leave the log waiting for it forever.
    caplog.set_level(logging.INFO, logger="muster.access")
    lines = AccessLog()
    first = asyncio.new_event_loop()

    def request_then_stop() -> None:
        lines.add("GET", "/first", 200, 1.0, "first")
        first.stop()  # before the turn that would write the line

    first.call_soon(request_then_stop)
    first.run_forever()
    first.close()

    async def request_then_a_turn() -> None:
        lines.add("GET", "/second", 200, 1.0, "second")
        await asyncio.sleep(0)

    asyncio.run(request_then_a_turn())
    assert any("/second" in line for line in _lines(caplog))


def test_a_line_that_fails_to_log_does_not_drop_the_others_of_its_turn(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="muster.access")
    logger = logging.getLogger("muster.access")
    handle = logger.handle

    def failing_on_bad(record: logging.LogRecord) -> None:
        if "/bad" in record.getMessage():
            raise RuntimeError("a filter that fails")
        handle(record)

    monkeypatch.setattr(logger, "handle", failing_on_bad)
    lines = AccessLog()

    async def three_requests_in_one_turn() -> None:
        for path in ("/before", "/bad", "/after"):
            lines.add("GET", path, 200, 1.0, path)
        await asyncio.sleep(0)

    asyncio.run(three_requests_in_one_turn())
    logged = _lines(caplog)
    assert any("/before" in line for line in logged)
    assert any("/after" in line for line in logged)
