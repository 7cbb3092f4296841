"""Every admin route, walked from the OpenAPI document, stays inside the caller's organisation.

Organisation A has users, sessions, an API key, anomalies and audit events; so does organisation B
(world.other, "Acme"). As B's organisation administrator, every admin route is called with A's ids in
its path parameters, A's id in ``org_id`` and A's user in the other id filters, and with bodies that
aim at A. Details and mutations answer 404 and change nothing of A (nor of records of no
organisation); listings, exports and statistics name nothing outside B and equal what a root
administrator sees when narrowing to B. A route added without a row in the tables below fails here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.db import Database
from garrison.models import (
    Anomaly,
    ApiKey,
    AuditEvent,
    LoginAttempt,
    Organisation,
    RefreshToken,
    Session,
    User,
    UserRole,
)
from garrison.models.base import Base
from tests.conftest import Accounts, World
from tests.fixtures.factories import make_org

ADMIN_PREFIX = "/api/v1/admin/"
# Rows whose organisation is A's or none: none of them may change, none may be named to B.
GUARDED: tuple[type[Base], ...] = (User, UserRole, Session, RefreshToken, ApiKey, Anomaly, AuditEvent)
# Models whose ids must never reach B when they belong to another organisation (or to none).
NAMED: tuple[type[Base], ...] = (User, Session, ApiKey, Anomaly, AuditEvent, LoginAttempt)


@dataclass
class Alpha:
    """Organisation A's ids, by what a route names them."""

    organisation: uuid.UUID
    users: list[uuid.UUID] = field(default_factory=list)
    sessions: list[uuid.UUID] = field(default_factory=list)
    keys: list[uuid.UUID] = field(default_factory=list)
    anomalies: list[uuid.UUID] = field(default_factory=list)


# Path parameters: the A ids each is tried with (every one must answer 404).
def _path_values(alpha: Alpha) -> dict[str, list[uuid.UUID]]:
    return {
        "user_id": alpha.users,
        "session_id": alpha.sessions,
        "key_id": alpha.keys,
        "anomaly_id": alpha.anomalies,
    }


# Query parameters that name A: org_id is refused (404); the others filter to nothing of A.
def _query_probes(alpha: Alpha) -> dict[str, str]:
    user = str(alpha.users[0])
    return {"org_id": str(alpha.organisation), "user_id": user, "actor": user, "target": user}


# Every admin operation that is not a GET: the bodies it is tried with (None: no body). Each body aims
# at A (or, with A's id in the path, is a plain valid request); every attempt must answer 404.
def _bodies(alpha: Alpha) -> dict[str, list[dict[str, Any] | None]]:
    user = str(alpha.users[0])
    return {
        "POST /api/v1/admin/users": [
            {
                "username": "intruder",
                "email": "intruder@example.com",
                "organisation_id": str(alpha.organisation),
            }
        ],
        "PATCH /api/v1/admin/users/{user_id}": [{"full_name": "Changed"}, {"roles": ["user"]}],
        "DELETE /api/v1/admin/users/{user_id}": [None],
        "POST /api/v1/admin/users/{user_id}/block": [{"reason": "cross-organisation"}],
        "POST /api/v1/admin/users/{user_id}/unblock": [None],
        "POST /api/v1/admin/users/{user_id}/unlock": [None],
        "POST /api/v1/admin/users/{user_id}/sessions/revoke-all": [None],
        "POST /api/v1/admin/sessions/{session_id}/revoke": [None, {"reason": "cross-organisation"}],
        "POST /api/v1/admin/anomalies/{anomaly_id}/acknowledge": [None, {"note": "cross-organisation"}],
        "POST /api/v1/admin/anomalies/{anomaly_id}/resolve": [None],
        "POST /api/v1/admin/api-keys": [{"name": "intruder", "scopes": ["agent"], "user_id": user}],
        "POST /api/v1/admin/api-keys/{key_id}/rotate": [None],
        "POST /api/v1/admin/api-keys/{key_id}/revoke": [None],
    }


def _admin_operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    operations = []
    for path, methods in app.openapi()["paths"].items():
        if path.startswith(ADMIN_PREFIX):
            operations += [(method.upper(), path, operation) for method, operation in methods.items()]
    return operations


