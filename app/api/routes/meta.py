"""The API's front page and its health checks."""

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app import __version__
from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.errors import ProblemError
from app.api.listing import json_response
from app.models.kinds import Kind
from app.services.store import DataStore, DataUnavailableError, Reading

router = APIRouter(tags=["meta"])


class Index(BaseModel):
    """The front page: what this is, which versions, and where everything is."""

    name: str = Field(description="The API's name.", examples=["Muster"])
    version: str = Field(description="The software's version.", examples=["0.1.0"])
    data_version: str | None = Field(
        description="Content hash of the loaded data.", examples=["667d44972a089aa9"]
    )
    links: dict[str, str] = Field(description="Every collection and the docs, by name.")


class Health(BaseModel):
    """The process is up."""

    status: str = Field(description="Always ok: an answer is the news.", examples=["ok"])


class Readiness(Health):
    """The database answers, is migrated and holds data."""

    data_version: str = Field(
        description="Content hash of the loaded data.", examples=["667d44972a089aa9"]
    )


@router.get("/", response_model=Index, dependencies=[CACHED])
async def index(data: DataDep) -> Response:
    """Name, versions, and links to every collection and to the docs."""

    def read(reading: Reading) -> str | None:
        return reading.state.version

    version = await data.read(read)
    links = {kind.value: f"/v1/{kind}" for kind in Kind}
    links |= {name: f"/v1/{name}" for name in ("search", "timeline", "posture", "changes")}
    links |= {"docs": "/docs"}
    links |= {"openapi": "/openapi.json"}
    return json_response(
        {
            "name": "Muster",
            "version": __version__,
            "data_version": version,
            "links": links,
        },
        data.answered_from(),
    )


@router.get("/healthz", response_model=Health)
async def healthz() -> Response:
    """The process is up."""
    return _never_stored(json_response({"status": "ok"}))


@router.get("/readyz", response_model=Readiness, responses={503: {"description": "Not ready"}})
async def readyz(request: Request) -> Response:
    """The database answers, is migrated and holds data; otherwise 503 saying why."""
    store: DataStore = request.app.state.store
    try:
        # In a thread: finding out may wait on the database (DataStore.known says why).
        state = await run_in_threadpool(store.current)
        await run_in_threadpool(store.check_integrity)
    except DataUnavailableError as error:
        raise ProblemError(503, str(error), slug="not-ready") from error
    if state.is_empty:
        raise ProblemError(503, "the database holds no data: run `muster load`", slug="not-ready")
    return _never_stored(json_response({"status": "ok", "data_version": state.version}))


def _never_stored(response: Response) -> Response:
    """A probe asks about now: a shared cache that kept "ready" would answer it after the data
    failed. A response that sets its own Cache-Control gets no ETag from the edge either."""
    response.headers["Cache-Control"] = "no-store"
    return response
