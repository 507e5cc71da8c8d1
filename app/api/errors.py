"""Every error as RFC 9457 ``application/problem+json``: type, title, status, detail, instance."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPES = "https://muster.invalid/problems/"
MAX_ECHO = 200  # characters of a bad input repeated back: enough to recognise it, no more


STATUS_KINDS = {
    400: ("bad-request", "Bad Request"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    410: ("gone", "Gone"),
    413: ("request-entity-too-large", "Request Entity Too Large"),
    414: ("request-uri-too-long", "Request-URI Too Long"),
    500: ("internal-server-error", "Internal Server Error"),
    503: ("service-unavailable", "Service Unavailable"),
}
"""The type slug and title of each status Muster answers a problem with, unless the problem
names its own slug. Written out, not taken from ``HTTPStatus``: clients match on ``type``, and
Python 3.13 took RFC 9110's phrases for some statuses (413 "Content Too Large", 414 "URI Too
Long"), which would change these URIs with the Python that serves them. These are the phrases
Python 3.11 gave, which Muster has always answered with."""


def _status_kind(status: int) -> tuple[str, str]:
    """``STATUS_KINDS``' slug and title of ``status``; for one missing from it (a status nothing
    sends yet), ``HTTPStatus``' phrase, as a problem is better than a failure to write one."""
    if status in STATUS_KINDS:
        return STATUS_KINDS[status]
    phrase = HTTPStatus(status).phrase
    return phrase.lower().replace(" ", "-"), phrase


class InvalidParam(BaseModel):
    """A parameter that was refused, and why."""

    name: str = Field(description="The parameter, e.g. limit.")
    reason: str = Field(description="Why its value was refused.")


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, for people and for programs."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    instance: str = Field(description="The path of the request.")
    invalid_params: list[InvalidParam] | None = Field(
        None, description="For a bad parameter: which one and why."
    )
    accepted_params: list[str] | None = Field(
        None, description="For an unknown parameter: the ones this endpoint accepts."
    )


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _status_kind(status)[0]
        self.extra = extra


class InvalidParameterError(ProblemError):
    """A 400 naming one query parameter and why its value was refused."""

    def __init__(self, name: str, reason: str, *, slug: str = "invalid-parameter") -> None:
        super().__init__(
            400, f"{name}: {reason}", slug=slug, invalid_params=[{"name": name, "reason": reason}]
        )


def shorten(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


MAX_NAMED = 10
"""Parameters one problem names at most: enough to spot a typo, while a query of 800 unknown
names (8 KiB) gets a short answer rather than one five times its size."""


def name_some(names: list[str]) -> tuple[list[str], str]:
    """The first ``MAX_NAMED`` of ``names``, each shortened, and them as a detail lists them,
    saying how many more there were: the problem stays small however many the query holds."""
    named = [shorten(name) for name in names[:MAX_NAMED]]
    more = len(names) - len(named)
    return named, ", ".join(named) + (f" and {more} more" if more else "")


RETRY_AFTER_SECONDS = 1
"""How long a 503 asks a client to wait before it asks again (``Retry-After``, which retrying
clients honour): the database is being replaced, reached again or waited on, which a second
usually sees through."""


def problem_response(
    status: int,
    detail: str,
    instance: str,
    *,
    slug: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    kind, title = _status_kind(status)
    body = {
        "type": PROBLEM_TYPES + (slug or kind),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": shorten(instance),
        **{key: value for key, value in extra.items() if value is not None},
    }
    if status == 503:
        headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def accepted_params(route: object) -> list[str]:
    """The query parameters a route takes, by the names a client uses."""
    if not isinstance(route, APIRoute):
        return []
    names = []
    for parameter in route.dependant.query_params:
        model = parameter.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [field.alias or name for name, field in model.model_fields.items()]
        else:
            names.append(parameter.alias)
    return sorted(names)


def _validation_problem(request: Request, error: RequestValidationError) -> Response:
    invalid = []
    unknown = []
    for item in error.errors():
        location = [str(step) for step in item["loc"] if step not in ("query", "path", "header")]
        name = location[0] if location else "request"
        if item["type"] == "extra_forbidden":
            unknown.append(name)
        else:
            invalid.append({"name": name, "reason": shorten(item["msg"])})
    if unknown:
        accepted = accepted_params(request.scope.get("route"))
        named, listed = name_some(unknown)
        return problem_response(
            400,
            f"unknown query parameter{'s' if len(unknown) > 1 else ''}: {listed}; "
            f"accepted: {', '.join(accepted)}",
            request.url.path,
            slug="unknown-parameter",
            invalid_params=[{"name": name, "reason": "unknown parameter"} for name in named],
            accepted_params=accepted,
        )
    return problem_response(
        400,
        "; ".join(f"{item['name']}: {item['reason']}" for item in invalid),
        request.url.path,
        slug="invalid-parameter",
        invalid_params=invalid,
    )


async def _problem_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ProblemError)
    return problem_response(
        error.status, error.detail, request.url.path, slug=error.slug, **error.extra
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if error.status_code != 404 else f"no resource at {request.url.path}"
    headers = error.headers
    if error.status_code == 405 and headers and "GET" in headers.get("Allow", "").split(", "):
        # The edge layer answers HEAD wherever GET is answered, so it is allowed there too.
        headers = {**headers, "Allow": "GET, HEAD"}
        detail = f"{request.method} is not allowed: the API is read-only (GET and HEAD)"
    return problem_response(error.status_code, shorten(detail), request.url.path, headers=headers)


async def _request_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return _validation_problem(request, error)


UNEXPECTED_ERROR = "an unexpected error occurred"
"""The detail of every 500: what went wrong is for the log, not for the client."""


async def _unexpected_error(request: Request, _error: Exception) -> Response:
    return problem_response(500, UNEXPECTED_ERROR, request.url.path)


CLIENT_CLOSED_REQUEST = 499
"""nginx's status for a request whose client went away before the answer: no one reads it, but
the access log says what happened."""


async def _client_gone(_request: Request, _error: Exception) -> Response:
    return Response(status_code=CLIENT_CLOSED_REQUEST)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
