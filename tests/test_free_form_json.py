"""Free-form JSON is bounded at the edge, and the audit trail survives rows written around the API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import JSON, Text, cast, insert, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.app import create_app
from garrison.audit import admin_router as audit_router
from garrison.config import Settings
from garrison.events.service import SYSTEM, event_row
from garrison.kit.clock import FrozenClock
from garrison.kit.schemas import JSON_MAX_BYTES, JSON_MAX_DEPTH
from garrison.models import AuditEvent
from tests.conftest import Accounts, World, bearer
from tests.test_bad_input import assert_problem


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep: {"a": {"a": ... {} }}."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.fixture
async def roomy(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose configured attributes limit is above the built-in one, so that one answers."""
    application = create_app(settings.model_copy(update={"attributes_max_bytes": 1 << 20}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


async def test_attributes_depth_is_limited_everywhere(client: httpx.AsyncClient, world: World) -> None:
    auth = world.auth("root")
    deep, fine = nested(JSON_MAX_DEPTH + 1), nested(JSON_MAX_DEPTH)
    me = await client.patch("/api/v1/me", json={"attributes": deep}, headers=world.auth("root_user"))
    assert f"deeper than {JSON_MAX_DEPTH} levels" in assert_problem(me, 422)["detail"]
    ok = await client.patch("/api/v1/me", json={"attributes": fine}, headers=world.auth("root_user"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["attributes"] == fine
    create = {"username": "deep", "email": "deep@example.com", "attributes": deep}
    assert_problem(await client.post("/api/v1/admin/users", json=create, headers=auth), 422)
    target = f"/api/v1/admin/users/{world.ids['acme_user']}"
    assert_problem(await client.patch(target, json={"attributes": deep}, headers=auth), 422)
    register = {"username": "deeper", "email": "deeper@example.com", "password": "x" * 20, "attributes": deep}
    assert_problem(await client.post("/api/v1/auth/register", json=register), 422)


async def test_attributes_size_counts_keys_whatever_the_setting(
    roomy: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = roomy
    accounts = Accounts(app, http)
    await accounts.create(username="walker")
    auth = bearer(await accounts.login("walker"))
    many_keys = {f"key-{i:05d}": 0 for i in range(JSON_MAX_BYTES // 10)}
    response = await http.patch("/api/v1/me", json={"attributes": many_keys}, headers=auth)
    assert f"the limit is {JSON_MAX_BYTES}" in assert_problem(response, 422)["detail"]


async def _poison(db: AsyncSession, backend: str) -> None:
    """One audit row written straight into the database, its before and after unfit to render."""
    row = event_row(SYSTEM, "test.poisoned", organisation_id=None)
    # SQLite stores any text in a JSON column; PostgreSQL's json type only valid JSON, so there the
    # poison is nesting past the decoder's recursion limit.
    before = "not json {" if backend == "sqlite" else "[" * 5000 + "]" * 5000
    after = json.dumps(nested(300))
    if backend == "sqlite":
        row["before"], row["after"] = type_coerce(before, Text), type_coerce(after, Text)
    else:
        row["before"] = cast(type_coerce(before, Text), JSON)
        row["after"] = cast(type_coerce(after, Text), JSON)
    await db.execute(insert(AuditEvent).values(**row))
    await db.commit()


def _is_unrenderable(value: Any) -> None:
    assert isinstance(value, dict), value
    assert value["unrenderable"] is True
    assert value["reason"]


async def test_a_poisoned_audit_row_is_shown_as_such_and_the_rest_complete(
    client: httpx.AsyncClient, world: World, db: AsyncSession, backend: str
) -> None:
    auth = world.auth("root")
    await _poison(db, backend)
    listing = await client.get("/api/v1/admin/audit-events", params={"page_size": 200}, headers=auth)
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert listing.json()["total"] == len(items) > 1
    poisoned = [item for item in items if item["action"] == "test.poisoned"]
    assert len(poisoned) == 1
    _is_unrenderable(poisoned[0]["before"])
    _is_unrenderable(poisoned[0]["after"])

    export = await client.get("/api/v1/admin/audit-events/export", params={"format": "ndjson"}, headers=auth)
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert len(lines) == len(items)
    assert all("error" not in line for line in lines)
    _is_unrenderable(next(line for line in lines if line["action"] == "test.poisoned")["after"])

    export = await client.get("/api/v1/admin/audit-events/export", params={"format": "csv"}, headers=auth)
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == len(items)
    assert '"unrenderable":true' in next(row for row in rows if row["action"] == "test.poisoned")["after"]


@pytest.mark.parametrize("format", ["ndjson", "csv"])
async def test_an_export_that_fails_midway_says_so_at_its_end(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, format: str
) -> None:
    auth = world.auth("root")
    total = (await client.get("/api/v1/admin/audit-events", headers=auth)).json()["total"]
    assert total > 2
    real, seen = audit_router._out, []

    def failing(event: AuditEvent) -> Any:
        seen.append(event)
        if len(seen) == 2:
            raise RuntimeError("storage went away")
        return real(event)

    monkeypatch.setattr(audit_router, "_out", failing)
    export = await client.get("/api/v1/admin/audit-events/export", params={"format": format}, headers=auth)
    assert export.status_code == 200
    last = export.text.splitlines()[-1]
    assert "export failed after 1 events; this file is incomplete" in last
    assert "storage went away" not in export.text
    if format == "ndjson":
        assert json.loads(last)["complete"] is False
