"""Cookie delivery of the refresh token for first-party browser apps: login, refresh, logout, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from garrison.app import create_app
from garrison.config import Settings
from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import Anomaly, BuiltinRole
from tests.conftest import Accounts, bearer

PASSWORD = "a long and unusual passphrase"
LOGIN, REFRESH, LOGOUT = "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"
THIRTY_DAYS = 30 * 86_400


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """Each Set-Cookie of ``response`` by name: its value under ``""`` and its attributes, lower-cased."""
    cookies: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        parsed = {"": value.strip('"')}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            parsed[key.lower()] = val
        cookies[name] = parsed
    return cookies


async def cookie_login(client: httpx.AsyncClient, username: str) -> tuple[dict[str, Any], str]:
    """Log in with cookie delivery; the answer and the refresh cookie's value."""
    response = await client.post(
        LOGIN, json={"username": username, "password": PASSWORD, "token_delivery": "cookie"}
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each test sends exactly the cookies it means to
    return response.json(), set_cookies(response)["garrison_refresh"][""]


def with_cookie(refresh_token: str, csrf: str | None = None) -> dict[str, str]:
    headers = {"Cookie": f"garrison_refresh={refresh_token}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers


async def anomaly_count(app: FastAPI) -> int:
    database: Database = app.state.services.database
    async with database.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Anomaly)) or 0)


