"""Request ids, security headers, CORS: what every response carries."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from garrison.app import create_app
from garrison.config import Settings


async def test_well_formed_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123.def:9"})
    assert response.headers["x-request-id"] == "abc-123.def:9"


@pytest.mark.parametrize(
    "supplied", ["", "bad id with spaces", "x" * 129, "evil\u2028line", "-starts-with-dash", "a;b"]
)
async def test_malformed_request_id_is_replaced(client: httpx.AsyncClient, supplied: str) -> None:
    response = await client.get("/healthz", headers=[(b"X-Request-ID", supplied.encode("utf-8"))])
    generated = response.headers["x-request-id"]
    assert generated != supplied
    assert len(generated) == 32
    int(generated, 16)


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert first != second


async def test_security_headers_on_json_and_errors(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/healthz"), await client.get("/missing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers


async def test_api_docs_are_served_and_cannot_be_framed(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Garrison"


async def test_hsts_only_over_tls(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://garrison.test") as tls:
        response = await tls.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")


async def test_cors_allows_configured_origins_only(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"cors_origins": ["https://console.example.com"]}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            allowed = await http.options(
                "/healthz",
                headers={"Origin": "https://console.example.com", "Access-Control-Request-Method": "GET"},
            )
            denied = await http.get("/healthz", headers={"Origin": "https://evil.example.net"})
    assert allowed.headers["access-control-allow-origin"] == "https://console.example.com"
    assert "access-control-allow-origin" not in denied.headers