async def _snapshot(db: AsyncSession, organisation: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every column of every guarded row of ``organisation`` or of none."""
    taken: dict[str, list[dict[str, Any]]] = {}
    for model in GUARDED:
        column = model.__table__.c.organisation_id
        query = select(model).where(or_(column == organisation, column.is_(None)))
        rows = (await db.scalars(query)).all()
        keys = [attr.key for attr in inspect(model).column_attrs]
        taken[model.__name__] = sorted(({key: getattr(row, key) for key in keys} for row in rows), key=repr)
    return taken


async def _foreign_ids(db: AsyncSession, organisation: uuid.UUID) -> set[str]:
    """Ids of every record outside ``organisation`` (of another one or of none), and the other
    organisations' ids."""
    ids = {
        str(org) for org in await db.scalars(select(Organisation.id).where(Organisation.id != organisation))
    }
    for model in NAMED:
        column = model.__table__.c.organisation_id
        query = select(model.__table__.c.id).where(or_(column != organisation, column.is_(None)))
        ids |= {str(row) for row in await db.scalars(query)}
    return ids


async def _populate(app: FastAPI, client: httpx.AsyncClient, accounts: Accounts, world: World) -> Alpha:
    database: Database = app.state.services.database
    async with database.transaction() as db:
        alpha = Alpha((await make_org(db, name="Alpha")).id)
    root = world.auth("root")
    for name, role in (("alpha_admin", "org_admin"), ("alpha_user", "user")):
        created = await client.post(
            "/api/v1/admin/users",
            headers=root,
            json={
                "username": name,
                "email": f"{name}@example.com",
                "roles": [role],
                "organisation_id": str(alpha.organisation),
            },
        )
        assert created.status_code == 201, created.text
        user_id = uuid.UUID(created.json()["user"]["id"])
        alpha.users.append(user_id)
        # A known password, then a login: a session (and login attempts, audit events) in A.
        async with database.transaction() as db:
            user = await db.get(User, user_id)
            assert user is not None
            user.password_hash = await app.state.services.hasher.hash("a long and unusual passphrase")
            user.must_change_password = False
        alpha.sessions.append(uuid.UUID((await accounts.login(name))["session_id"]))
    # A failed login of nobody: an attempt and audit events of no organisation.
    failed = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "wrong password!"}
    )
    assert failed.status_code == 401
    for owner, headers in ((alpha.users[1], root), (world.ids["acme_user"], world.auth("acme_admin"))):
        issued = await client.post(
            "/api/v1/admin/api-keys",
            headers=headers,
            json={"name": "host", "scopes": ["agent"], "user_id": str(owner)},
        )
        assert issued.status_code == 201, issued.text
        if owner in alpha.users:
            alpha.keys.append(uuid.UUID(issued.json()["api_key"]["id"]))
    blocked = await client.post(
        f"/api/v1/admin/users/{alpha.users[1]}/block", headers=root, json={"reason": "test"}
    )
    assert blocked.status_code == 200, blocked.text
    async with database.transaction() as db:
        anomalies = [
            Anomaly(
                type="lockout",
                severity="medium",
                details={},
                organisation_id=alpha.organisation,
                user_id=alpha.users[1],
            ),
            Anomaly(type="lockout", severity="medium", details={}),  # of no organisation: root only
            Anomaly(
                type="lockout",
                severity="medium",
                details={},
                organisation_id=world.other.id,
                user_id=world.ids["acme_user"],
            ),
        ]
        db.add_all(anomalies)
        await db.flush()
        alpha.anomalies += [anomalies[0].id, anomalies[1].id]
    return alpha


