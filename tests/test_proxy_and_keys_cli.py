"""Black-box: client addresses from trusted proxies only; key rotation from the command line."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from garrison.config import Settings
from tests.conftest import settings_env
from tests.fixtures.server import ServerProcess, create_user, run_garrison

pytestmark = pytest.mark.slow
PASSWORD = "a long and unusual passphrase"


def _session_ips(env: dict[str, str], workdir: Path) -> list[str]:
    create_user(env, workdir, "proxied", PASSWORD)
    with ServerProcess(env, workdir) as server:
        login = httpx.post(
            f"{server.url}/api/v1/auth/login",
            json={"username": "proxied", "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        )
        assert login.status_code == 200, login.text
        hsts = "strict-transport-security" in login.headers
        tokens: dict[str, Any] = login.json()
        sessions = httpx.get(
            f"{server.url}/api/v1/me/sessions", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json()
    return [item["ip"] for item in sessions["items"]] + [str(hsts)]


async def test_forwarded_address_is_believed_from_a_trusted_proxy(settings: Settings, tmp_path: Path) -> None:
    env = {**settings_env(settings), "GARRISON_TRUSTED_PROXIES": "127.0.0.1"}
    assert await asyncio.to_thread(_session_ips, env, tmp_path) == ["203.0.113.7", "True"]


async def test_forwarded_address_is_ignored_from_anyone_else(settings: Settings, tmp_path: Path) -> None:
    env = {**settings_env(settings), "GARRISON_TRUSTED_PROXIES": "192.0.2.1"}
    assert await asyncio.to_thread(_session_ips, env, tmp_path) == ["127.0.0.1", "False"]


def _rotate_while_serving(env: dict[str, str], workdir: Path) -> tuple[str, str, int, set[str]]:
    create_user(env, workdir, "rotor", PASSWORD)
    with ServerProcess({**env, "GARRISON_KEY_RELOAD_INTERVAL": "1"}, workdir) as server:
        old = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": "rotor", "password": PASSWORD}
        ).json()
        rotated = run_garrison(env, workdir, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        new_kid = rotated.stdout.split()[3].rstrip(";")
        time.sleep(1.2)  # past the reload interval set above
        new = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": "rotor", "password": PASSWORD}
        ).json()
        still = httpx.get(
            f"{server.url}/api/v1/auth/session", headers={"Authorization": f"Bearer {old['access_token']}"}
        ).status_code
        kids = {key["kid"] for key in httpx.get(f"{server.url}/.well-known/jwks.json").json()["keys"]}
    return jwt.get_unverified_header(new["access_token"])["kid"], new_kid, still, kids


async def test_keys_rotate_switches_signing_and_keeps_old_tokens_valid(
    settings: Settings, tmp_path: Path
) -> None:

    signing_kid, rotated_kid, old_status, published = await asyncio.to_thread(
        _rotate_while_serving, settings_env(settings), tmp_path
    )
    assert signing_kid == rotated_kid
    assert old_status == 200
    assert rotated_kid in published
    assert len(published) == 2
