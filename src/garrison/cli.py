"""The ``garrison`` command: serve, migrations, admin bootstrap and password reset."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from fastapi import FastAPI

from garrison import __version__, migrate
from garrison.app import create_app
from garrison.authn.passwords import PasswordHasher
from garrison.bootstrap import FirstAdmin, bootstrap
from garrison.config import ConfigError, Settings, load_settings
from garrison.db import Database
from garrison.errors import AppError
from garrison.events.service import Actor
from garrison.identity.service import NewUser, create_user, reset_password
from garrison.keys.service import KeyStore
from garrison.kit.clock import SystemClock
from garrison.logs import configure_logging
from garrison.models import BuiltinRole
from garrison.tenancy.service import ensure_root_organisation

T = TypeVar("T")

app = typer.Typer(help="Garrison: identity, access and session governance.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="Administrator accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Token signing keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(keys_app, name="keys")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise _fail(str(exc), code=2) from None


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(settings)
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except AppError as exc:
        raise _fail(exc.detail) from None
    except OSError as exc:
        raise _fail(f"cannot reach the database: {exc}") from None


def _cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor("cli", label=who)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _fail("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise _fail("use --password-stdin to pass the password through standard input")
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    assert isinstance(password, str)
    return password


def print_first_admin(admin: FirstAdmin) -> None:
    """The one and only time this password is shown; it is not logged anywhere."""
    rule = "=" * 72
    typer.echo(
        f"\n{rule}\n"
        "Garrison first start: created the root organisation and its first administrator.\n"
        f"  username: {admin.username}\n"
        f"  email:    {admin.email}\n"
        f"  password: {admin.password}\n"
        "This password is shown once and must be changed at first login.\n"
        f"{rule}\n",
        err=True,
    )


async def _prepare(database: Database, settings: Settings) -> FirstAdmin | None:
    if settings.auto_migrate:
        await migrate.upgrade(database)
    elif await migrate.current_revision(database) != migrate.head_revision():
        raise _fail("the database schema is not current; run `garrison db upgrade`")
    first_admin = await bootstrap(database, settings)
    await KeyStore(database, settings, SystemClock()).ensure_key()
    return first_admin


def asgi_app() -> FastAPI:
    """Factory uvicorn calls in each worker process."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Migrate (unless GARRISON_AUTO_MIGRATE=false), bootstrap on first start, then serve HTTP."""
    # Workers read their settings from the environment; they must know how many of them there are
    # (without Redis, session state can be cached in-process only when a single process serves).
    os.environ["GARRISON_WORKERS"] = str(workers)
    settings = _settings()
    if workers > 1 and not settings.redis_url:
        typer.echo(
            f"note: {workers} workers without Redis: every request checks its session in the database "
            "(set GARRISON_REDIS_URL for the cached path).",
            err=True,
        )
    configure_logging(settings.log_level, settings.log_format)
    first_admin = _with_database(settings, lambda database: _prepare(database, settings))
    if first_admin is not None:
        print_first_admin(first_admin)
    uvicorn.run(
        "garrison.cli:asgi_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,  # garrison.middleware.ProxyHeadersMiddleware validates them instead
    )


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a signing key that signs from now on; older keys stay published until their tokens expire."""
    settings = _settings()

    async def rotate(database: Database) -> str:
        return await KeyStore(database, settings, SystemClock()).rotate(_cli_actor())

    kid = _with_database(settings, rotate)
    typer.echo(f"new signing key {kid}; running servers switch to it within {settings.key_reload_interval}s")


@app.command()
def version() -> None:
    """Print Garrison's version."""
    typer.echo(__version__)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    settings = _settings()
    _with_database(settings, lambda database: migrate.upgrade(database, revision))
    typer.echo(f"database at revision {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Revert migrations down to REVISION."""
    settings = _settings()
    _with_database(settings, lambda database: migrate.downgrade(database, revision))
    typer.echo(f"database at revision {revision}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the latest one."""
    settings = _settings()
    current = _with_database(settings, migrate.current_revision)
    head = migrate.head_revision()
    state = "up to date" if current == head else "behind"
    typer.echo(f"current: {current or 'none'}  head: {head}  ({state})")


@db_app.command("reset")
def db_reset(
    yes_destroy_data: Annotated[
        bool, typer.Option("--yes-destroy-data", help="Required in production.")
    ] = False,
) -> None:
    """Drop every table and migrate from scratch. All data is lost."""
    settings = _settings()
    if settings.is_production and not yes_destroy_data:
        raise _fail("refusing to reset a production database without --yes-destroy-data")

    async def reset(database: Database) -> None:
        await migrate.downgrade(database, "base")
        await migrate.upgrade(database)

    _with_database(settings, reset)
    typer.echo("database reset; the next `garrison serve` creates a new first administrator")


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    email: Annotated[str, typer.Option(help="Email address.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    role: Annotated[
        BuiltinRole, typer.Option(help="Role in the root organisation.")
    ] = BuiltinRole.ROOT_ADMIN,
    must_change_password: Annotated[
        bool, typer.Option("--must-change-password", help="Force a change at first login.")
    ] = False,
) -> None:
    """Create a user in the root organisation (an administrator by default)."""
    settings = _settings()
    password = _read_password(password_stdin)

    async def create(database: Database) -> str:
        async with database.transaction() as db:
            actor = _cli_actor()
            root = await ensure_root_organisation(db, actor)
            user = await create_user(
                db,
                PasswordHasher(settings),
                root,
                NewUser(username, email, password, (role,), must_change_password),
                actor=actor,
                min_password_length=settings.password_min_length,
            )
            return str(user.id)

    user_id = _with_database(settings, create)
    typer.echo(f"created {role.value} {username} ({user_id})")


@admin_app.command("reset-password")
def admin_reset_password(
    username: Annotated[str, typer.Argument(help="The user whose password to set.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    must_change_password: Annotated[
        bool, typer.Option("--must-change-password", help="Force a change at next login.")
    ] = False,
) -> None:
    """Set a user's password (for an operator locked out of the dashboard)."""
    settings = _settings()
    password = _read_password(password_stdin)

    async def reset(database: Database) -> None:
        async with database.transaction() as db:
            await reset_password(
                db,
                PasswordHasher(settings),
                username,
                password,
                actor=_cli_actor(),
                min_password_length=settings.password_min_length,
                now=SystemClock().now(),
                must_change_password=must_change_password,
            )

    _with_database(settings, reset)
    typer.echo(f"password of {username} reset")


def main() -> None:
    app()
