"""The ``garrison`` command, run as an operator runs it: a real process on the test database."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import select

from garrison.authn.passwords import PasswordHasher
from garrison.config import Settings
from garrison.db import Database
from garrison.identity.repository import UserRepository
from garrison.models import AuditEvent
from tests.conftest import settings_env
from tests.fixtures.backends import DatabaseFactory
from tests.fixtures.server import garrison_command

PASSWORD = "correct horse battery staple 42"


def run_cli(
    settings: Settings, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        garrison_command(*args),
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **settings_env(settings), **(env or {})},
        cwd=settings.data_dir.parent,
        timeout=60,
        check=False,
    )


@pytest.fixture
async def database(settings: Settings) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings)


async def test_admin_create_stores_an_argon2_hash_and_audits(settings: Settings, database: Database) -> None:
    result = run_cli(
        settings,
        "admin",
        "create",
        "--username",
        "Alice",
        "--email",
        "Alice@Example.COM",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "created root_admin Alice" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    try:
        async with database.transaction() as db:
            user = await UserRepository(db).get_by_username_key("alice")
            assert user is not None
            assert user.email == "Alice@example.com"
            assert [role.role for role in user.roles] == ["root_admin"]
            assert user.password_hash is not None
            assert user.password_hash.startswith("$argon2id$")
            assert PASSWORD not in user.password_hash
            ok, _ = await PasswordHasher(settings).verify_and_update(PASSWORD, user.password_hash)
            assert ok
            actions = (await db.scalars(select(AuditEvent.action).order_by(AuditEvent.created_at))).all()
            assert "user.created" in actions
            events = (await db.scalars(select(AuditEvent))).all()
            assert all(PASSWORD not in str(event.after) for event in events)
    finally:
        await database.dispose()


async def test_admin_create_with_a_role(settings: Settings, database: Database) -> None:
    result = run_cli(
        settings,
        "admin",
        "create",
        "--username",
        "bob",
        "--email",
        "bob@example.com",
        "--password-stdin",
        "--role",
        "org_admin",
        stdin=PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    try:
        async with database.transaction() as db:
            user = await UserRepository(db).get_by_username_key("bob")
            assert user is not None
            assert [role.role for role in user.roles] == ["org_admin"]
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--username", "carol", "--email", "carol@example.com"], "short", "at least 12"),
        (["--username", "carol", "--email", "carol@example.com"], "carol-is-my-password", "username"),
        (["--username", "x", "--email", "carol@example.com"], PASSWORD, "3 to 64"),
        (["--username", "carol", "--email", "not-an-email"], PASSWORD, "email"),
        (["--username", "carol", "--email", "carol@example.com", "--role", "god"], PASSWORD, "god"),
        (["--username", "carol", "--email", "carol@example.com"], "", "no password"),
    ],
)
def test_admin_create_rejects_bad_input_clearly(
    settings: Settings, args: list[str], stdin: str, message: str
) -> None:
    result = run_cli(settings, "admin", "create", *args, "--password-stdin", stdin=stdin)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_admin_create_refuses_duplicates_case_insensitively(settings: Settings) -> None:
    first = run_cli(
        settings,
        "admin",
        "create",
        "--username",
        "dave",
        "--email",
        "dave@example.com",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert first.returncode == 0, first.stderr
    for username, email in (("DAVE", "other@example.com"), ("dave2", "DAVE@example.com")):
        again = run_cli(
            settings,
            "admin",
            "create",
            "--username",
            username,
            "--email",
            email,
            "--password-stdin",
            stdin=PASSWORD,
        )
        assert again.returncode == 1
        assert "already exists" in again.stderr


async def test_admin_reset_password(settings: Settings, database: Database) -> None:
    created = run_cli(
        settings,
        "admin",
        "create",
        "--username",
        "erin",
        "--email",
        "erin@example.com",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert created.returncode == 0, created.stderr
    new_password = "an entirely new passphrase 7"
    reset = run_cli(
        settings,
        "admin",
        "reset-password",
        "ERIN",
        "--password-stdin",
        "--must-change-password",
        stdin=new_password,
    )
    assert reset.returncode == 0, reset.stderr
    hasher = PasswordHasher(settings)
    try:
        async with database.transaction() as db:
            user = await UserRepository(db).get_by_username_key("erin")
            assert user is not None
            assert user.password_hash is not None
            assert (await hasher.verify_and_update(new_password, user.password_hash))[0]
            assert not (await hasher.verify_and_update(PASSWORD, user.password_hash))[0]
            assert user.must_change_password
            actions = (await db.scalars(select(AuditEvent.action))).all()
            assert "user.password_reset" in actions
    finally:
        await database.dispose()


def test_admin_reset_password_of_unknown_user(settings: Settings) -> None:
    result = run_cli(settings, "admin", "reset-password", "nobody", "--password-stdin", stdin=PASSWORD)
    assert result.returncode == 1
    assert "No user named 'nobody'" in result.stderr


def test_password_is_never_taken_from_a_non_terminal_without_the_flag(settings: Settings) -> None:
    result = run_cli(
        settings, "admin", "create", "--username", "fay", "--email", "fay@example.com", stdin=PASSWORD
    )
    assert result.returncode == 1
    assert "--password-stdin" in result.stderr


def test_db_current_and_version(settings: Settings) -> None:
    current = run_cli(settings, "db", "current")
    assert current.returncode == 0, current.stderr
    assert "(up to date)" in current.stdout
    version = run_cli(settings, "version")
    assert version.returncode == 0
    assert version.stdout.strip()


def test_db_reset_refuses_in_production_without_the_flag(settings: Settings) -> None:
    production = {
        "GARRISON_ENV": "production",
        "GARRISON_SECRET_KEY": "Zq8-vN3kT1pW6xY0rB5mJ2cH9dF4gL7sQ_aE",
        "GARRISON_ISSUER": "https://id.example.com",
        # The suite's cheap hashing is below what production accepts.
        "GARRISON_ARGON2_TIME_COST": "2",
        "GARRISON_ARGON2_MEMORY_COST": "19456",
    }
    result = run_cli(settings, "db", "reset", env=production)
    assert result.returncode == 1
    assert "--yes-destroy-data" in result.stderr
    assert "(up to date)" in run_cli(settings, "db", "current").stdout


async def test_db_reset_downgrade_and_upgrade_on_a_fresh_database(
    settings: Settings, databases: DatabaseFactory
) -> None:
    isolated = settings.model_copy(update={"database_url": await databases.create()})
    assert "current: none" in run_cli(isolated, "db", "current").stdout
    assert run_cli(isolated, "db", "upgrade").returncode == 0
    assert "(up to date)" in run_cli(isolated, "db", "current").stdout
    assert run_cli(isolated, "db", "downgrade", "base").returncode == 0
    assert "current: none" in run_cli(isolated, "db", "current").stdout
    reset = run_cli(isolated, "db", "reset")
    assert reset.returncode == 0, reset.stderr
    assert "(up to date)" in run_cli(isolated, "db", "current").stdout


def test_production_without_a_secret_refuses_to_start(settings: Settings) -> None:
    result = run_cli(settings, "serve", env={"GARRISON_ENV": "production", "GARRISON_SECRET_KEY": ""})
    assert result.returncode == 2
    assert "GARRISON_SECRET_KEY" in result.stderr
