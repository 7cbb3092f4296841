"""Legacy bcrypt hashes and long passwords: a normal, recorded attempt, never a 500 that leaves the
failure counter raised without a lock (the admin API's status must match whether the user can log in).
"""

from __future__ import annotations

from typing import Any

import bcrypt
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from garrison.authn.passwords import PasswordHasher
from garrison.db import Database
from garrison.models import LoginAttempt, User
from tests.conftest import World
from tests.fixtures.factories import make_user

LOGIN = "/api/v1/auth/login"
LEGACY = "legacy password of the old system"
# 100 bytes: 72 that the old system kept, and 28 it silently dropped.
LONG = "k" * 40 + "é" * 16 + "z" * 28
assert len(LONG.encode()) == 100


async def legacy_user(app: FastAPI, username: str, password: bytes) -> User:
    database: Database = app.state.services.database
    stored = bcrypt.hashpw(password, bcrypt.gensalt(rounds=4)).decode()
    async with database.transaction() as db:
        return await make_user(db, username=username, password_hash=stored)


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def admin_view(client: httpx.AsyncClient, world: World, user: User) -> dict[str, Any]:
    response = await client.get(f"/api/v1/admin/users/{user.id}", headers=world.auth("root"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reasons(app: FastAPI, username: str) -> list[str | None]:
    database: Database = app.state.services.database
    async with database.sessions() as db:
        rows = await db.scalars(select(LoginAttempt.reason).where(LoginAttempt.username_tried == username))
        return list(rows)


async def test_a_long_password_against_a_bcrypt_hash_is_a_recorded_failure(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> None:
    user = await legacy_user(app, "oldtimer", LEGACY.encode())
    for _ in range(4):
        response = await login(client, "oldtimer", LONG)
        assert response.status_code == 401, response.text
    assert await reasons(app, "oldtimer") == ["bad_password"] * 4
    assert (await admin_view(client, world, user))["status"] == "active"
    assert (await login(client, "oldtimer", LEGACY)).status_code == 200

    for _ in range(5):
        assert (await login(client, "oldtimer", LONG)).status_code == 401
    assert (await admin_view(client, world, user))["status"] == "locked"
    assert (await login(client, "oldtimer", LEGACY)).status_code == 401


async def test_a_bcrypt_hash_verifies_the_first_72_bytes_then_upgrades(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # What a truncating bcrypt stored for LONG: the hash of its first 72 bytes.
    await legacy_user(app, "truncated", LONG.encode()[:72])
    response = await login(client, "truncated", LONG)
    assert response.status_code == 200, response.text
    database: Database = app.state.services.database
    async with database.sessions() as db:
        stored = await db.scalar(select(User.password_hash).where(User.username == "truncated"))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    # The upgraded hash checks every byte: the dropped tail matters from now on.
    assert (await login(client, "truncated", LONG[:-1] + "y")).status_code == 401
    assert (await login(client, "truncated", LONG)).status_code == 200


async def test_an_error_inside_verification_still_records_the_attempt_and_locks(
    client: httpx.AsyncClient, app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await legacy_user(app, "brittle", LEGACY.encode())
    hasher: PasswordHasher = app.state.services.hasher

    async def broken(password: str, stored: str) -> tuple[bool, str | None]:
        raise RuntimeError("hash library failure")

    monkeypatch.setattr(hasher, "verify_and_update", broken)
    for _ in range(5):
        assert (await login(client, "brittle", LEGACY)).status_code == 500
    monkeypatch.undo()
    assert sorted(map(str, await reasons(app, "brittle"))) == ["verify_error"] * 4 + ["verify_error_locked"]
    view = await admin_view(client, world, user)
    assert view["status"] == "locked"
    assert view["locked_until"] is not None
    assert (await login(client, "brittle", LEGACY)).status_code == 401
