"""Black-box: revocation reaches every serving process, and nothing revives a revoked session."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from garrison.config import Settings
from tests.conftest import settings_env
from tests.fixtures.server import ServerProcess, create_user

pytestmark = pytest.mark.slow
PASSWORD = "a long and unusual passphrase"


def _create_user(env: dict[str, str], workdir: Path) -> None:
    create_user(env, workdir, "walker", PASSWORD)


def _login(base: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/api/v1/auth/login", json={"username": "walker", "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _status(base: str, tokens: dict[str, Any]) -> int:
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    return httpx.get(f"{base}/api/v1/auth/session", headers=headers).status_code


def _two_instances(env: dict[str, str], workdir: Path) -> float:
    """Log in on A, warm B's cache, log out on A; seconds until B refuses the token."""
    _create_user(env, workdir)
    with ServerProcess(env, workdir) as a, ServerProcess(env, workdir) as b:
        tokens = _login(a.url)
        assert all(_status(b.url, tokens) == 200 for _ in range(5))
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.post(f"{a.url}/api/v1/auth/logout", headers=headers).status_code == 204
        while _status(b.url, tokens) != 401:
            assert time.monotonic() - started < 1.0, "instance B still honours a revoked session after 1 s"
            time.sleep(0.01)
        return time.monotonic() - started


def _restart_after_flush(env: dict[str, str], workdir: Path, redis_url: str, prefix: str) -> int:
    import redis

    _create_user(env, workdir)
    with ServerProcess(env, workdir) as server:
        tokens = _login(server.url)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.post(f"{server.url}/api/v1/auth/logout", headers=headers).status_code == 204
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    assert not list(client.scan_iter(match=prefix + "*"))
    client.close()
    with ServerProcess(env, workdir) as server:
        return _status(server.url, tokens)


def _workers_without_redis(env: dict[str, str], workdir: Path) -> list[int]:
    _create_user(env, workdir)
    with ServerProcess(env, workdir, args=("--workers", "2")) as server:
        tokens = _login(server.url)
        assert [_status(server.url, tokens) for _ in range(20)] == [200] * 20  # warms both workers
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.post(f"{server.url}/api/v1/auth/logout", headers=headers).status_code == 204
        return [_status(server.url, tokens) for _ in range(20)]


async def test_revocation_reaches_another_instance_within_a_second(
    settings: Settings, tmp_path: Path, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("several instances need PostgreSQL and Redis; the SQLite pass covers several workers")
    elapsed = await asyncio.to_thread(_two_instances, settings_env(settings), tmp_path)
    assert elapsed < 1.0


async def test_flushing_redis_and_restarting_never_revive_a_revoked_session(
    settings: Settings, tmp_path: Path, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("needs Redis")
    assert settings.redis_url is not None
    status = await asyncio.to_thread(
        _restart_after_flush, settings_env(settings), tmp_path, settings.redis_url, settings.redis_prefix
    )
    assert status == 401


async def test_several_workers_without_redis_never_honour_a_revoked_session(
    settings: Settings, tmp_path: Path
) -> None:
    env = {key: value for key, value in settings_env(settings).items() if key != "GARRISON_REDIS_URL"}
    statuses = await asyncio.to_thread(_workers_without_redis, env, tmp_path)
    assert statuses == [401] * 20
