"""API keys through HTTP: issuing, scope, rotation, revocation, and ``/api/client-status`` for agents."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from garrison.app import create_app
from garrison.config import Settings
from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import ApiKey, AuditEvent, BuiltinRole
from tests.conftest import Accounts, World, bearer


async def issue(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", "workstation-17")
    body.setdefault("scopes", ["agent"])
    response = await client.post("/api/v1/admin/api-keys", json=body, headers=auth)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def agent(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def status_of(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.get("/api/client-status", headers=agent(key))


async def test_agent_key_answers_for_its_user_only(client: httpx.AsyncClient, world: World) -> None:
    issued = await issue(client, world.auth("acme_admin"), user_id=str(world.ids["acme_user"]))
    key = issued["key"]
    assert key.startswith("gar_ak_")
    assert len(key) >= 7 + 43
    assert issued["api_key"]["key_prefix"] == key[:12]
    assert issued["api_key"]["user"] == {"id": str(world.ids["acme_user"]), "username": "acme_user"}
    assert issued["api_key"]["status"] == "active"

    response = await status_of(client, key)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"username", "is_blocked", "status", "checked_at"}
    assert body["username"] == "acme_user"
    assert body["is_blocked"] is False
    assert body["status"] == "active"


async def test_block_unblock_and_delete_show_in_client_status(
    client: httpx.AsyncClient, world: World
) -> None:
    user_id = world.ids["acme_user"]
    key = (await issue(client, world.auth("root"), user_id=str(user_id)))["key"]
    blocked = await client.post(
        f"/api/v1/admin/users/{user_id}/block", json={"reason": "lost laptop"}, headers=world.auth("root")
    )
    assert blocked.status_code == 200
    body = (await status_of(client, key)).json()
    assert (body["status"], body["is_blocked"]) == ("blocked", True)

    await client.post(f"/api/v1/admin/users/{user_id}/unblock", headers=world.auth("root"))
    body = (await status_of(client, key)).json()
    assert (body["status"], body["is_blocked"]) == ("active", False)

    assert (
        await client.delete(f"/api/v1/admin/users/{user_id}", headers=world.auth("root"))
    ).status_code == 204
    body = (await status_of(client, key)).json()
    assert (body["status"], body["is_blocked"]) == ("deleted", True)


async def test_a_lockout_does_not_lock_the_workstation(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    key = (await issue(client, world.auth("root"), user_id=str(world.ids["root_user"])))["key"]
    for _ in range(app.state.services.settings.lockout_threshold):
        await client.post("/api/v1/auth/login", json={"username": "root_user", "password": "wrong guess!!"})
    body = (await status_of(client, key)).json()
    assert (body["status"], body["is_blocked"]) == ("locked", False)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer gar_ak_" + "A" * 43,
        "Bearer gar_ak_" + "A" * 500,
        "Bearer not-a-key",
    ],
)
async def test_client_status_refuses_missing_and_unknown_keys(
    client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get("/api/client-status", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_client_status_refuses_a_user_access_token(client: httpx.AsyncClient, world: World) -> None:
    # The route is no longer an open oracle: a user's own session token is not an agent credential.
    response = await client.get("/api/client-status", headers=world.auth("acme_user"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_key_without_the_agent_scope_is_refused(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    issued = await issue(client, world.auth("root"), user_id=str(world.ids["root_user"]))
    database: Database = app.state.services.database
    async with database.transaction() as db:
        key = await db.get(ApiKey, uuid.UUID(issued["api_key"]["id"]))
        assert key is not None
        key.scopes = []
    response = await status_of(client, issued["key"])
    assert response.status_code == 403
    assert response.json()["type"] == "urn:garrison:problem:insufficient-scope"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_rotation_and_revocation_take_effect_at_once(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    auth = world.auth("acme_admin")
    issued = await issue(client, auth, user_id=str(world.ids["acme_user"]))
    key_id, old = issued["api_key"]["id"], issued["key"]

    rotated = await client.post(f"/api/v1/admin/api-keys/{key_id}/rotate", headers=auth)
    assert rotated.status_code == 200
    new = rotated.json()["key"]
    assert new != old
    assert rotated.json()["api_key"]["rotated_at"] is not None
    assert (await status_of(client, old)).status_code == 401
    assert (await status_of(client, new)).status_code == 200

    revoked = await client.post(f"/api/v1/admin/api-keys/{key_id}/revoke", headers=auth)
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert (await status_of(client, new)).status_code == 401
    again = await client.post(f"/api/v1/admin/api-keys/{key_id}/revoke", headers=auth)
    assert again.status_code == 409
    assert (await client.post(f"/api/v1/admin/api-keys/{key_id}/rotate", headers=auth)).status_code == 409

    database: Database = app.state.services.database
    async with database.sessions() as db:
        events = (
            await db.scalars(
                select(AuditEvent).where(AuditEvent.target_id == key_id).order_by(AuditEvent.created_at)
            )
        ).all()
    assert [event.action for event in events] == ["api_key.create", "api_key.rotate", "api_key.revoke"]
    # The audit trail never holds a secret, a hash of one, or more than the displayed prefix.
    for event in events:
        text = repr(event.before) + repr(event.after)
        assert old not in text
        assert new not in text
        assert old[:20] not in text
        assert new[:20] not in text


async def test_expired_key_is_refused(
    client: httpx.AsyncClient, world: World, clock: FrozenClock, accounts: Accounts
) -> None:
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    issued = await issue(client, world.auth("root"), user_id=str(world.ids["root_user"]), expires_at=expires)
    assert (await status_of(client, issued["key"])).status_code == 200
    clock.advance(hours=1)
    assert (await status_of(client, issued["key"])).status_code == 401
    auth = bearer(await accounts.login("root"))  # the old access token expired with the hour
    listed = await client.get("/api/v1/admin/api-keys", params={"status": "expired"}, headers=auth)
    assert [item["id"] for item in listed.json()["items"]] == [issued["api_key"]["id"]]


async def test_only_a_keyed_hash_is_stored_and_use_is_recorded(
    client: httpx.AsyncClient, world: World, app: FastAPI, clock: FrozenClock
) -> None:
    issued = await issue(client, world.auth("root"), user_id=str(world.ids["root_user"]))
    database: Database = app.state.services.database
    async with database.sessions() as db:
        row = await db.get(ApiKey, uuid.UUID(issued["api_key"]["id"]))
        assert row is not None
        assert issued["key"] not in (row.key_hash, row.key_prefix)
        assert len(row.key_hash) == 64
        assert row.last_used_at is None
    await status_of(client, issued["key"])
    got = await client.get(f"/api/v1/admin/api-keys/{issued['api_key']['id']}", headers=world.auth("root"))
    assert got.json()["last_used_at"] is not None
    assert "key" not in got.json()
    assert "key_hash" not in got.json()


async def test_permissions_and_organisation_scope(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get("/api/v1/admin/api-keys")).status_code == 401
    denied = await client.post(
        "/api/v1/admin/api-keys",
        json={"name": "x", "scopes": ["agent"], "user_id": str(world.ids["acme_user"])},
        headers=world.auth("acme_user"),
    )
    assert denied.status_code == 403
    root_key = await issue(client, world.auth("root"), user_id=str(world.ids["root_user"]))
    acme_key = await issue(client, world.auth("acme_admin"), user_id=str(world.ids["acme_user"]))

    acme_list = (await client.get("/api/v1/admin/api-keys", headers=world.auth("acme_admin"))).json()
    assert [item["id"] for item in acme_list["items"]] == [acme_key["api_key"]["id"]]
    root_list = (await client.get("/api/v1/admin/api-keys", headers=world.auth("root"))).json()
    assert root_list["total"] == 2
    only_acme = await client.get(
        "/api/v1/admin/api-keys", params={"org_id": str(world.other.id)}, headers=world.auth("root")
    )
    assert [item["id"] for item in only_acme.json()["items"]] == [acme_key["api_key"]["id"]]

    other = root_key["api_key"]["id"]
    for method, path in [
        ("GET", f"/api/v1/admin/api-keys/{other}"),
        ("POST", f"/api/v1/admin/api-keys/{other}/rotate"),
        ("POST", f"/api/v1/admin/api-keys/{other}/revoke"),
    ]:
        response = await client.request(method, path, headers=world.auth("acme_admin"))
        assert response.status_code == 404, path
    # An org admin cannot issue a key for someone outside their organisation, nor for a root admin.
    outside = await client.post(
        "/api/v1/admin/api-keys",
        json={"name": "x", "scopes": ["agent"], "user_id": str(world.ids["root_user"])},
        headers=world.auth("acme_admin"),
    )
    assert outside.status_code == 404
    assert (await status_of(client, root_key["key"])).status_code == 200


U = "<the user>"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "x", "scopes": ["agent"]}, "user_id"),
        ({"name": "x", "scopes": [], "user_id": U}, "scopes"),
        ({"name": "x", "scopes": ["admin"], "user_id": U}, "scopes"),
        ({"name": "", "scopes": ["agent"], "user_id": U}, "name"),
        ({"name": "a\u0007b", "scopes": ["agent"], "user_id": U}, "name"),
        (
            {"name": "x", "scopes": ["agent"], "user_id": U, "expires_at": "2020-01-01T00:00:00Z"},
            "expires_at",
        ),
        ({"name": "x", "scopes": ["agent"], "user_id": U, "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "scopes": ["agent"], "user_id": U, "key_hash": "0" * 64}, "key_hash"),
        ({"name": "x", "scopes": ["agent"], "user_id": "not-a-uuid"}, "user_id"),
        ({"name": "x\u0000", "scopes": ["agent"], "user_id": U}, "name"),
    ],
)
async def test_bad_requests_are_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], fragment: str
) -> None:
    if body.get("user_id") == U:
        body = {**body, "user_id": str(world.ids["root_user"])}
    response = await client.post("/api/v1/admin/api-keys", json=body, headers=world.auth("root"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in response.text


@pytest.fixture
async def limited(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    application = create_app(settings.model_copy(update={"rate_limit_api_key": "3/minute"}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


async def test_client_status_is_rate_limited_per_key(limited: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = limited
    accounts = Accounts(app, http)
    await accounts.create(username="chief", roles=(BuiltinRole.ROOT_ADMIN,))
    user = await accounts.create(username="walker")
    auth = bearer(await accounts.login("chief"))
    first = (await issue(http, auth, user_id=str(user.id)))["key"]
    second = (await issue(http, auth, user_id=str(user.id), name="second"))["key"]
    for _ in range(3):
        assert (await status_of(http, first)).status_code == 200
    refused = await status_of(http, first)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert (await status_of(http, second)).status_code == 200