def _fill(path: str, values: dict[str, uuid.UUID]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path


@dataclass(frozen=True)
class Call:
    """One request of the walk: ``expect`` 404 (a detail or mutation aimed at A) or 200 (a listing)."""

    route: str
    method: str
    url: str
    expect: int
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    narrows: bool = False  # the listing takes org_id: compare with root's view narrowed to B


def _plan(
    operations: list[tuple[str, str, dict[str, Any]]],
    path_values: dict[str, list[uuid.UUID]],
    probes: dict[str, str],
    bodies: dict[str, list[dict[str, Any] | None]],
) -> list[Call]:
    """Every call the walk makes, derived from the OpenAPI operations; an admin route the tables do
    not cover fails here, with what to add."""
    calls: list[Call] = []
    for method, path, operation in operations:
        route = f"{method} {path}"
        parameters = operation.get("parameters", [])
        in_path = [p["name"] for p in parameters if p["in"] == "path"]
        unknown = [name for name in in_path if name not in path_values]
        assert not unknown, f"{route}: no A ids for path parameter(s) {unknown}; add them to _path_values"
        if method != "GET":
            assert route in bodies, f"{route}: a mutation not covered; add its bodies to _bodies"
        combos: list[dict[str, uuid.UUID]] = [{}]
        for name in in_path:
            combos = [{**combo, name: value} for combo in combos for value in path_values[name]]
        query = {p["name"] for p in parameters if p["in"] == "query"}
        for combo in combos:
            url = _fill(path, combo)
            if method != "GET":
                calls += [Call(route, method, url, 404, body=body) for body in bodies[route]]
            elif in_path:
                calls.append(Call(route, method, url, 404))
            else:
                # A listing, export or statistic: A's organisation is refused, A's ids filter to nothing.
                if "org_id" in query:
                    calls.append(Call(route, method, url, 404, params={"org_id": probes["org_id"]}))
                for name in [None, *sorted(query & probes.keys() - {"org_id"})]:
                    params = {name: probes[name]} if name else {}
                    calls.append(Call(route, method, url, 200, params=params, narrows="org_id" in query))
    covered = {call.route for call in calls}
    assert covered == {f"{method} {path}" for method, path, _ in operations}
    assert set(bodies) <= covered, f"bodies for routes that no longer exist: {set(bodies) - covered}"
    return calls


@pytest.mark.usefixtures("world")
async def test_no_admin_route_reaches_outside_the_callers_organisation(
    app: FastAPI, client: httpx.AsyncClient, accounts: Accounts, world: World
) -> None:
    alpha = await _populate(app, client, accounts, world)
    database: Database = app.state.services.database
    bravo = world.auth("acme_admin")
    calls = _plan(_admin_operations(app), _path_values(alpha), _query_probes(alpha), _bodies(alpha))
    async with database.sessions() as db:
        before = await _snapshot(db, alpha.organisation)
        foreign = await _foreign_ids(db, world.other.id)
    assert str(alpha.organisation) in foreign
    assert len(foreign) > 10

    listings: list[tuple[Call, httpx.Response]] = []
    for call in calls:
        response = await client.request(
            call.method, call.url, headers=bravo, params=call.params, json=call.body
        )
        described = f"{call.route} {call.params or ''}{call.body or ''}"
        assert response.status_code == call.expect, f"{described}: {response.status_code} {response.text}"
        if call.expect == 200:
            named = sorted(ident for ident in foreign if ident in response.text)
            assert not named, f"{described} names records outside B: {named}"
            listings.append((call, response))

    async with database.sessions() as db:
        assert await _snapshot(db, alpha.organisation) == before

    # What B's administrator sees is what a root administrator sees narrowed to B.
    root = world.auth("root")
    seen_items = 0
    for call, response in listings:
        if call.narrows:
            params = {**call.params, "org_id": str(world.other.id)}
            narrowed = await client.get(call.url, headers=root, params=params)
            assert narrowed.status_code == 200
            assert _body(narrowed) == _body(response), (
                f"{call.route} {call.params}: B's view differs from root's"
            )
        body = _body(response)
        if not call.params and isinstance(body, dict) and "items" in body:
            assert body["items"], f"{call.route}: B's own records are missing"
            seen_items += 1
    assert seen_items >= 5  # users, sessions, audit events, anomalies, API keys


def _body(response: httpx.Response) -> Any:
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    return response.text


def test_an_admin_route_the_tables_do_not_cover_fails_the_walk() -> None:
    app = FastAPI()

    @app.get("/api/v1/admin/widgets/{widget_id}")
    async def widget(widget_id: uuid.UUID) -> dict[str, str]:
        return {}

    @app.post("/api/v1/admin/gadgets")
    async def gadget() -> dict[str, str]:
        return {}

    alpha = Alpha(uuid.uuid4(), [uuid.uuid4()], [uuid.uuid4()], [uuid.uuid4()], [uuid.uuid4()])
    operations = _admin_operations(app)
    with pytest.raises(AssertionError, match=r"GET /api/v1/admin/widgets/\{widget_id\}: no A ids.*widget_id"):
        _plan(operations[:1], _path_values(alpha), _query_probes(alpha), {})
    with pytest.raises(AssertionError, match="POST /api/v1/admin/gadgets: a mutation not covered"):
        _plan(operations[1:], _path_values(alpha), _query_probes(alpha), {})