async def test_cookie_login_sets_an_httponly_refresh_cookie_and_returns_no_refresh_token(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    await accounts.create(username="alice")
    response = await client.post(
        LOGIN, json={"username": "alice", "password": PASSWORD, "token_delivery": "cookie"}
    )
    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body
    assert body["csrf_token"]
    cookies = set_cookies(response)
    refresh = cookies["garrison_refresh"]
    assert refresh[""].startswith("gar_rt_")
    assert "httponly" in refresh
    assert refresh["samesite"].lower() == "strict"
    assert refresh["path"] == "/api/v1/auth"
    assert int(refresh["max-age"]) == THIRTY_DAYS
    assert "secure" not in refresh  # plain http and an http issuer: a browser would drop a Secure cookie
    csrf = cookies["garrison_csrf"]
    assert csrf[""] == body["csrf_token"]
    assert "httponly" not in csrf  # the app reads it back after a reload
    assert csrf["samesite"].lower() == "strict"
    assert csrf["path"] == "/"
    assert (await client.get("/api/v1/auth/session", headers=bearer(body))).status_code == 200


async def test_body_delivery_is_unchanged_and_sets_no_cookie(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    await accounts.create(username="bob")
    for extra in ({}, {"token_delivery": "body"}):
        response = await client.post(LOGIN, json={"username": "bob", "password": PASSWORD, **extra})
        assert response.status_code == 200
        assert response.json()["refresh_token"].startswith("gar_rt_")
        assert "csrf_token" not in response.json()
        assert response.headers.get_list("set-cookie") == []
    form = await client.post(LOGIN, data={"username": "bob", "password": PASSWORD})
    assert form.json()["refresh_token"].startswith("gar_rt_")


@pytest.mark.parametrize("delivery", ["cookies", "Cookie", "", None, 1])
async def test_unknown_token_delivery_is_a_422(
    accounts: Accounts, client: httpx.AsyncClient, delivery: object
) -> None:
    await accounts.create(username="bill")
    response = await client.post(
        LOGIN, json={"username": "bill", "password": PASSWORD, "token_delivery": delivery}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_cookie_refresh_rotates_the_cookie_and_the_csrf_token(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="carol")
    first, refresh_token = await cookie_login(client, "carol")
    clock.advance(days=1)
    response = await client.post(REFRESH, json={}, headers=with_cookie(refresh_token, first["csrf_token"]))
    assert response.status_code == 200, response.text
    second = response.json()
    assert "refresh_token" not in second
    assert second["session_id"] == first["session_id"]
    assert second["csrf_token"] != first["csrf_token"]
    cookies = set_cookies(response)
    assert cookies["garrison_refresh"][""] != refresh_token
    assert cookies["garrison_csrf"][""] == second["csrf_token"]
    # The cookie lives as long as the session may: its absolute lifetime, counted from login.
    assert int(cookies["garrison_refresh"]["max-age"]) == THIRTY_DAYS - 86_400
    assert (await client.get("/api/v1/auth/session", headers=bearer(second))).status_code == 200
    # No body at all is the same as {}.
    third = await client.post(
        REFRESH, headers=with_cookie(cookies["garrison_refresh"][""], second["csrf_token"])
    )
    assert third.status_code == 200, third.text


@pytest.mark.parametrize(
    "csrf",
    [
        None,
        "",
        "x",
        "A" * 43,
        "A" * 5000,
        "\u00e9t\u00e9",
    ],
    ids=["missing", "empty", "short", "wrong", "huge", "non-ascii"],
)
async def test_cookie_refresh_without_the_right_csrf_token_is_refused_and_spends_nothing(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI, csrf: str | None
) -> None:
    await accounts.create(username="dave")
    tokens, refresh_token = await cookie_login(client, "dave")
    headers = {name.encode(): value.encode() for name, value in with_cookie(refresh_token).items()}
    if csrf is not None:
        headers[b"X-CSRF-Token"] = csrf.encode()  # raw UTF-8 bytes, as a hostile client could send
    response = await client.post(REFRESH, json={}, headers=headers)
    assert response.status_code == 403
    assert response.json()["type"] == "urn:garrison:problem:csrf-failed"
    assert response.headers.get_list("set-cookie") == []
    # The forged request neither spent the token nor looked like reuse.
    good = await client.post(REFRESH, json={}, headers=with_cookie(refresh_token, tokens["csrf_token"]))
    assert good.status_code == 200
    assert await anomaly_count(app) == 0


async def test_the_csrf_token_of_another_session_does_not_fit(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    await accounts.create(username="erin")
    _, my_cookie = await cookie_login(client, "erin")
    other, _other_cookie = await cookie_login(client, "erin")
    response = await client.post(REFRESH, json={}, headers=with_cookie(my_cookie, other["csrf_token"]))
    assert response.status_code == 403


async def test_refresh_without_a_token_or_a_cookie_is_a_422(client: httpx.AsyncClient) -> None:
    bodies: list[dict[str, Any] | None] = [{}, None, {"refresh_token": None}]
    for body in bodies:
        response = await client.post(REFRESH, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"


async def test_an_unknown_refresh_cookie_with_its_own_csrf_token_is_a_401(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    from garrison.sessions.cookies import csrf_token

    fake = "gar_rt_" + "x" * 43
    response = await client.post(
        REFRESH, json={}, headers=with_cookie(fake, csrf_token(app.state.services.settings, fake))
    )
    assert response.status_code == 401
    assert response.json()["type"] == "urn:garrison:problem:invalid-refresh-token"


async def test_reusing_a_rotated_refresh_cookie_revokes_the_session(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    await accounts.create(username="fay")
    first, old_cookie = await cookie_login(client, "fay")
    rotated = await client.post(REFRESH, json={}, headers=with_cookie(old_cookie, first["csrf_token"]))
    second = rotated.json()
    reused = await client.post(REFRESH, json={}, headers=with_cookie(old_cookie, first["csrf_token"]))
    assert reused.status_code == 401
    assert (await client.get("/api/v1/auth/session", headers=bearer(second))).status_code == 401
    assert await anomaly_count(app) == 1


async def test_cookie_logout_ends_the_session_and_clears_both_cookies(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    await accounts.create(username="gus")
    tokens, refresh_token = await cookie_login(client, "gus")
    response = await client.post(LOGOUT, headers=with_cookie(refresh_token, tokens["csrf_token"]))
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert cleared["garrison_refresh"][""] == ""
    assert cleared["garrison_refresh"]["max-age"] == "0"
    assert cleared["garrison_refresh"]["path"] == "/api/v1/auth"
    assert cleared["garrison_csrf"]["max-age"] == "0"
    assert cleared["garrison_csrf"]["path"] == "/"
    # The session is over: the cookie no longer refreshes, the access token no longer works.
    again = await client.post(REFRESH, json={}, headers=with_cookie(refresh_token, tokens["csrf_token"]))
    assert again.status_code == 401
    assert (await client.get("/api/v1/auth/session", headers=bearer(tokens))).status_code == 401


async def test_cookie_logout_needs_the_csrf_token(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="hal")
    tokens, refresh_token = await cookie_login(client, "hal")
    response = await client.post(LOGOUT, headers=with_cookie(refresh_token, "forged"))
    assert response.status_code == 403
    assert (await client.get("/api/v1/auth/session", headers=bearer(tokens))).status_code == 200


async def test_bearer_logout_also_clears_the_cookies(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="ida")
    tokens, refresh_token = await cookie_login(client, "ida")
    response = await client.post(LOGOUT, headers=bearer(tokens))
    assert response.status_code == 204
    assert set(set_cookies(response)) == {"garrison_refresh", "garrison_csrf"}
    again = await client.post(REFRESH, json={}, headers=with_cookie(refresh_token, tokens["csrf_token"]))
    assert again.status_code == 401


async def test_logout_without_a_token_or_a_cookie_is_a_401(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGOUT)
    assert response.status_code == 401
    assert response.json()["type"] == "urn:garrison:problem:missing-token"


async def test_cookie_logout_with_a_spent_cookie_ends_nothing_but_clears_cookies(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    await accounts.create(username="jo")
    first, old_cookie = await cookie_login(client, "jo")
    second = (
        await client.post(REFRESH, json={}, headers=with_cookie(old_cookie, first["csrf_token"]))
    ).json()
    response = await client.post(LOGOUT, headers=with_cookie(old_cookie, first["csrf_token"]))
    assert response.status_code == 204
    assert set(set_cookies(response)) == {"garrison_refresh", "garrison_csrf"}
    assert (await client.get("/api/v1/auth/session", headers=bearer(second))).status_code == 200


@pytest.fixture
async def https_client(
    settings: Settings, clock: FrozenClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    application = create_app(settings.model_copy(update={"issuer": "https://id.example.com"}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


async def test_cookies_are_secure_behind_an_https_issuer(
    https_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    application, http = https_client
    await Accounts(application, http).create(username="kim")
    response = await http.post(
        LOGIN, json={"username": "kim", "password": PASSWORD, "token_delivery": "cookie"}
    )
    cookies = set_cookies(response)
    assert "secure" in cookies["garrison_refresh"]
    assert "secure" in cookies["garrison_csrf"]


async def test_me_lists_the_permissions_of_the_callers_roles(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    await accounts.create(username="root", roles=(BuiltinRole.ROOT_ADMIN,))
    await accounts.create(username="plain")
    admin = (await client.get("/api/v1/me", headers=bearer(await accounts.login("root")))).json()
    assert admin["permissions"] == sorted(admin["permissions"])
    assert {"users:read", "users:block", "sessions:revoke", "audit:read"} <= set(admin["permissions"])
    plain = (await client.get("/api/v1/me", headers=bearer(await accounts.login("plain")))).json()
    assert plain["permissions"] == []
