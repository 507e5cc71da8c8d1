"""Representations: JSON by default; CSV or JSON Lines on request (``?format=csv``,
``?format=jsonl``, or the ``Accept`` header)."""

import csv
import io
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

import mimeparse
import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.types import Scope

from app.models.public import Ref


class Format(StrEnum):
    """A representation: JSON, CSV with flat columns, or JSON Lines (one item a line)."""

    json = "json"
    csv = "csv"
    jsonl = "jsonl"


JSONL_MEDIA_TYPE = "application/jsonl"
MEDIA_TYPES = {
    "application/json": Format.json,
    "text/csv": Format.csv,
    JSONL_MEDIA_TYPE: Format.jsonl,
    "application/x-ndjson": Format.jsonl,  # the older name of the same thing
}
# On a tie mimeparse picks the later one: JSON, the default.
_OFFERED = ["application/x-ndjson", JSONL_MEDIA_TYPE, "text/csv", "application/json"]


def negotiate(requested: Format | None, accept: str) -> Format:
    """The explicit ``format`` parameter wins; otherwise the ``Accept`` header's best match by
    its q-values, and JSON when it names neither (or cannot be parsed: no 406 for a sloppy
    client)."""
    if requested is not None:
        return requested
    return _best_match(accept)


@lru_cache(maxsize=256)  # asked on every request, cached or not; clients send few distinct values
def _best_match(accept: str) -> Format:
    if not accept:
        return Format.json
    try:
        # Media types are case-insensitive (RFC 9110 8.3.1); mimeparse compares them as given.
        best = mimeparse.best_match(_OFFERED, accept.lower())
    except ValueError:
        return Format.json
    return MEDIA_TYPES.get(best, Format.json)


def list_header(scope: Scope, name: bytes) -> bytes:
    """A list header's whole value, by its lower-case name: each of its field lines, joined by
    commas, as repeated lines of a list field mean one list (RFC 9110 5.3); b"" without one. Every
    list header the edge reads (``Accept``, ``Accept-Encoding``, ``If-None-Match``) is read here,
    as reading only its first line would drop what a client or proxy split over several."""
    return b", ".join(bytes(value) for key, value in scope["headers"] if key == name)


def weighted_items(value: str) -> list[tuple[str, float]]:
    """The items of a comma-separated header that weighs them with q-values (RFC 9110 12.4.2),
    such as ``Accept-Encoding``: each item lower-cased without its parameters, and its q. An item
    without a q has 1; one whose q is no number from 0 to 1 has 0, as refusing a coding is always
    safe and guessing that a client wants it is not. ``Accept`` is matched by mimeparse, which
    weighs media ranges (wildcards and specificity) but parses nothing else."""
    items = []
    for item in value.split(","):
        name, *parameters = item.split(";")
        name = name.strip().lower()
        if not name:  # a list may hold empty items (RFC 9110 5.6.1)
            continue
        q = 1.0
        for parameter in parameters:
            key, _, number = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(number)
                except ValueError:
                    q = 0.0
                if not 0 <= q <= 1:  # also NaN
                    q = 0.0
        items.append((name, q))
    return items


def requested_format(request: Request, requested: Format | None) -> Format:
    return negotiate(requested, list_header(request.scope, b"accept").decode("latin-1"))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula at the start of a cell (OWASP, CSV injection)."""


def flatten(item: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: a Quantity becomes value/min/max/... columns, a reference its id, a list a
    JSON array of its elements (references as ids), and the citations the JSON array of them,
    beside their count (an item's own, where it counts more than it shows, as a posture total)."""
    row: dict[str, Any] = {}
    for name, value in item.items():
        if name == "citations":
            row["citation_count"] = item.get("citation_count", len(value))
            row["citations"] = orjson.dumps(value).decode()
        elif isinstance(value, dict) and _is_reference(value):
            row[name] = value["id"]
        elif isinstance(value, dict):
            row.update({f"{name}_{key}": inner for key, inner in flatten(value).items()})
        elif isinstance(value, list):
            row[name] = orjson.dumps([_element(element) for element in value]).decode()
        else:
            row[name] = value
    return row


def _element(value: Any) -> Any:
    """A list's element as a cell holds it: a reference by its id; anything else whole (a
    wave's share with its number, a date with its day), with its own references as ids."""
    if isinstance(value, dict):
        if _is_reference(value):
            return value["id"]
        return {key: _element(inner) for key, inner in value.items()}
    return value


def _is_reference(value: dict[str, Any]) -> bool:
    """A ``Ref``: a record's id, name and URL, which a cell names by its id."""
    return "url" in value and "id" in value


def _cell(value: Any) -> Any:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as text, never run
    return value


def csv_columns(model: type[BaseModel]) -> list[str]:
    """The CSV header for a model, the same whatever the rows hold."""
    columns: list[str] = []
    for name, field in model.model_fields.items():
        inner = _unwrap_optional(field.annotation)
        if name == "citations":
            if "citation_count" not in model.model_fields:  # else it is the model's own column
                columns.append("citation_count")
            columns.append("citations")
        elif isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Ref:
            columns += [f"{name}_{column}" for column in csv_columns(inner)]
        else:
            columns.append(name)
    return columns


def _unwrap_optional(annotation: Any) -> Any:
    arguments = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(arguments) == 1:
        return arguments[0]
    return annotation


def to_csv(items: Iterable[dict[str, Any]], columns: list[str], *, header: bool = True) -> bytes:
    """CSV rows of ``items`` in ``columns``, after the header line unless ``header`` is False
    (the later parts of a streamed download)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n"
    )
    if header:
        writer.writeheader()
    for item in items:
        writer.writerow({key: _cell(value) for key, value in flatten(item).items()})
    return buffer.getvalue().encode()


def to_jsonl(documents: Iterable[str | bytes]) -> bytes:
    """JSON Lines: each JSON document (compact, so on one line) followed by a newline."""
    return b"".join(
        (document.encode() if isinstance(document, str) else document) + b"\n"
        for document in documents
    )
