"""The user's own account: profile, password change, sessions and login history."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import User
from tests.conftest import Accounts, bearer

PASSWORD = "a long and unusual passphrase"


async def test_read_and_update_profile(accounts: Accounts, client: httpx.AsyncClient) -> None:
    user = await accounts.create(username="alice")
    auth = bearer(await accounts.login("alice"))
    me = (await client.get("/api/v1/me", headers=auth)).json()
    assert me["id"] == str(user.id)
    assert me["status"] == "active"
    patch = {
        "full_name": "Alice Liddell",
        "rank": "Captain",
        "date_of_joining": "2024-01-15",
        "attributes": {"k": [1, 2]},
    }
    response = await client.patch("/api/v1/me", json=patch, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["full_name"] == "Alice Liddell"
    assert body["rank"] == "Captain"
    assert body["date_of_joining"] == "2024-01-15"
    assert body["attributes"] == {"k": [1, 2]}
    cleared = (await client.patch("/api/v1/me", json={"rank": None}, headers=auth)).json()
    assert cleared["rank"] is None
    assert cleared["full_name"] == "Alice Liddell"  # untouched


@pytest.mark.parametrize(
    "body",
    [
        {"roles": ["root_admin"]},
        {"status": "active"},
        {"organisation_id": str(uuid.uuid4())},
        {"username": "other"},
        {"contact_number": "call me maybe"},
        {"date_of_birth": "yesterday"},
        {"full_name": "nul\x00inside"},
    ],
)
async def test_profile_update_rejects_other_fields(
    accounts: Accounts, client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    await accounts.create(username="bob")
    response = await client.patch("/api/v1/me", json=body, headers=bearer(await accounts.login("bob")))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_password_change_ends_other_sessions_and_keeps_history(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="carol")
    current, other = await accounts.login("carol"), await accounts.login("carol")
    auth = bearer(current)

    async def change(old: str, new: str) -> httpx.Response:
        clock.advance(seconds=1)  # the history is ordered by the time each password was set
        return await client.post(
            "/api/v1/me/password", json={"current_password": old, "new_password": new}, headers=auth
        )

    wrong = await change("not the password", "a fresh passphrase 01")
    assert wrong.status_code == 403
    assert wrong.json()["type"] == "urn:garrison:problem:wrong-password"
    assert (await change(PASSWORD, "short")).json()["rule"] == "min_length"
    assert (await change(PASSWORD, "a fresh passphrase 01")).status_code == 204
    assert (await client.get("/api/v1/auth/session", headers=auth)).status_code == 200
    assert (await client.get("/api/v1/auth/session", headers=bearer(other))).status_code == 401
    await accounts.login("carol", "a fresh passphrase 01")

    previous = "a fresh passphrase 01"
    for n in range(2, 6):
        assert (await change(previous, f"a fresh passphrase 0{n}")).status_code == 204
        previous = f"a fresh passphrase 0{n}"
    # The last five (01..05) are refused; the original one has aged out of the history.
    reused = await change(previous, "a fresh passphrase 02")
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:garrison:problem:password-reused"
    assert (await change(previous, PASSWORD)).status_code == 204


async def test_pending_password_change_blocks_everything_but_the_change(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await accounts.create(username="dave")
    database: Database = app.state.services.database
    async with database.transaction() as db:
        await db.execute(update(User).where(User.id == user.id).values(must_change_password=True))
    tokens = await accounts.login("dave")
    assert tokens["password_change_required"] is True
    auth = bearer(tokens)
    assert (await client.get("/api/v1/auth/session", headers=auth)).json()["password_change_required"] is True
    blocked = await client.get("/api/v1/me/sessions", headers=auth)
    assert blocked.status_code == 403
    assert blocked.json()["type"] == "urn:garrison:problem:password-change-required"
    change = {"current_password": PASSWORD, "new_password": "the brand new passphrase"}
    assert (await client.post("/api/v1/me/password", json=change, headers=auth)).status_code == 204
    assert (await client.get("/api/v1/me/sessions", headers=auth)).status_code == 200


async def test_sessions_listing_and_revocation(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="erin")
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    current = await accounts.login("erin", **{"User-Agent": firefox})
    second, third = await accounts.login("erin"), await accounts.login("erin")
    auth = bearer(current)
    listing = (await client.get("/api/v1/me/sessions", headers=auth)).json()
    assert listing["total"] == 3
    mine = [s for s in listing["items"] if s["current"]]
    assert len(mine) == 1
    assert mine[0]["id"] == current["session_id"]
    assert mine[0]["device"] == "Firefox 128 on Linux"
    assert mine[0]["ip"] == "127.0.0.1"

    assert (
        await client.delete(f"/api/v1/me/sessions/{second['session_id']}", headers=auth)
    ).status_code == 204
    assert (await client.get("/api/v1/auth/session", headers=bearer(second))).status_code == 401
    assert (await client.get("/api/v1/auth/session", headers=bearer(third))).status_code == 200
    assert (await client.delete("/api/v1/me/sessions", headers=auth)).status_code == 204
    assert (await client.get("/api/v1/auth/session", headers=bearer(third))).status_code == 401
    assert (await client.get("/api/v1/auth/session", headers=auth)).status_code == 200
    ended = {
        s["id"]: s["end_reason"]
        for s in (await client.get("/api/v1/me/sessions", headers=auth)).json()["items"]
    }
    assert ended[second["session_id"]] == "user_revoked"


async def test_another_users_session_is_not_found(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="frank")
    await accounts.create(username="grace")
    franks = await accounts.login("frank")
    graces = await accounts.login("grace")
    response = await client.delete(f"/api/v1/me/sessions/{graces['session_id']}", headers=bearer(franks))
    assert response.status_code == 404
    assert (await client.get("/api/v1/auth/session", headers=bearer(graces))).status_code == 200
    bad = await client.delete("/api/v1/me/sessions/not-a-uuid", headers=bearer(franks))
    assert bad.status_code == 422


async def test_login_history(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="henry")
    await client.post("/api/v1/auth/login", json={"username": "henry", "password": "wrong password!"})
    tokens = await accounts.login("henry", **{"User-Agent": "curl/8.5.0"})
    history = (
        await client.get("/api/v1/me/login-history", headers=bearer(tokens), params={"page_size": 1})
    ).json()
    assert history["total"] == 2
    assert history["page_size"] == 1
    assert history["items"][0]["success"] is True
    assert history["items"][0]["user_agent"] == "curl/8.5.0"
    page2 = (
        await client.get(
            "/api/v1/me/login-history", headers=bearer(tokens), params={"page": 2, "page_size": 1}
        )
    ).json()
    assert page2["items"][0]["reason"] == "bad_password"
    too_big = await client.get("/api/v1/me/login-history", headers=bearer(tokens), params={"page_size": 1000})
    assert too_big.status_code == 422


async def test_revocations_by_the_user_are_audited(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    from sqlalchemy import select

    from garrison.models import AuditEvent

    user = await accounts.create(username="ivy")
    current, other = await accounts.login("ivy"), await accounts.login("ivy")
    assert (
        await client.delete(f"/api/v1/me/sessions/{other['session_id']}", headers=bearer(current))
    ).status_code == 204
    database: Database = app.state.services.database
    async with database.sessions() as db:
        events = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "session.revoked"))).all()
    assert len(events) == 1
    assert events[0].actor_type == "user"
    assert events[0].actor_id == str(user.id)
    assert events[0].target_id == other["session_id"]
    assert events[0].ip == "127.0.0.1"
    assert events[0].request_id
