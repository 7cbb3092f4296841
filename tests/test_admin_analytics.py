"""Analytics on a seeded dataset: buckets (with empty ones), time zones, heatmap, session states."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authn.subject import ClientInfo
from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import BuiltinRole, User
from garrison.security.service import record_attempt
from tests.conftest import Accounts, bearer


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def attempt(db: AsyncSession, user: User | None, when: datetime, success: bool) -> None:
    """A login attempt recorded as the login path records it (attempt, audit event and rollups)."""
    await record_attempt(
        db,
        ClientInfo(ip="192.0.2.1", user_agent=None),
        when,
        username_tried=user.username if user else "nobody",
        success=success,
        reason=None if success else "bad_password",
        user_id=user.id if user else None,
        organisation_id=user.organisation_id if user else None,
    )


@pytest.fixture
async def seeded(app: FastAPI, accounts: Accounts) -> dict[str, str]:
    await accounts.create(username="chief", roles=(BuiltinRole.ROOT_ADMIN,))
    alice = await accounts.create(username="alice")
    bob = await accounts.create(username="bob")
    auth = bearer(await accounts.login("chief"))
    database: Database = app.state.services.database

    async with database.transaction() as db:
        for user, when, success in [
            (alice, "2026-03-28T23:30:00", True),  # Paris: Sunday 29th 00:30 (winter time)
            (alice, "2026-03-29T10:00:00", False),  # Paris: 29th 12:00 (summer time since 01:00Z)
            (alice, "2026-03-29T11:00:00", True),
            (bob, "2026-03-29T12:00:00", True),
            (bob, "2026-03-31T08:00:00", True),
        ]:
            await attempt(db, user, at(when), success)
    return auth


async def series(client: httpx.AsyncClient, auth: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/admin/analytics/logins", params=params, headers=auth)
    assert response.status_code == 200, response.text
    buckets: list[dict[str, Any]] = response.json()["buckets"]
    return buckets


async def test_daily_buckets_in_utc_include_empty_days(
    client: httpx.AsyncClient, seeded: dict[str, str]
) -> None:
    buckets = await series(
        client, seeded, interval="day", **{"from": "2026-03-28T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
    )
    assert [(b["start"][:10], b["success"], b["failure"], b["distinct_users"]) for b in buckets] == [
        ("2026-03-28", 1, 0, 1),
        ("2026-03-29", 2, 1, 2),
        ("2026-03-30", 0, 0, 0),
        ("2026-03-31", 1, 0, 1),
    ]


async def test_daily_buckets_follow_a_time_zone_across_dst(
    client: httpx.AsyncClient, seeded: dict[str, str]
) -> None:
    buckets = await series(
        client,
        seeded,
        interval="day",
        tz="Europe/Paris",
        **{"from": "2026-03-28T00:00:00Z", "to": "2026-04-01T00:00:00Z"},
    )
    assert [(b["start"], b["success"], b["failure"]) for b in buckets] == [
        ("2026-03-28T00:00:00+01:00", 0, 0),
        ("2026-03-29T00:00:00+01:00", 3, 1),
        ("2026-03-30T00:00:00+02:00", 0, 0),
        ("2026-03-31T00:00:00+02:00", 1, 0),
        ("2026-04-01T00:00:00+02:00", 0, 0),
    ]


async def test_hourly_buckets_in_a_half_hour_zone(client: httpx.AsyncClient, seeded: dict[str, str]) -> None:
    buckets = await series(
        client,
        seeded,
        interval="hour",
        tz="Asia/Kolkata",
        **{"from": "2026-03-28T22:30:00Z", "to": "2026-03-29T01:30:00Z"},
    )
    assert [(b["start"], b["success"]) for b in buckets] == [
        ("2026-03-29T04:00:00+05:30", 0),
        ("2026-03-29T05:00:00+05:30", 1),
        ("2026-03-29T06:00:00+05:30", 0),
    ]


async def test_weekly_and_monthly_buckets(client: httpx.AsyncClient, seeded: dict[str, str]) -> None:
    weeks = await series(
        client, seeded, interval="week", **{"from": "2026-03-23T00:00:00Z", "to": "2026-04-06T00:00:00Z"}
    )
    assert [(b["start"][:10], b["success"]) for b in weeks] == [("2026-03-23", 3), ("2026-03-30", 1)]
    months = await series(
        client, seeded, interval="month", **{"from": "2026-02-15T00:00:00Z", "to": "2026-04-15T00:00:00Z"}
    )
    assert [(b["start"][:7], b["success"]) for b in months] == [
        ("2026-02", 0),
        ("2026-03", 4),
        ("2026-04", 0),
    ]


async def test_heatmap_by_local_weekday_and_hour(client: httpx.AsyncClient, seeded: dict[str, str]) -> None:
    response = await client.get(
        "/api/v1/admin/analytics/heatmap",
        params={"from": "2026-03-01T00:00:00Z", "to": "2026-04-30T00:00:00Z", "tz": "Asia/Kolkata"},
        headers=seeded,
    )
    body = response.json()
    assert body["weekdays"][0] == "Monday"
    counts = body["counts"]
    assert len(counts) == 7
    assert all(len(row) == 24 for row in counts)
    assert counts[6][5] == 1  # Sunday 05:00 IST
    assert counts[6][16] == 1  # Sunday 16:30 IST
    assert counts[6][17] == 1  # Sunday 17:30 IST
    assert counts[1][13] == 1  # Tuesday 13:30 IST
    assert sum(map(sum, counts)) == 4  # the failure is not counted


@pytest.mark.parametrize(
    "params",
    [
        {"interval": "fortnight"},
        {"tz": "Mars/Olympus_Mons"},
        {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        {"interval": "hour", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "soon"},
    ],
)
async def test_bad_analytics_parameters_are_422(
    client: httpx.AsyncClient, seeded: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/admin/analytics/logins", params=params, headers=seeded)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_session_state_counts(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="chief", roles=(BuiltinRole.ROOT_ADMIN,))
    await accounts.create(username="walker")
    gone = await accounts.login("walker")
    await accounts.login("walker")
    await client.post("/api/v1/auth/logout", headers=bearer(gone))
    clock.advance(days=8)
    await accounts.login("walker")
    auth = bearer(await accounts.login("chief"))
    counts = (await client.get("/api/v1/admin/analytics/sessions", headers=auth)).json()
    # walker: one revoked (logout), one expired (idle for 8 days), one new; chief: one new.
    assert counts == {"active": 2, "expired": 1, "revoked": 1}


async def test_user_profile_timeline_and_daily_logins(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="chief", roles=(BuiltinRole.ROOT_ADMIN,))
    walker = await accounts.create(username="walker")
    first = await accounts.login("walker", **{"User-Agent": "curl/8.5.0"})
    clock.advance(minutes=10)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(first))).status_code == 204
    clock.advance(days=1)
    await accounts.login("walker")
    await client.post("/api/v1/auth/login", json={"username": "walker", "password": "wrong password!"})
    auth = bearer(await accounts.login("chief"))
    response = await client.get(f"/api/v1/admin/users/{walker.id}/profile", headers=auth)
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["user"]["username"] == "walker"
    assert profile["counts"] == {
        "sessions_total": 2,
        "sessions_active": 1,
        "logins_success": 2,
        "logins_failed": 1,
    }
    older = profile["timeline"][1]
    assert older["duration_seconds"] == 10 * 60
    assert older["end_reason"] == "logout"
    assert older["state"] == "revoked"
    assert older["device"] == "curl 8"
    assert profile["timeline"][0]["state"] == "active"
    daily = profile["daily_logins"]
    assert len(daily) in (30, 31)
    assert sum(day["success"] for day in daily) == 2
    assert sum(day["failure"] for day in daily) == 1
    assert profile["anomalies"] == []
    missing = await client.get(
        "/api/v1/admin/users/00000000-0000-4000-8000-000000000000/profile", headers=auth
    )
    assert missing.status_code == 404
