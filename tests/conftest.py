"""Shared fixtures: databases (SQLite always, PostgreSQL and Redis when reachable) and
a real server on a loopback port.

Under CI (``CI`` set), a PostgreSQL or Redis test whose service cannot be reached
fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.store.tables import Base
from tests.clients import Server, start_server

POSTGRES_ENV = "HELPLINE_TEST_POSTGRES_URL"
REDIS_ENV = "HELPLINE_TEST_REDIS_URL"
TABLES = tuple(Base.metadata.tables)  # every table, so nothing leaks from one test to the next


def _unavailable(what: str) -> None:
    """Skip a test whose service or tool is missing here; under CI, fail it instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}: required under CI", pytrace=False)
    pytest.skip(f"{what}: unavailable here")


async def _postgres_ready(url: str) -> bool:
    engine = create_async_engine(url)
    try:
        async with asyncio.timeout(5), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


_migrated: set[str] = set()


async def prepare_postgres() -> str:
    """The PostgreSQL test database, migrated once per run and emptied for each test."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        _unavailable(f"PostgreSQL ({POSTGRES_ENV} unset)")
    assert url
    if not await _postgres_ready(url):
        _unavailable(f"PostgreSQL at {POSTGRES_ENV}")
    from helpline.store.migrate import downgrade, upgrade

    if url not in _migrated:
        await asyncio.to_thread(upgrade, url)
        await _empty(url)  # a downgrade refuses to drop sealed rows' key ids
        await asyncio.to_thread(downgrade, url)  # the history runs both ways
        await asyncio.to_thread(upgrade, url)
        _migrated.add(url)
    await _empty(url)
    return url


async def _empty(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def prepare_sqlite(directory: Path) -> str:
    from helpline.store.migrate import upgrade

    url = f"sqlite+aiosqlite:///{directory / 'helpline.db'}"
    await asyncio.to_thread(upgrade, url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return await prepare_sqlite(tmp_path)
    return await prepare_postgres()


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return await prepare_sqlite(tmp_path)


@pytest.fixture
async def postgres_url() -> str:
    return await prepare_postgres()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        _unavailable(f"Redis ({REDIS_ENV} unset)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        _unavailable(f"Redis at {REDIS_ENV}")
    return url  # type: ignore[return-value]


ServerFactory = Callable[..., Any]


@pytest_asyncio.fixture
async def make_server(database_url: str) -> AsyncIterator[ServerFactory]:
    """Start servers on the test database; all are stopped at the end of the test."""
    servers: list[Server] = []

    async def make(**settings: Any) -> Server:
        settings.setdefault("database_url", database_url)
        server = await start_server(**settings)
        servers.append(server)
        return server

    yield make
    for server in reversed(servers):
        await server.stop()


@pytest_asyncio.fixture
async def server(make_server: ServerFactory) -> Server:
    return await make_server()  # type: ignore[no-any-return]
