"""Shared fixtures: a migrated database per run, cleaned after each test; an app and an HTTP client."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from garrison import migrate
from garrison.app import create_app
from garrison.authn.passwords import PasswordHasher
from garrison.cache import RedisCache
from garrison.config import LogFormat, Settings
from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.logs import configure_logging
from garrison.models import Base, BuiltinRole, Organisation, User
from tests.fixtures.backends import BACKEND, REDIS_URL, DatabaseFactory
from tests.fixtures.factories import make_org, make_user, root_org

configure_logging("info", LogFormat.CONSOLE)
logging.getLogger("httpx").setLevel(logging.WARNING)

TEST_SECRET = "test-only-3f9c2b7e1d8a4c6f0e5b9a7d2c4e6f8a1b3d5c7e"


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test: the pass's engines, a fixed secret and cheap password hashing."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "redis_url": REDIS_URL if BACKEND == "postgres" else None,
        "redis_prefix": f"garrison-test:{uuid.uuid4().hex[:12]}:",
        "secret_key": SecretStr(TEST_SECRET),
        "data_dir": data_dir,
        "argon2_time_cost": 1,
        "argon2_memory_cost": 8192,
        # Generous limits, so tests of other rules are not cut short; tests of limits set their own.
        "rate_limit_login_ip": "1000/minute",
        "rate_limit_login_username": "1000/minute",
        "rate_limit_refresh_session": "1000/minute",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings as ``GARRISON_*`` variables, for a subprocess."""
    env = {
        "GARRISON_ENV": settings.env.value,
        "GARRISON_DATABASE_URL": settings.database_url,
        "GARRISON_DATA_DIR": str(settings.data_dir),
        "GARRISON_REDIS_PREFIX": settings.redis_prefix,
        "GARRISON_ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "GARRISON_ARGON2_MEMORY_COST": str(settings.argon2_memory_cost),
        "GARRISON_LOG_LEVEL": "info",
    }
    if settings.redis_url:
        env["GARRISON_REDIS_URL"] = settings.redis_url
    if settings.secret_key is not None:
        env["GARRISON_SECRET_KEY"] = settings.secret_key.get_secret_value()
    return env


async def truncate_all(database: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with database.transaction() as db:
        if database.engine.dialect.name == "postgresql":
            await db.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                await db.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (names from our metadata)


@pytest.fixture(scope="session")
def backend() -> str:
    return BACKEND


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    await factory.drop_all()


@pytest.fixture(scope="session")
async def shared_database_url(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per run, migrated once through the real migrations."""
    url = await databases.create()
    database = Database(make_settings(url, tmp_path_factory.mktemp("data")))
    try:
        await migrate.upgrade(database)
    finally:
        await database.dispose()
    return url


@pytest.fixture
async def settings(shared_database_url: str, tmp_path: Path) -> AsyncIterator[Settings]:
    """Per-test settings on the shared database; every table is emptied after the test."""
    settings = make_settings(shared_database_url, tmp_path / "var")
    yield settings
    database = Database(settings)
    try:
        await truncate_all(database)
    finally:
        await database.dispose()
    if settings.redis_url:
        await _delete_prefix(settings.redis_url, settings.redis_prefix)


async def _delete_prefix(url: str, prefix: str) -> None:
    cache = RedisCache(url, prefix="")
    try:
        client = cache._redis
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await cache.close()


@pytest.fixture
def clock() -> FrozenClock:
    """The app's clock: stands still unless a test moves it (``clock.advance(minutes=31)``)."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def db(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the app's database for factories; call ``await db.commit()`` before requests."""
    database: Database = app.state.services.database
    async with database.sessions() as session:
        yield session


class Accounts:
    """Creates users with known passwords and logs them in through the public API."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    async def create(self, password: str = "a long and unusual passphrase", **fields: Any) -> User:
        hasher: PasswordHasher = self.app.state.services.hasher
        database: Database = self.app.state.services.database
        async with database.transaction() as db:
            return await make_user(db, password_hash=await hasher.hash(password), **fields)

    async def login(
        self, username: str, password: str = "a long and unusual passphrase", **headers: str
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def accounts(app: FastAPI, client: httpx.AsyncClient) -> Accounts:
    return Accounts(app, client)


@dataclass
class World:
    """Two organisations and an administrator or user of each kind, logged in (``world.auth(name)``)."""

    root: Organisation
    other: Organisation
    tokens: dict[str, dict[str, Any]]
    ids: dict[str, uuid.UUID]

    def auth(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name])


@pytest.fixture
async def world(app: FastAPI, accounts: Accounts) -> World:
    """root, root2 (root admins); acme_admin, acme_user (organisation "Acme"); root_user."""
    database: Database = app.state.services.database
    async with database.transaction() as db:
        root, other = await root_org(db), await make_org(db, name="Acme")
    people: dict[str, tuple[Organisation, BuiltinRole]] = {
        "root": (root, BuiltinRole.ROOT_ADMIN),
        "root2": (root, BuiltinRole.ROOT_ADMIN),
        "acme_admin": (other, BuiltinRole.ORG_ADMIN),
        "acme_user": (other, BuiltinRole.USER),
        "root_user": (root, BuiltinRole.USER),
    }
    ids: dict[str, uuid.UUID] = {}
    tokens: dict[str, dict[str, Any]] = {}
    for name, (org, role) in people.items():
        ids[name] = (await accounts.create(username=name, org=org, roles=(role,))).id
        tokens[name] = await accounts.login(name)
    return World(root, other, tokens, ids)
