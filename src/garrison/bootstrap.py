"""First start: the root organisation, and a first administrator when none exists yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from garrison.authn.passwords import PasswordHasher
from garrison.config import Settings
from garrison.db import Database
from garrison.events.service import SYSTEM
from garrison.identity.repository import UserRepository
from garrison.identity.service import NewUser, create_user
from garrison.kit.crypto import generate_password
from garrison.models import BuiltinRole
from garrison.tenancy.service import ensure_root_organisation

_BOOTSTRAP_LOCK_KEY = 0x6761727269736F6F


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    username: str
    email: str
    password: str


async def bootstrap(database: Database, settings: Settings) -> FirstAdmin | None:
    """Ensure the root organisation; create the first admin if there is none and return its password.

    The password is generated (never a fixed default), returned exactly once for the console, and
    must be changed at first login.
    """
    hasher = PasswordHasher(settings)
    async with database.transaction() as db:
        if database.engine.dialect.name == "postgresql":
            # Instances starting together bootstrap one at a time.
            await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BOOTSTRAP_LOCK_KEY})
        root = await ensure_root_organisation(db, SYSTEM)
        if await UserRepository(db).any_with_role(BuiltinRole.ROOT_ADMIN):
            return None
        password = generate_password()
        admin = await create_user(
            db,
            hasher,
            root,
            NewUser(
                username=settings.bootstrap_admin_username,
                email=settings.bootstrap_admin_email,
                password=password,
                roles=(BuiltinRole.ROOT_ADMIN,),
                must_change_password=True,
            ),
            actor=SYSTEM,
            min_password_length=settings.password_min_length,
        )
        return FirstAdmin(username=admin.username, email=admin.email, password=password)
