"""Logging for ``muster serve``: to stderr, one JSON object per line (or plain text lines).

A line's structured fields come from the ``fields`` attribute of its record, which the edge layer
sets on each access-log line (``extra={"fields": {...}}``). Either way a logged value, such as a
request's path, cannot end its line or start another: JSON escapes control characters, and the
text format writes them as escapes.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from app.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# No format shows the process id: each record is spared a getpid() system call (4% of the time of
# a cached response, which writes an access-log line).
logging.logProcesses = False


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, its fields, any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


# Every character that could end a text line, start a forged one or reach a terminal as a control
# sequence (C0, DEL, C1, the Unicode line and paragraph separators), as a Python-style escape.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


class TextFormatter(logging.Formatter):
    """A record as one plain line (then its traceback, if any), its message's control characters
    escaped: ``%0a`` in a request's path shows as ``\\n``, not as a line break."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        message = record.message
        if message.isprintable():  # nearly every message: no copy
            return super().formatMessage(record)
        record.message = message.translate(_ESCAPES)
        try:
            return super().formatMessage(record)
        finally:
            record.message = message  # other handlers see the record as it was


def log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` configuration; uvicorn applies it in every worker."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": JsonFormatter},
            "text": {"()": TextFormatter, "format": TEXT_FORMAT},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": settings.log_format,
                "stream": "ext://sys.stderr",
            }
        },
        # uvicorn's loggers and Muster's own have no handler of their own: all reach the root's
        "root": {"level": settings.log_level.upper(), "handlers": ["stderr"]},
    }
