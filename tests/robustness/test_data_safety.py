"""The server never writes the data, and a load while it serves is atomic for every reader."""

import asyncio
import hashlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.middleware import Middleware

from app.config import Settings
from app.db import make_engine
from app.ingest.check import Dataset, read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import facts_file, fill

RELOADS = 20
READERS = 4
# A word of the changed statement that no seed record holds, so that search finds it only there.
MARKER = "zyzzogeton"


def test_the_server_cannot_write_its_sqlite_database(seed_url: str) -> None:
    engine = create_app(Settings(database_url=seed_url)).api.state.store.engine
    with pytest.raises(OperationalError, match="readonly"), engine.begin() as connection:
        connection.execute(text("DELETE FROM facts"))


def test_serving_leaves_the_database_file_as_it_was(tmp_path: Path, seed_url: str) -> None:
    database = tmp_path / "muster.db"
    shutil.copy2(seed_url.removeprefix("sqlite:///"), database)
    before = (hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns)
    with serving(Settings(database_url=f"sqlite:///{database}")) as client:
        for path in ["/", "/readyz", "/v1/forces", "/v1/facts?q=marines", "/v1/search?q=guard"]:
            assert client.get(path).status_code == 200, path
    after = (hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns)
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["muster.db"]  # no journal left either


@dataclass(frozen=True)
class Version:
    """One of the two datasets the test switches between, and how a response shows it."""

    dataset: Dataset
    statement: str

    @property
    def name(self) -> str:
        return self.dataset.version


@pytest.fixture
def versions(seed_copy: Path) -> tuple[Version, Version]:
    """The seed data, and a copy of it in which one fact says something else."""
    path = facts_file(seed_copy / ARTICLE_BUNDLE)
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    original = facts[0]["statement"]
    facts[0]["statement"] = f"{original} ({MARKER})"
    path.write_text(yaml.safe_dump(facts, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return (
        Version(read_dataset(SEED_DATA), original),
        Version(read_dataset(seed_copy), facts[0]["statement"]),
    )


def test_a_load_while_serving_is_atomic_for_readers(
    database_url: str, versions: tuple[Version, Version]
) -> None:
    old, new = versions
    fact_id = next(old.dataset.read("facts")).record.id
    engine = make_engine(database_url)
    load_dataset(engine, old.dataset)
    by_name = {old.name: old, new.name: new}

    def agrees(response: httpx.Response) -> bool:
        """Whether the body is of the data version the header names: never a mix."""
        version = by_name[response.headers["x-data-version"]]
        body = response.json()
        if response.url.path.startswith("/v1/search"):
            return any(hit["id"] == fact_id for hit in body["data"]) == (version is new)
        statements = [body["statement"]] if "statement" in body else []
        statements += [item["statement"] for item in body.get("data", [])]
        return version.statement in statements

    paths = [f"/v1/facts/{fact_id}", "/v1/facts?limit=200", f"/v1/search?q={MARKER}"]
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def read(base_url: str) -> None:
        nonlocal answered
        with httpx.Client(base_url=base_url) as client:
            while not stop.is_set():
                for path in paths:
                    response = client.get(path)
                    answered += 1
                    if response.status_code != 200:
                        failures.append(f"{path}: {response.status_code} {response.text[:200]}")
                    elif not agrees(response):
                        failures.append(f"{path}: body not of {response.headers['x-data-version']}")

    settings = Settings(database_url=database_url, version_poll_seconds=0)
    with running(settings) as base_url, httpx.Client(base_url=base_url) as checker:
        readers = [threading.Thread(target=read, args=(base_url,)) for _ in range(READERS)]
        for reader in readers:
            reader.start()
        old_etag = checker.get(paths[0]).headers["etag"]
        etags: dict[str, set[str]] = {old.name: {old_etag}, new.name: set()}
        try:
            for reload in range(RELOADS):
                loaded = new if reload % 2 == 0 else old
                load_dataset(engine, loaded.dataset)
                # The first request after the load returns sees the new data, cached or not.
                response = checker.get(paths[0])
                assert response.headers["x-data-version"] == loaded.name
                assert response.json()["statement"] == loaded.statement
                etags[loaded.name].add(response.headers["etag"])
                revalidated = checker.get(paths[0], headers={"If-None-Match": old_etag})
                assert revalidated.status_code == (304 if loaded is old else 200)
        finally:
            stop.set()
            for reader in readers:
                reader.join()
    engine.dispose()
    assert failures == []
    assert answered > RELOADS * len(paths)
    # A version's ETag is the same each time it is loaded, and differs from the other's.
    assert len(etags[old.name]) == len(etags[new.name]) == 1
    assert etags[old.name] != etags[new.name]


def test_an_answer_from_before_a_load_is_not_cached_as_the_new_one(
    tmp_path: Path, versions: tuple[Version, Version]
) -> None:
    """A request answered from the old version while a load switched to the new one (the app
    was slow) must not leave its answer in the cache for the new version's requests."""
    old, new = versions
    url = f"sqlite:///{tmp_path / 'muster.db'}"
    fill(url)
    edge = create_app(Settings(database_url=url))
    fact_id = next(old.dataset.read("facts")).record.id
    fact_path = f"/v1/facts/{fact_id}".encode()
    answered, release = asyncio.Event(), asyncio.Event()
    calls = 0

    def slow_first_call(inner: Any) -> Any:
        """Routes whose first answer is read, then held back until a load has committed."""

        async def routes(scope: Any, receive: Any, send: Any) -> None:
            nonlocal calls
            calls += 1
            if calls > 1:
                await inner(scope, receive, send)
                return
            held: list[Any] = []

            async def hold(message: Any) -> None:
                held.append(message)

            await inner(scope, receive, hold)
            answered.set()
            await release.wait()
            for message in held:
                await send(message)

        return routes

    edge.api.user_middleware.append(Middleware(slow_first_call))  # the innermost, by the routes

    async def get() -> str:
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()  # the client stays until it has its answer
            raise AssertionError("unreachable")

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": fact_path.decode(),
            "raw_path": fact_path,
            "query_string": b"",
            "headers": [],
        }
        await edge(scope, receive, send)
        version: bytes = dict(sent[0]["headers"])[b"x-data-version"]
        return version.decode()

    async def scenario() -> list[str]:
        before_load = asyncio.create_task(get())
        await answered.wait()  # read from the old data, not yet sent
        engine = make_engine(url)
        load_dataset(engine, new.dataset)
        engine.dispose()
        after_load = await get()
        release.set()
        return [await before_load, after_load, await get()]

    assert asyncio.run(scenario()) == [old.name, new.name, new.name]


@contextmanager
def serving(settings: Settings) -> Iterator[httpx.Client]:
    with running(settings) as base_url, httpx.Client(base_url=base_url) as client:
        yield client


@contextmanager
def running(settings: Settings) -> Iterator[str]:
    """The app under a real uvicorn on a loopback port, in a thread; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
