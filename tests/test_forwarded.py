"""X-Forwarded-For behind trusted proxies: each hop read is parsed as an address, the right-most
untrusted one is the client, and a header that is not addresses never breaks a login."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from garrison.app import create_app
from garrison.config import Settings
from garrison.kit.clock import FrozenClock
from tests.conftest import Accounts, bearer

PASSWORD = "a long and unusual passphrase"
Connect = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def proxied(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[FastAPI, Connect]]:
    """The app behind proxies at 127.0.0.1 and in 10.0.0.0/8; ``connect(peer)`` is a client from there."""
    changed = settings.model_copy(update={"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]})
    application = create_app(changed, clock=clock)

    @asynccontextmanager
    async def connect(peer: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    async with application.router.lifespan_context(application):
        async with connect("127.0.0.1") as http:
            await Accounts(application, http).create(username="walker")
        yield application, connect


async def session_ip(connect: Connect, peer: str, forwarded: str | None) -> str | None:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    async with connect(peer) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"username": "walker", "password": PASSWORD}, headers=headers
        )
        assert response.status_code == 200, response.text
        sessions = (await http.get("/api/v1/me/sessions", headers=bearer(response.json()))).json()
    current = [item for item in sessions["items"] if item["id"] == response.json()["session_id"]]
    ip: str | None = current[0]["ip"]
    return ip


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # trusted hops skipped from the right
        ("127.0.0.1", "198.51.100.1, 203.0.113.7, 10.1.2.3", "203.0.113.7"),
        ("127.0.0.1", "junk, 203.0.113.7", "203.0.113.7"),  # what the client wrote is never read
        ("127.0.0.1", " 2001:DB8::1 ", "2001:db8::1"),
        ("127.0.0.1", "x" * 100, "127.0.0.1"),  # not an address: the header is ignored
        ("127.0.0.1", "203.0.113.7, not-an-ip", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.7:4711", "127.0.0.1"),
        ("127.0.0.1", "[2001:db8::1]", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.7, 10.1.2.3, 999.1.1.1", "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("192.0.2.9", "203.0.113.7", "192.0.2.9"),  # an untrusted peer's header is not believed
    ],
)
async def test_client_address_from_forwarded_for(
    proxied: tuple[FastAPI, Connect], peer: str, forwarded: str, client: str
) -> None:
    _, connect = proxied
    assert await session_ip(connect, peer, forwarded) == client


async def test_a_long_forwarded_header_does_not_break_a_failed_login(
    proxied: tuple[FastAPI, Connect],
) -> None:
    _, connect = proxied
    async with connect("127.0.0.1") as http:
        for _ in range(3):
            response = await http.post(
                "/api/v1/auth/login",
                json={"username": "walker", "password": "wrong password entirely"},
                headers={"X-Forwarded-For": "1" * 46 + ", " + "a" * 300},
            )
            assert response.status_code == 401, response.text
    assert await session_ip(connect, "127.0.0.1", None) == "127.0.0.1"


async def test_forwarded_proto_only_from_a_trusted_proxy(proxied: tuple[FastAPI, Connect]) -> None:
    _, connect = proxied
    async with connect("10.9.9.9") as http:
        trusted = await http.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    async with connect("192.0.2.9") as http:
        untrusted = await http.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" in trusted.headers
    assert "strict-transport-security" not in untrusted.headers
