"""Admin user governance through HTTP: permissions, organisation scope, block and its effect."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from garrison.authn.subject import Principal
from garrison.authz.deps import Admin
from garrison.authz.permissions import Permission
from garrison.authz.service import Context, decide
from garrison.db import Database
from garrison.events.service import SYSTEM
from garrison.identity.admin_service import AdminService, LastRootAdmin
from garrison.identity.schemas import AdminUserUpdate
from garrison.kit.clock import FrozenClock
from garrison.models import AuditEvent, User, UserStatus
from tests.conftest import Accounts, World, bearer

PASSWORD = "a long and unusual passphrase"


async def audit_actions(app: FastAPI) -> list[str]:
    database: Database = app.state.services.database
    async with database.sessions() as db:
        return list((await db.scalars(select(AuditEvent.action).order_by(AuditEvent.created_at))).all())


async def test_permission_matrix(client: httpx.AsyncClient, world: World, app: FastAPI) -> None:
    assert (await client.get("/api/v1/admin/users")).status_code == 401
    denied = await client.get("/api/v1/admin/users", headers=world.auth("acme_user"))
    assert denied.status_code == 403
    assert denied.json()["type"] == "urn:garrison:problem:permission-denied"
    assert "access.denied" in await audit_actions(app)
    assert (await client.get("/api/v1/admin/users", headers=world.auth("acme_admin"))).status_code == 200
    assert (await client.get("/api/v1/admin/users", headers=world.auth("root"))).status_code == 200


async def test_org_admin_sees_only_their_organisation(client: httpx.AsyncClient, world: World) -> None:
    listing = (await client.get("/api/v1/admin/users", headers=world.auth("acme_admin"))).json()
    assert {row["username"] for row in listing["items"]} == {"acme_admin", "acme_user"}
    assert listing["total"] == 2
    elsewhere = await client.get(
        f"/api/v1/admin/users/{world.ids['root_user']}", headers=world.auth("acme_admin")
    )
    assert elsewhere.status_code == 404
    other_org = await client.get(
        "/api/v1/admin/users", params={"org_id": str(world.root.id)}, headers=world.auth("acme_admin")
    )
    assert other_org.status_code == 404
    block = await client.post(
        f"/api/v1/admin/users/{world.ids['root_user']}/block",
        json={"reason": "x"},
        headers=world.auth("acme_admin"),
    )
    assert block.status_code == 404


async def test_root_admin_sees_all_and_filters(client: httpx.AsyncClient, world: World) -> None:
    everyone = (await client.get("/api/v1/admin/users", headers=world.auth("root"))).json()
    assert everyone["total"] == 5
    acme = (
        await client.get(
            "/api/v1/admin/users", params={"org_id": str(world.other.id)}, headers=world.auth("root")
        )
    ).json()
    assert {row["username"] for row in acme["items"]} == {"acme_admin", "acme_user"}
    row = next(r for r in everyone["items"] if r["username"] == "acme_user")
    assert row["active_sessions"] == 1
    assert row["roles"] == ["user"]
    assert row["status"] == "active"
    admins = (
        await client.get("/api/v1/admin/users", params={"role": "root_admin"}, headers=world.auth("root"))
    ).json()
    assert {row["username"] for row in admins["items"]} == {"root", "root2"}
    found = (
        await client.get("/api/v1/admin/users", params={"q": "ACME_"}, headers=world.auth("root"))
    ).json()
    assert {row["username"] for row in found["items"]} == {"acme_admin", "acme_user"}
    by_name = (
        await client.get(
            "/api/v1/admin/users",
            params={"sort": "username", "order": "asc", "page_size": 2},
            headers=world.auth("root"),
        )
    ).json()
    assert [row["username"] for row in by_name["items"]] == ["acme_admin", "acme_user"]
    assert by_name["total"] == 5


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 201},
        {"page": 0},
        {"status": "sleepy"},
        {"sort": "password_hash"},
        {"order": "up"},
        {"org_id": "1"},
    ],
)
async def test_bad_listing_parameters_are_422(
    client: httpx.AsyncClient, world: World, params: dict[str, str | int]
) -> None:
    response = await client.get("/api/v1/admin/users", params=params, headers=world.auth("root"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_block_ends_sessions_now_and_refuses_login_until_unblocked(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    victim = world.tokens["acme_user"]
    assert (await client.get("/api/v1/auth/session", headers=bearer(victim))).status_code == 200
    blocked = await client.post(
        f"/api/v1/admin/users/{world.ids['acme_user']}/block",
        json={"reason": "stolen laptop"},
        headers=world.auth("acme_admin"),
    )
    assert blocked.status_code == 200
    assert blocked.json()["status"] == "blocked"
    assert (await client.get("/api/v1/auth/session", headers=bearer(victim))).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]})
    ).status_code == 401
    login = await client.post("/api/v1/auth/login", json={"username": "acme_user", "password": PASSWORD})
    assert login.status_code == 401
    listed = (
        await client.get("/api/v1/admin/users", params={"status": "blocked"}, headers=world.auth("root"))
    ).json()
    assert [row["username"] for row in listed["items"]] == ["acme_user"]
    unblocked = await client.post(
        f"/api/v1/admin/users/{world.ids['acme_user']}/unblock", headers=world.auth("acme_admin")
    )
    assert unblocked.json()["status"] == "active"
    assert (
        await client.post("/api/v1/auth/login", json={"username": "acme_user", "password": PASSWORD})
    ).status_code == 200
    actions = await audit_actions(app)
    assert "user.blocked" in actions
    assert "user.unblocked" in actions


async def test_guards_self_rank_and_last_root_admin(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    myself = await client.post(
        f"/api/v1/admin/users/{world.ids['acme_admin']}/block",
        json={"reason": "x"},
        headers=world.auth("acme_admin"),
    )
    assert myself.status_code == 403
    raise_self = await client.patch(
        f"/api/v1/admin/users/{world.ids['acme_user']}",
        json={"roles": ["root_admin"]},
        headers=world.auth("acme_admin"),
    )
    assert raise_self.status_code == 403
    # root2 may be blocked by root; then root is the last root admin and cannot be demoted by root2 (blocked).
    assert (
        await client.post(
            f"/api/v1/admin/users/{world.ids['root2']}/block",
            json={"reason": "x"},
            headers=world.auth("root"),
        )
    ).status_code == 200
    demote = await client.patch(
        f"/api/v1/admin/users/{world.ids['root']}", json={"roles": ["user"]}, headers=world.auth("root")
    )
    assert demote.status_code == 403  # not themself
    before = await audit_actions(app)
    failed = await client.post(
        f"/api/v1/admin/users/{world.ids['root']}/block", json={"reason": "x"}, headers=world.auth("root")
    )
    assert failed.status_code == 403
    assert await audit_actions(app) == before  # a refused mutation writes no audit event


async def test_create_user_with_temporary_password(
    client: httpx.AsyncClient, world: World, accounts: Accounts
) -> None:
    response = await client.post(
        "/api/v1/admin/users",
        json={
            "username": "newbie",
            "email": "newbie@acme.example",
            "roles": ["user"],
            "department": "Ops",
            "account_expires_at": "2099-01-01T00:00:00Z",
        },
        headers=world.auth("acme_admin"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["organisation_id"] == str(world.other.id)
    assert body["user"]["must_change_password"] is True
    assert body["user"]["department"] == "Ops"
    tokens = await accounts.login("newbie", body["temporary_password"])
    assert tokens["password_change_required"] is True
    too_high = await client.post(
        "/api/v1/admin/users",
        json={"username": "boss", "email": "boss@acme.example", "roles": ["root_admin"]},
        headers=world.auth("acme_admin"),
    )
    assert too_high.status_code == 403
    unknown = await client.post(
        "/api/v1/admin/users",
        json={"username": "odd", "email": "odd@acme.example", "roles": ["wizard"]},
        headers=world.auth("root"),
    )
    assert unknown.status_code == 422


async def test_update_delete_unlock_and_revoke_all(
    client: httpx.AsyncClient, world: World, clock: FrozenClock, app: FastAPI
) -> None:
    target = world.ids["acme_user"]
    patch = await client.patch(
        f"/api/v1/admin/users/{target}",
        json={"rank": "Sergeant", "roles": ["org_admin"]},
        headers=world.auth("root"),
    )
    assert patch.status_code == 200
    assert patch.json()["roles"] == ["org_admin"]
    database: Database = app.state.services.database
    async with database.sessions() as db:
        event = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "user.updated"))).one()
    assert event.before == {"rank": None, "roles": ["user"]}
    assert event.after == {"rank": "Sergeant", "roles": ["org_admin"]}

    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"username": "root_user", "password": "wrong password!"})
    locked = await client.get(f"/api/v1/admin/users/{world.ids['root_user']}", headers=world.auth("root"))
    assert locked.json()["status"] == "locked"
    unlocked = await client.post(
        f"/api/v1/admin/users/{world.ids['root_user']}/unlock", headers=world.auth("root")
    )
    assert unlocked.json()["status"] == "active"
    assert (
        await client.post("/api/v1/auth/login", json={"username": "root_user", "password": PASSWORD})
    ).status_code == 200

    revoked = await client.post(
        f"/api/v1/admin/users/{world.ids['root_user']}/sessions/revoke-all", headers=world.auth("root")
    )
    assert revoked.json() == {"revoked": 2}
    assert (await client.get("/api/v1/auth/session", headers=world.auth("root_user"))).status_code == 401

    assert (
        await client.delete(f"/api/v1/admin/users/{target}", headers=world.auth("root"))
    ).status_code == 204
    assert (await client.get(f"/api/v1/admin/users/{target}", headers=world.auth("root"))).status_code == 404
    assert (await client.get("/api/v1/auth/session", headers=world.auth("acme_user"))).status_code == 401
    assert (
        await client.post("/api/v1/auth/login", json={"username": "acme_user", "password": PASSWORD})
    ).status_code == 401


async def test_a_blocked_root_admin_is_not_the_last_one(client: httpx.AsyncClient, world: World) -> None:
    """Only active root admins count: demoting or deleting a blocked one leaves the count unchanged."""
    root2 = world.ids["root2"]
    blocked = await client.post(
        f"/api/v1/admin/users/{root2}/block", json={"reason": "left"}, headers=world.auth("root")
    )
    assert blocked.status_code == 200
    demoted = await client.patch(
        f"/api/v1/admin/users/{root2}", json={"roles": ["user"]}, headers=world.auth("root")
    )
    assert demoted.status_code == 200, demoted.text
    assert (
        await client.delete(f"/api/v1/admin/users/{root2}", headers=world.auth("root"))
    ).status_code == 204


async def test_the_last_active_root_admin_cannot_be_blocked_demoted_or_deleted(
    app: FastAPI, world: World
) -> None:
    """Through HTTP the self-guard answers first (only a root admin can act on one, and that admin
    counts too), so the rule is proven on the service with an actor that holds no root role itself,
    as a policy or another non-human actor would."""
    service: AdminService = app.state.services.user_admin
    database: Database = app.state.services.database
    async with database.transaction() as db:
        await service.block(db, _root_actor(), world.ids["root2"], "leaving")
    for attempt in (
        lambda db: service.block(db, _root_actor(), world.ids["root"], "x"),
        lambda db: service.delete(db, _root_actor(), world.ids["root"]),
        lambda db: service.update_user(db, _root_actor(), world.ids["root"], AdminUserUpdate(roles=["user"])),
    ):
        with pytest.raises(LastRootAdmin):
            async with database.transaction() as db:
                await attempt(db)
    async with database.sessions() as db:
        user = await db.get(User, world.ids["root"])
        assert user is not None
        assert user.status is UserStatus.ACTIVE
        assert user.deleted_at is None


def _root_actor() -> Admin:
    now = datetime.now(UTC)
    principal = Principal(
        user_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        username="policy",
        roles=("root_admin",),
        token_expires_at=now,
        session_expires_at=now,
        must_change_password=False,
    )
    decision = decide(principal, Permission.USERS_WRITE)
    assert decision.scope is not None
    return Admin(principal, SYSTEM, Permission.USERS_WRITE, decision.scope, Context())
