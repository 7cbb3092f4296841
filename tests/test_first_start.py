"""Black-box: a real ``garrison serve`` on an empty database bootstraps once, and only once."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from garrison.authn.passwords import PasswordHasher
from garrison.config import Settings
from garrison.db import Database
from garrison.identity.repository import UserRepository
from garrison.models import Organisation, User
from tests.conftest import settings_env
from tests.fixtures.backends import DatabaseFactory
from tests.fixtures.server import ServerProcess

PASSWORD_LINE = re.compile(r"^\s*password: (\S+)$", re.MULTILINE)

pytestmark = pytest.mark.slow


def _serve_once(env: dict[str, str], workdir: Path) -> tuple[str, dict[str, int]]:
    """Start a server, probe it, stop it; its console output and the probes' statuses."""
    with ServerProcess(env, workdir) as server:
        statuses = {path: httpx.get(server.url + path).status_code for path in ("/readyz", "/docs")}
    return server.output(), statuses


async def test_first_start_creates_root_and_one_admin_and_prints_the_password_once(
    settings: Settings, databases: DatabaseFactory, tmp_path: Path
) -> None:
    fresh = settings.model_copy(update={"database_url": await databases.create()})
    env = settings_env(fresh)

    first_output, statuses = await asyncio.to_thread(_serve_once, env, tmp_path)
    assert statuses == {"/readyz": 200, "/docs": 200}
    printed = PASSWORD_LINE.findall(first_output)
    assert len(printed) == 1, first_output
    password = printed[0]
    assert len(password) >= 20
    assert "username: admin" in first_output
    assert "must be changed at first login" in first_output
    assert first_output.count(password) == 1  # printed once, never logged

    second_output, _ = await asyncio.to_thread(_serve_once, env, tmp_path)
    assert not PASSWORD_LINE.search(second_output), second_output

    database = Database(fresh)
    try:
        async with database.transaction() as db:
            assert await db.scalar(select(func.count()).select_from(Organisation)) == 1
            assert await db.scalar(select(func.count()).where(Organisation.is_root.is_(True))) == 1
            assert await db.scalar(select(func.count()).select_from(User)) == 1
            admin = await UserRepository(db).get_by_username_key("admin")
            assert admin is not None
            assert admin.password_hash is not None
            assert admin.must_change_password
            assert [role.role for role in admin.roles] == ["root_admin"]
            ok, _ = await PasswordHasher(fresh).verify_and_update(password, admin.password_hash)
            assert ok
    finally:
        await database.dispose()


async def test_serve_without_auto_migrate_refuses_an_unmigrated_database(
    settings: Settings, databases: DatabaseFactory, tmp_path: Path
) -> None:
    fresh = settings.model_copy(update={"database_url": await databases.create()})
    env = {**settings_env(fresh), "GARRISON_AUTO_MIGRATE": "false"}
    with pytest.raises(RuntimeError, match="garrison db upgrade"):
        await asyncio.to_thread(_serve_once, env, tmp_path)
