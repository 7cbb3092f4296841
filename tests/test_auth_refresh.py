"""Refresh-token rotation (RFC 6749 §6, RFC 9700 §4.14.2), timeouts and the concurrent-session limit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from garrison.app import create_app
from garrison.config import Settings
from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import Anomaly, AuditEvent, LoginAttempt, RefreshToken, Session
from tests.conftest import Accounts, bearer


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def anomalies(app: FastAPI) -> list[Anomaly]:
    database: Database = app.state.services.database
    async with database.sessions() as db:
        return list((await db.scalars(select(Anomaly).order_by(Anomaly.created_at))).all())


async def test_refresh_rotates_both_tokens(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    await accounts.create(username="alice")
    first = await accounts.login("alice")
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["session_id"] == first["session_id"]
    assert (await client.get("/api/v1/auth/session", headers=bearer(second))).status_code == 200
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200
    database: Database = app.state.services.database
    async with database.sessions() as db:
        stored = (await db.scalars(select(RefreshToken.token_hash))).all()
    assert all(len(h) == 64 for h in stored)
    assert not any(token in h for h in stored for token in (first["refresh_token"], second["refresh_token"]))


async def test_reusing_a_rotated_refresh_token_revokes_the_session(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    await accounts.create(username="bob")
    first = await accounts.login("bob")
    second = (await refresh(client, first["refresh_token"])).json()
    reused = await refresh(client, first["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["type"] == "urn:garrison:problem:invalid-refresh-token"
    # The whole session is gone: the legitimate newest tokens stop working too.
    assert (await client.get("/api/v1/auth/session", headers=bearer(second))).status_code == 401
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    found = await anomalies(app)
    assert [a.type for a in found] == ["refresh_token_reuse"]
    assert found[0].severity == "high"
    assert str(found[0].session_id) == first["session_id"]


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await refresh(client, "gar_rt_" + "A" * 43)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_refresh_fails_after_idle_timeout(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock, app: FastAPI
) -> None:
    await accounts.create(username="carol")
    tokens = await accounts.login("carol")
    clock.advance(days=6)
    tokens = (await refresh(client, tokens["refresh_token"])).json()  # use resets the idle clock
    clock.advance(days=6)
    tokens = (await refresh(client, tokens["refresh_token"])).json()
    clock.advance(days=7, seconds=1)
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    database: Database = app.state.services.database
    async with database.sessions() as db:
        session = (await db.scalars(select(Session))).one()
    assert session.end_reason == "session_idle"


async def test_refresh_fails_after_absolute_lifetime(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="dave")
    tokens = await accounts.login("dave")
    for days in (6, 6, 6, 6, 5.9):  # 29.9 days after login, never idle for 7
        clock.advance(days=days)
        response = await refresh(client, tokens["refresh_token"])
        assert response.status_code == 200
        tokens = response.json()
    clock.advance(days=0.2)  # 30.1 days after login
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401


async def test_refresh_fails_for_blocked_or_expired_users(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock, app: FastAPI
) -> None:
    from garrison.models import User, UserStatus

    user = await accounts.create(username="erin")
    tokens = await accounts.login("erin")
    database: Database = app.state.services.database
    async with database.transaction() as db:
        stored = await db.get(User, user.id)
        assert stored is not None
        stored.account_expires_at = clock.now()
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    async with database.transaction() as db:
        stored = await db.get(User, user.id)
        assert stored is not None
        stored.account_expires_at = None
        stored.status = UserStatus.BLOCKED
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401


async def test_access_token_expires_after_its_lifetime(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="frank")
    tokens = await accounts.login("frank")
    clock.advance(seconds=900 + 5)  # within the 10 s leeway
    assert (await client.get("/api/v1/auth/session", headers=bearer(tokens))).status_code == 200
    clock.advance(seconds=6)
    response = await client.get("/api/v1/auth/session", headers=bearer(tokens))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_concurrent_refreshes_yield_exactly_one_new_chain(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    await accounts.create(username="grace")
    tokens = await accounts.login("grace")
    responses = await asyncio.gather(*(refresh(client, tokens["refresh_token"]) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 19, statuses
    winner = next(r.json() for r in responses if r.status_code == 200)
    # The 19 losers presented a spent token: reuse, so the session is revoked (RFC 9700 §4.14.2);
    # in no case do two live refresh chains exist.
    assert (await refresh(client, winner["refresh_token"])).status_code == 401
    database: Database = app.state.services.database
    async with database.sessions() as db:
        live = (await db.scalars(select(RefreshToken).where(RefreshToken.rotated_at.is_(None)))).all()
        session = (await db.scalars(select(Session))).one()
    assert len(live) <= 1
    assert session.ended_at is not None


async def test_concurrent_login_from_another_device_is_an_anomaly(accounts: Accounts, app: FastAPI) -> None:
    henry = await accounts.create(username="henry")
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    first = await accounts.login("henry", **{"User-Agent": firefox})
    second = await accounts.login(
        "henry", **{"User-Agent": firefox}
    )  # same device and address: not anomalous
    assert await anomalies(app) == []
    third = await accounts.login(
        "henry", **{"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}
    )
    found = await anomalies(app)
    assert [(a.type, a.severity, a.user_id) for a in found] == [("concurrent_login", "medium", henry.id)]
    details = found[0].details
    assert details["device"] != found[0].details["other_sessions"][0]["device"]
    # Both earlier sessions, each with its address and device.
    assert {other["session_id"] for other in details["other_sessions"]} == {
        second["session_id"],
        first["session_id"],
    }
    assert {(other["ip"], other["device"]) for other in details["other_sessions"]} == {
        (details["ip"], "Firefox 128 on Linux")
    }
    database: Database = app.state.services.database
    async with database.sessions() as db:
        events = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "security.concurrent_login"))
        ).all()
        attempt = await db.scalar(
            select(LoginAttempt).where(LoginAttempt.session_id == uuid.UUID(third["session_id"]))
        )
    assert [(event.after or {}).get("other_sessions") for event in events] == [details["other_sessions"]]
    assert attempt is not None
    assert attempt.success


@pytest.mark.parametrize("policy", ["revoke_oldest", "refuse_new"])
async def test_concurrent_session_limit(settings: Settings, clock: FrozenClock, policy: str) -> None:
    limited = settings.model_copy(update={"max_sessions_per_user": 2, "session_limit_policy": policy})
    application = create_app(limited, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            accounts = Accounts(application, http)
            await accounts.create(username="ivy")
            sessions: list[dict[str, Any]] = [await accounts.login("ivy"), await accounts.login("ivy")]
            third = await http.post(
                "/api/v1/auth/login", json={"username": "ivy", "password": "a long and unusual passphrase"}
            )
            statuses = [
                (await http.get("/api/v1/auth/session", headers=bearer(tokens))).status_code
                for tokens in sessions
            ]
    if policy == "refuse_new":
        assert third.status_code == 409
        assert third.json()["type"] == "urn:garrison:problem:too-many-sessions"
        assert statuses == [200, 200]
    else:
        assert third.status_code == 200
        assert statuses == [401, 200]
