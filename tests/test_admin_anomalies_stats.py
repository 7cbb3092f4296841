"""Admin anomaly feed (polling, acknowledge, resolve) and headline statistics."""

from __future__ import annotations

import httpx

from garrison.kit.clock import FrozenClock
from garrison.models import Anomaly, BuiltinRole
from tests.conftest import Accounts, bearer
from tests.fixtures.factories import make_org

PASSWORD = "a long and unusual passphrase"


async def _lock(client: httpx.AsyncClient, username: str) -> None:
    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"username": username, "password": "wrong password!"})


async def test_feed_polling_acknowledge_resolve(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="chief", roles=(BuiltinRole.ROOT_ADMIN,))
    await accounts.create(username="first")
    await accounts.create(username="second")
    auth = bearer(await accounts.login("chief"))
    await _lock(client, "first")
    feed = (await client.get("/api/v1/admin/anomalies", headers=auth)).json()
    assert [item["type"] for item in feed["items"]] == ["lockout"]
    cursor = feed["next_since"]
    assert cursor is not None
    clock.advance(seconds=5)
    await _lock(client, "second")
    newer = (await client.get("/api/v1/admin/anomalies", params={"since": cursor}, headers=auth)).json()
    assert [item["details"]["failures"] for item in newer["items"]] == [5]
    assert newer["total"] == 1
    anomaly_id = newer["items"][0]["id"]

    acked = await client.post(f"/api/v1/admin/anomalies/{anomaly_id}/acknowledge", headers=auth)
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert (
        await client.post(f"/api/v1/admin/anomalies/{anomaly_id}/acknowledge", headers=auth)
    ).status_code == 409
    clock.advance(seconds=1)  # the audit trail lists the newest first
    resolved = await client.post(
        f"/api/v1/admin/anomalies/{anomaly_id}/resolve", json={"note": "user confirmed typo"}, headers=auth
    )
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["note"] == "user confirmed typo"
    open_only = (await client.get("/api/v1/admin/anomalies", params={"status": "open"}, headers=auth)).json()
    assert open_only["total"] == 1
    audit = (
        await client.get("/api/v1/admin/audit-events", params={"target": anomaly_id}, headers=auth)
    ).json()
    assert [item["action"] for item in audit["items"]] == ["anomaly.resolved", "anomaly.acknowledged"]
    assert (
        await client.get("/api/v1/admin/anomalies", params={"status": "gone"}, headers=auth)
    ).status_code == 422


async def test_stats_count_what_the_dashboard_shows(
    accounts: Accounts, client: httpx.AsyncClient, app: object
) -> None:
    await accounts.create(username="chief", roles=(BuiltinRole.ROOT_ADMIN,))
    await accounts.create(username="helper", roles=(BuiltinRole.ORG_ADMIN,))
    await accounts.create(username="blocked", blocked=True)
    await accounts.create(username="locked")
    await accounts.create(username="active")
    auth = bearer(await accounts.login("chief"))
    await accounts.login("active")
    await client.post("/api/v1/auth/login", json={"username": "active", "password": "wrong password!"})
    await _lock(client, "locked")
    stats = (await client.get("/api/v1/admin/stats", headers=auth)).json()
    assert stats == {
        "users_total": 5,
        "users_active": 3,
        "users_blocked": 1,
        "users_locked": 1,
        "admins": 2,
        "active_sessions": 2,
        "logins_24h": 2,
        "failed_logins_24h": 6,
        "open_anomalies": 1,
    }


async def test_org_admin_stats_and_anomalies_are_confined(
    accounts: Accounts, client: httpx.AsyncClient, app: object
) -> None:
    from fastapi import FastAPI

    from garrison.db import Database

    assert isinstance(app, FastAPI)
    database: Database = app.state.services.database
    async with database.transaction() as db:
        acme = await make_org(db, name="Acme")
    await accounts.create(username="acme_admin", org=acme, roles=(BuiltinRole.ORG_ADMIN,))
    await accounts.create(username="acme_user", org=acme)
    await accounts.create(username="outsider")
    await _lock(client, "outsider")
    auth = bearer(await accounts.login("acme_admin"))
    assert (await client.get("/api/v1/admin/anomalies", headers=auth)).json()["total"] == 0
    stats = (await client.get("/api/v1/admin/stats", headers=auth)).json()
    assert stats["users_total"] == 2
    assert stats["failed_logins_24h"] == 0
    async with database.transaction() as db:
        orphan = Anomaly(type="lockout", severity="medium", details={})
        db.add(orphan)
    # Anomalies of no organisation are for root administrators only.
    response = await client.post(f"/api/v1/admin/anomalies/{orphan.id}/acknowledge", headers=auth)
    assert response.status_code == 404
    plain = bearer(await accounts.login("acme_user"))
    assert (await client.get("/api/v1/admin/stats", headers=plain)).status_code == 403
