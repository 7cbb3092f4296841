"""Users: creation by operators and password resets (registration and login build on these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authn.passwords import PasswordHasher
from garrison.events.service import Actor, record
from garrison.identity.errors import UserExists, UserNotFound
from garrison.identity.names import normalize_email, normalize_username
from garrison.identity.password_policy import check_password_policy
from garrison.identity.repository import UserRepository
from garrison.models import BuiltinRole, Organisation, User, UserRole


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    email: str
    password: str
    roles: tuple[BuiltinRole, ...] = (BuiltinRole.USER,)
    must_change_password: bool = False
    profile: dict[str, Any] = field(default_factory=dict)


def describe(user: User, roles: tuple[str, ...]) -> dict[str, object]:
    """What the audit trail keeps of a user: never the password or its hash."""
    return {
        "username": user.username,
        "email": user.email,
        "status": str(user.status),
        "roles": sorted(roles),
        "must_change_password": user.must_change_password,
    }


async def create_user(
    db: AsyncSession,
    hasher: PasswordHasher,
    organisation: Organisation,
    new: NewUser,
    *,
    actor: Actor,
    min_password_length: int,
) -> User:
    username, username_key = normalize_username(new.username)
    email, email_key = normalize_email(new.email)
    password = check_password_policy(
        new.password, min_length=min_password_length, username=username, email=email
    )
    # Hash before the first statement: on SQLite a writing request holds the write lock from then on.
    password_hash = await hasher.hash(password)
    repo = UserRepository(db)
    if await repo.taken(username_key, email_key):
        raise UserExists("A user with this username or email already exists.")
    user = User(
        organisation_id=organisation.id,
        username=username,
        username_key=username_key,
        email=email,
        email_key=email_key,
        password_hash=password_hash,
        must_change_password=new.must_change_password,
        created_by=actor.user_id,
        roles=[UserRole(role=str(role), organisation_id=organisation.id) for role in new.roles],
        **new.profile,
    )
    try:
        async with db.begin_nested():
            await repo.add(user)
    except IntegrityError:
        # Lost a race with a concurrent creation of the same name: the unique keys decided.
        raise UserExists("A user with this username or email already exists.") from None
    await record(
        db,
        actor,
        "user.created",
        organisation_id=organisation.id,
        target=("user", str(user.id)),
        after=describe(user, tuple(str(role) for role in new.roles)),
    )
    return user


async def reset_password(
    db: AsyncSession,
    hasher: PasswordHasher,
    username: str,
    password: str,
    *,
    actor: Actor,
    min_password_length: int,
    now: datetime,
    must_change_password: bool = False,
) -> User:
    user = await UserRepository(db).get_by_username_key(username.lower())
    if user is None:
        raise UserNotFound(f"No user named {username!r}.")
    normalized = check_password_policy(
        password, min_length=min_password_length, username=user.username, email=user.email
    )
    user.password_hash = await hasher.hash(normalized)
    user.must_change_password = must_change_password
    user.password_changed_at = now
    await db.flush()
    await record(
        db,
        actor,
        "user.password_reset",
        organisation_id=user.organisation_id,
        target=("user", str(user.id)),
        after={"must_change_password": must_change_password},
    )
    return user
