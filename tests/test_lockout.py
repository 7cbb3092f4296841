"""Account lockout (ASVS V2.2.1): consecutive failures lock; the lock lifts by itself."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import Anomaly, LoginAttempt, User
from tests.conftest import Accounts, bearer

PASSWORD = "a long and unusual passphrase"


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_five_failures_lock_and_the_lock_expires(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock, app: FastAPI
) -> None:
    await accounts.create(username="alice")
    for _ in range(5):
        assert (await attempt(client, "alice", "wrong password here")).status_code == 401
    locked = await attempt(client, "alice", PASSWORD)
    wrong = await attempt(client, "nobody-at-all", PASSWORD)
    assert locked.status_code == 401
    assert locked.json()["detail"] == wrong.json()["detail"]  # the same generic answer
    clock.advance(minutes=29)
    assert (await attempt(client, "alice", PASSWORD)).status_code == 401
    clock.advance(minutes=1, seconds=1)
    assert (await attempt(client, "alice", PASSWORD)).status_code == 200

    database: Database = app.state.services.database
    async with database.sessions() as db:
        user = (await db.scalars(select(User).where(User.username_key == "alice"))).one()
        kinds = (await db.scalars(select(Anomaly.type))).all()
        reasons = (await db.scalars(select(LoginAttempt.reason).order_by(LoginAttempt.created_at))).all()
    assert user.failed_login_count == 0
    assert user.locked_until is None
    assert list(kinds) == ["lockout"]
    assert "bad_password_locked" in reasons
    assert reasons.count("locked") == 2


async def test_success_resets_the_counter(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="bob")
    for _ in range(4):
        await attempt(client, "bob", "wrong password here")
    assert (await attempt(client, "bob", PASSWORD)).status_code == 200
    for _ in range(4):
        await attempt(client, "bob", "wrong password here")
    assert (await attempt(client, "bob", PASSWORD)).status_code == 200


async def test_parallel_wrong_attempts_cannot_exceed_the_threshold(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    await accounts.create(username="carol")
    responses = await asyncio.gather(*(attempt(client, "carol", f"wrong guess {i:04d}") for i in range(15)))
    assert {r.status_code for r in responses} == {401}
    database: Database = app.state.services.database
    async with database.sessions() as db:
        reasons = (await db.scalars(select(LoginAttempt.reason))).all()
    checked = [r for r in reasons if r and r.startswith("bad_password")]
    assert len(checked) == 5, reasons  # only five passwords were ever checked
    assert reasons.count("locked") == 10


async def test_a_lock_rejects_existing_sessions_until_it_lifts(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="dave")
    tokens = await accounts.login("dave")
    for _ in range(5):
        await attempt(client, "dave", "wrong password here")
    assert (await client.get("/api/v1/auth/session", headers=bearer(tokens))).status_code == 401
    refresh = {"refresh_token": tokens["refresh_token"]}
    assert (await client.post("/api/v1/auth/refresh", json=refresh)).status_code == 401
    clock.advance(minutes=30, seconds=1)
    renewed = await client.post("/api/v1/auth/refresh", json=refresh)  # the lock did not spend it
    assert renewed.status_code == 200
    assert (await client.get("/api/v1/auth/session", headers=bearer(renewed.json()))).status_code == 200
