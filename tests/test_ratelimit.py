"""Rate limits: 429 problem with Retry-After, per address and per account (shared through Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from garrison.app import create_app
from garrison.config import Settings
from garrison.kit.clock import FrozenClock
from tests.conftest import Accounts

PASSWORD = "a long and unusual passphrase"


@pytest.fixture
async def strict(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    limited = settings.model_copy(
        update={
            "rate_limit_login_ip": "6/minute",
            "rate_limit_login_username": "3/minute",
            "rate_limit_refresh_session": "2/minute",
        }
    )
    application = create_app(limited, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:garrison:problem:rate-limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_login_is_limited_per_username(strict: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = strict
    await Accounts(app, http).create(username="alice")
    for _ in range(3):
        response = await http.post(
            "/api/v1/auth/login", json={"username": "Alice", "password": "wrong one!!"}
        )
        assert response.status_code == 401
    assert_limited(await http.post("/api/v1/auth/login", json={"username": "ALICE", "password": PASSWORD}))
    # Another account from the same address is still served.
    response = await http.post("/api/v1/auth/login", json={"username": "bob", "password": "whatever it is"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "spellings",
    [
        ("admin", "\uff41\uff44\uff4d\uff49\uff4e", "ADMIN", "\uff21\uff24\uff2d\uff29\uff2e"),  # fullwidth
        ("admin", " admin ", "\u1d2c\u1d30\u1d39\u1d35\u1d3a", "Admin"),  # modifier letters
        ("ops@example.com", "OPS@EXAMPLE.COM", "ops\uff20example.com", "ops@example.com"),
    ],
)
async def test_one_bucket_per_account_however_the_name_is_spelt(
    strict: tuple[FastAPI, httpx.AsyncClient], spellings: tuple[str, ...]
) -> None:
    """The limit's key is the lookup key (NFKC, then case-folded): every spelling that reaches the
    account counts against the same bucket."""
    app, http = strict
    await Accounts(app, http).create(username="admin", email="ops@example.com")
    *tries, last = spellings
    for spelling in tries:
        response = await http.post(
            "/api/v1/auth/login", json={"username": spelling, "password": "wrong one!!"}
        )
        assert response.status_code == 401
    assert_limited(await http.post("/api/v1/auth/login", json={"username": last, "password": PASSWORD}))


async def test_login_is_limited_per_address(strict: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, http = strict
    for index in range(6):
        response = await http.post("/api/v1/auth/login", json={"username": f"u{index}", "password": "x" * 12})
        assert response.status_code == 401
    assert_limited(await http.post("/api/v1/auth/login", json={"username": "u9", "password": "x" * 12}))


async def test_refresh_is_limited_per_session(strict: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = strict
    accounts = Accounts(app, http)
    await accounts.create(username="carol")
    tokens = await accounts.login("carol")
    for _ in range(2):
        response = await http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert response.status_code == 200
        tokens = response.json()
    assert_limited(await http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    # Limited, not spent: the token still works once the window allows (not waited for here).


def test_malformed_limit_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from garrison.config import ConfigError, load_settings

    monkeypatch.setenv("GARRISON_RATE_LIMIT_LOGIN_IP", "ten per minute")
    with pytest.raises(ConfigError, match="rate_limit_login_ip"):
        load_settings(secret_key="x" * 40)
