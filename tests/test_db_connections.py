"""Pooled database connections the server has closed (a PostgreSQL restart) fail no request."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from garrison.config import Settings
from garrison.db import Database, _discard_if_closed
from tests.conftest import Accounts, bearer
from tests.fixtures.backends import BACKEND, POSTGRES_URL, _asyncpg_dsn

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL connection handling")


async def _terminate_pool(settings: Settings) -> int:
    """End every server process attached to the app's database (as a restart would); how many."""
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        name = settings.database.database
        pids = [
            row["pid"]
            for row in await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
            )
        ]
        for pid in pids:
            # With a timeout, PostgreSQL (14+) answers once the process has exited.
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
        return len(pids)
    finally:
        await admin.close()


async def _fill_pool(database: Database, count: int) -> None:
    """Hold ``count`` connections at once, so that the pool keeps that many idle afterwards."""
    started = asyncio.Event()
    held = 0

    async def hold() -> None:
        nonlocal held
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            held += 1
            if held == count:
                started.set()
            await started.wait()

    await asyncio.gather(*(hold() for _ in range(count)))


async def test_requests_succeed_after_the_server_closed_pooled_connections(
    app: FastAPI, accounts: Accounts, client: httpx.AsyncClient, settings: Settings
) -> None:
    await accounts.create(username="alice")
    tokens = await accounts.login("alice")
    database: Database = app.state.services.database
    await _fill_pool(database, 3)
    assert await _terminate_pool(settings) >= 3

    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200, response.text
    assert (await client.get("/api/v1/me", headers=bearer(response.json()))).status_code == 200
    await accounts.login("alice")

    # Again, with every request of the burst on a connection of its own.
    await _fill_pool(database, 3)
    await _terminate_pool(settings)
    answers = await asyncio.gather(
        *(client.get("/api/v1/me", headers=bearer(tokens)) for _ in range(3)),
        *(
            client.post("/api/v1/auth/login", json={"username": "alice", "password": p})
            for p in ["a long and unusual passphrase"] * 2
        ),
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]


async def test_a_transaction_replaces_a_connection_found_dead_at_its_start(
    app: FastAPI, settings: Settings
) -> None:
    database: Database = app.state.services.database
    # Without the check at checkout, the dead connection is only found when the transaction starts.
    event.remove(database.engine.sync_engine.pool, "checkout", _discard_if_closed)
    await database.dispose()
    await _fill_pool(database, 1)
    assert await _terminate_pool(settings) >= 1

    async with database.transaction() as db:
        assert await db.scalar(text("SELECT 1")) == 1
