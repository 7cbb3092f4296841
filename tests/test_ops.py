"""Operations endpoints: liveness, readiness (each dependency reported), Prometheus metrics."""

from __future__ import annotations

import httpx
import pytest

from garrison import __version__
from garrison.app import create_app
from garrison.config import Settings


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


async def test_readyz_reports_each_dependency(client: httpx.AsyncClient, backend: str) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["status"] == "up"
    if backend == "postgres":
        assert body["checks"]["database"]["backend"] == "postgresql"
        assert body["checks"]["redis"]["status"] == "up"
    else:
        assert body["checks"]["database"]["backend"] == "sqlite"
        assert body["checks"]["redis"] == {"status": "disabled", "backend": "memory"}


async def _readyz(settings: Settings) -> httpx.Response:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get("/readyz")


async def test_readyz_is_503_when_the_database_is_down(settings: Settings, backend: str) -> None:
    if backend == "postgres":
        stopped = "postgresql+asyncpg://postgres@127.0.0.1:1/garrison"  # nothing listens on port 1
    else:
        stopped = f"sqlite+aiosqlite:///{settings.data_dir}/missing-dir/garrison.db"
    down = settings.model_copy(update={"database_url": stopped, "db_connect_timeout": 1.0})
    if backend == "sqlite":
        # The engine creates the file's directory; take it away again, as a lost volume would.
        response = await _readyz_after_removing(down)
    else:
        response = await _readyz(down)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "down"
    assert "127.0.0.1" not in response.text


async def _readyz_after_removing(settings: Settings) -> httpx.Response:
    application = create_app(settings)
    (settings.data_dir / "missing-dir").rmdir()
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get("/readyz")


async def test_readyz_is_503_when_redis_is_down(settings: Settings) -> None:
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0", "readiness_timeout": 1.0})
    response = await _readyz(down)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["status"] == "down"
    assert checks["database"]["status"] == "up"


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/healthz")
    await client.get("/users/8b0e6f9e-0000-4000-8000-000000000000")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'garrison_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "8b0e6f9e" not in text
    assert 'garrison_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_operations_endpoints_need_no_credentials(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 200
