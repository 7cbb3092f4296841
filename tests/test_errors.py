"""Every error a client can meet is RFC 9457 problem+json, with no internals in it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from garrison.errors import PROBLEM_CONTENT_TYPE, Conflict


class Echo(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    count: int


@pytest.fixture
def routes(app: FastAPI) -> FastAPI:
    """Routes that exercise the error paths; added like any feature router would be."""

    @app.post("/test/echo")
    async def echo(body: Echo) -> Echo:
        return body

    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    @app.get("/test/conflict")
    async def conflict() -> None:
        raise Conflict("That name is taken.")

    return app


def assert_problem(response: httpx.Response, status: int, type_suffix: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert isinstance(body, dict)
    assert body["status"] == status
    assert body["type"] == f"urn:garrison:problem:{type_suffix}"
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/no/such/thing"), 404, "not-found")


async def test_wrong_method_is_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


@pytest.mark.usefixtures("routes")
async def test_invalid_body_is_422_problem_listing_errors_without_echoing_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/test/echo", json={"name": "far-too-long-name", "count": "x"})
    body = assert_problem(response, 422, "validation-failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {tuple(err["loc"]) for err in errors} == {("body", "name"), ("body", "count")}
    assert "far-too-long-name" not in response.text


@pytest.mark.usefixtures("routes")
async def test_malformed_json_is_a_4xx_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/test/echo", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation-failed")


@pytest.mark.usefixtures("routes")
async def test_declared_oversized_body_is_413_before_reading(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/test/echo",
        content=b"x" * (1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413, "content-too-large")


@pytest.mark.usefixtures("routes")
async def test_streamed_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536  # 1.25 MiB in all, with no Content-Length

    response = await client.post("/test/echo", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "content-too-large")


@pytest.mark.usefixtures("routes")
async def test_body_within_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/test/echo", json={"name": "ok", "count": 3})
    assert response.status_code == 200
    assert response.json() == {"name": "ok", "count": 3}


@pytest.mark.usefixtures("routes")
async def test_non_numeric_content_length_is_400_problem(client: httpx.AsyncClient) -> None:
    request = client.build_request("POST", "/test/echo", content=b"{}")
    request.headers["content-length"] = "abc"
    assert_problem(await client.send(request), 400, "bad-request")


@pytest.mark.usefixtures("routes")
async def test_unexpected_exception_is_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/boom", headers={"X-Request-ID": "trace-me-42"})
    body = assert_problem(response, 500, "internal-error")
    assert body["request_id"] == "trace-me-42"
    assert "trace-me-42" in str(body["detail"])
    for leak in ("Traceback", "RuntimeError", "secret internal detail", "/etc/passwd", ".py"):
        assert leak not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.usefixtures("routes")
async def test_app_errors_render_their_own_status_and_type(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/test/conflict"), 409, "conflict")
    assert body["detail"] == "That name is taken."
