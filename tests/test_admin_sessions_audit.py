"""Admin sessions (state classification at its boundaries) and the audit trail with its export."""

from __future__ import annotations

import csv
import io
import json

import httpx
from fastapi import FastAPI

from garrison.kit.clock import FrozenClock
from garrison.models import BuiltinRole
from tests.conftest import Accounts, bearer

PASSWORD = "a long and unusual passphrase"


async def _admin(accounts: Accounts) -> dict[str, str]:
    await accounts.create(username="chief", roles=(BuiltinRole.ROOT_ADMIN,))
    return bearer(await accounts.login("chief"))


async def states(client: httpx.AsyncClient, auth: dict[str, str], username: str) -> list[str]:
    rows = (await client.get("/api/v1/admin/sessions", headers=auth, params={"page_size": 200})).json()[
        "items"
    ]
    return [row["state"] for row in rows if row["user"]["username"] == username]


async def test_session_states_at_their_boundaries(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="walker")
    first = await accounts.login("walker")
    second = await accounts.login("walker")
    auth = await _admin(accounts)
    assert await states(client, auth, "walker") == ["active", "active"]
    await client.post("/api/v1/auth/logout", headers=bearer(first))
    assert sorted(await states(client, auth, "walker")) == ["active", "revoked"]

    # Idle timeout (7 days without refresh): expired at the exact boundary, not a second before.
    clock.advance(days=7, seconds=-1)
    await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )  # keeps it alive
    auth = await _admin_relogin(accounts)
    clock.advance(days=7, seconds=-1)
    auth = await _admin_relogin(accounts)
    assert "active" in await states(client, auth, "walker")
    clock.advance(seconds=1)
    auth = await _admin_relogin(accounts)
    assert sorted(await states(client, auth, "walker")) == ["expired", "revoked"]
    only_expired = (
        await client.get("/api/v1/admin/sessions", headers=auth, params={"state": "expired"})
    ).json()
    assert "walker" in {row["user"]["username"] for row in only_expired["items"]}
    assert {row["state"] for row in only_expired["items"]} == {"expired"}


async def _admin_relogin(accounts: Accounts) -> dict[str, str]:
    return bearer(await accounts.login("chief"))


async def test_revoke_a_session_by_id(accounts: Accounts, client: httpx.AsyncClient, app: FastAPI) -> None:
    await accounts.create(username="target")
    tokens = await accounts.login("target")
    auth = await _admin(accounts)
    revoked = await client.post(
        f"/api/v1/admin/sessions/{tokens['session_id']}/revoke", json={"reason": "incident 42"}, headers=auth
    )
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/auth/session", headers=bearer(tokens))).status_code == 401
    again = await client.post(f"/api/v1/admin/sessions/{tokens['session_id']}/revoke", headers=auth)
    assert again.status_code == 409
    missing = await client.post(
        "/api/v1/admin/sessions/00000000-0000-4000-8000-000000000000/revoke", headers=auth
    )
    assert missing.status_code == 404
    events = (
        await client.get("/api/v1/admin/audit-events", params={"action": "session.revoked"}, headers=auth)
    ).json()
    assert events["total"] == 1
    assert events["items"][0]["after"]["note"] == "incident 42"
    assert events["items"][0]["target_id"] == tokens["session_id"]


async def test_sessions_listing_filters_and_parameters(accounts: Accounts, client: httpx.AsyncClient) -> None:
    user = await accounts.create(username="filtered")
    await accounts.login("filtered")
    auth = await _admin(accounts)
    mine = (await client.get("/api/v1/admin/sessions", params={"user_id": str(user.id)}, headers=auth)).json()
    assert mine["total"] == 1
    assert mine["items"][0]["ip"] == "127.0.0.1"
    by_ip = (await client.get("/api/v1/admin/sessions", params={"ip": "10.9.9.9"}, headers=auth)).json()
    assert by_ip["total"] == 0
    for params in ({"state": "zombie"}, {"from": "yesterday"}, {"user_id": "x"}, {"page_size": 0}):
        response = await client.get("/api/v1/admin/sessions", params=params, headers=auth)
        assert response.status_code == 422, params


async def test_audit_listing_filters_and_exports(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    victim = await accounts.create(username="=cmd|calc")  # invalid username for the API, fine in a factory
    auth = await _admin(accounts)
    await client.post(
        f"/api/v1/admin/users/{victim.id}/block", json={"reason": "=HYPERLINK(evil)"}, headers=auth
    )
    clock.advance(seconds=1)  # the audit trail lists the newest first
    await client.post(f"/api/v1/admin/users/{victim.id}/unblock", headers=auth)
    listing = (
        await client.get("/api/v1/admin/audit-events", params={"target": str(victim.id)}, headers=auth)
    ).json()
    assert [item["action"] for item in listing["items"]] == ["user.unblocked", "user.blocked"]
    blocked = listing["items"][1]
    assert blocked["actor_type"] == "user"
    assert blocked["outcome"] == "success"
    assert blocked["before"] == {"status": "active"}
    assert blocked["after"]["reason"] == "=HYPERLINK(evil)"

    ndjson = await client.get(
        "/api/v1/admin/audit-events/export",
        params={"format": "ndjson", "target": str(victim.id)},
        headers=auth,
    )
    assert ndjson.status_code == 200
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [line["action"] for line in lines] == ["user.unblocked", "user.blocked"]

    exported = await client.get("/api/v1/admin/audit-events/export", params={"format": "csv"}, headers=auth)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"user.blocked", "user.unblocked"} <= {row["action"] for row in rows}
    blocked_row = next(row for row in rows if row["action"] == "user.blocked")
    assert blocked_row["after"].startswith("{")  # JSON, and no cell starts with a formula character
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row.values() if cell)

    assert (
        await client.get("/api/v1/admin/audit-events/export", params={"format": "xml"}, headers=auth)
    ).status_code == 422
    assert (
        await client.get("/api/v1/admin/audit-events", params={"from": "not-a-date"}, headers=auth)
    ).status_code == 422


async def test_audit_is_read_only_and_needs_permission(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="plain")
    auth = await _admin(accounts)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, "/api/v1/admin/audit-events", headers=auth)
        assert response.status_code == 405, method
    plain = bearer(await accounts.login("plain"))
    assert (await client.get("/api/v1/admin/audit-events", headers=plain)).status_code == 403
    assert (await client.get("/api/v1/admin/audit-events/export", headers=plain)).status_code == 403


async def test_security_events_reach_the_audit_trail(accounts: Accounts, client: httpx.AsyncClient) -> None:
    user = await accounts.create(username="subject")
    auth = await _admin(accounts)
    tokens = await accounts.login("subject")
    rotated = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()
    await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})  # reuse
    second = await accounts.login("subject")
    await client.post("/api/v1/auth/logout", headers=bearer(second))
    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"username": "subject", "password": "wrong password!"})
    del rotated
    events = (
        await client.get(
            "/api/v1/admin/audit-events", params={"target": str(user.id), "page_size": 50}, headers=auth
        )
    ).json()["items"]
    seen = {(event["action"], event["outcome"]) for event in events}
    assert ("auth.login", "success") in seen
    assert ("auth.login", "failure") in seen
    assert ("security.refresh_token_reuse", "detected") in seen
    assert ("security.lockout", "detected") in seen
    logout = (
        await client.get("/api/v1/admin/audit-events", params={"target": second["session_id"]}, headers=auth)
    ).json()["items"]
    assert [(e["action"], e["after"]["reason"]) for e in logout] == [("session.revoked", "logout")]
    for event in events:
        assert PASSWORD not in str(event)
        assert "wrong password!" not in str(event)
