"""Every date-time Garrison accepts needs a time zone offset (RFC 3339 §5.6): a naive one is a 422."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import World
from tests.test_bad_input import assert_problem

NAIVE = "2026-01-01T00:00:00"
AWARE = "2026-01-01T00:00:00+02:00"

LISTINGS = [
    ("/api/v1/admin/sessions", "from"),
    ("/api/v1/admin/sessions", "to"),
    ("/api/v1/admin/audit-events", "from"),
    ("/api/v1/admin/audit-events", "to"),
    ("/api/v1/admin/audit-events/export", "from"),
    ("/api/v1/admin/audit-events/export", "to"),
    ("/api/v1/admin/anomalies", "since"),
    ("/api/v1/admin/anomalies", "to"),
    ("/api/v1/admin/analytics/logins", "from"),
    ("/api/v1/admin/analytics/logins", "to"),
    ("/api/v1/admin/analytics/heatmap", "from"),
    ("/api/v1/admin/analytics/heatmap", "to"),
]


def _says_offset_required(body: dict[str, object]) -> None:
    assert "a time zone offset is required" in str(body["detail"])


@pytest.mark.parametrize(("path", "param"), LISTINGS)
async def test_naive_date_time_filters_are_422(
    client: httpx.AsyncClient, world: World, path: str, param: str
) -> None:
    auth = world.auth("root")
    _says_offset_required(assert_problem(await client.get(path, params={param: NAIVE}, headers=auth), 422))
    assert (await client.get(path, params={param: AWARE}, headers=auth)).status_code == 200
    assert (await client.get(path, params={param: "2026-01-01T00:00:00Z"}, headers=auth)).status_code == 200


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_date_times_that_overflow_in_utc_are_422(
    client: httpx.AsyncClient, world: World, value: str
) -> None:
    response = await client.get("/api/v1/admin/sessions", params={"from": value}, headers=world.auth("root"))
    assert_problem(response, 422)


async def test_naive_account_expiry_is_422_on_create_and_patch(
    client: httpx.AsyncClient, world: World
) -> None:
    auth = world.auth("root")
    body = {"username": "tz-less", "email": "tz-less@example.com", "account_expires_at": NAIVE}
    _says_offset_required(
        assert_problem(await client.post("/api/v1/admin/users", json=body, headers=auth), 422)
    )
    target = f"/api/v1/admin/users/{world.ids['root_user']}"
    patched = await client.patch(target, json={"account_expires_at": NAIVE}, headers=auth)
    _says_offset_required(assert_problem(patched, 422))
    patched = await client.patch(
        target, json={"account_expires_at": "2099-01-01T00:00:00+02:00"}, headers=auth
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["account_expires_at"].startswith("2098-12-31T22:00:00")


async def test_naive_api_key_expiry_is_422(client: httpx.AsyncClient, world: World) -> None:
    body = {"name": "host", "scopes": ["agent"], "user_id": str(world.ids["root_user"]), "expires_at": NAIVE}
    response = await client.post("/api/v1/admin/api-keys", json=body, headers=world.auth("root"))
    _says_offset_required(assert_problem(response, 422))
