"""The user's own account: registration, profile, password change (ASVS V2.1, V2.5)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authn.passwords import PasswordHasher
from garrison.authn.subject import Principal
from garrison.config import RegistrationMode, Settings
from garrison.errors import Forbidden, ValidationFailed
from garrison.events.service import Actor, record
from garrison.identity.errors import UserExists, UserNotFound
from garrison.identity.names import normalize_username
from garrison.identity.password_policy import check_password_policy
from garrison.identity.ports import UserSessions
from garrison.identity.repository import UserRepository
from garrison.identity.schemas import PasswordChange, Profile, RegisterRequest, UserOut
from garrison.identity.service import NewUser, create_user
from garrison.models import PasswordHistory, User
from garrison.models.states import account_state
from garrison.tenancy.repository import OrganisationRepository


class RegistrationClosed(Forbidden):
    type = "registration-closed"
    title = "Registration is closed"


class WrongPassword(Forbidden):
    type = "wrong-password"
    title = "Current password is incorrect"


class PasswordReused(ValidationFailed):
    type = "password-reused"
    title = "Password used before"


def effective_status(user: User, now: datetime) -> str:
    """The account's state now, as the API shows it (:data:`garrison.models.states.ACCOUNT_RULES`)."""
    return account_state(user, now).value


def user_out(user: User, now: datetime) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        organisation_id=user.organisation_id,
        status=effective_status(user, now),
        roles=sorted(role.role for role in user.roles),
        full_name=user.full_name,
        date_of_birth=user.date_of_birth,
        rank=user.rank,
        department=user.department,
        contact_number=user.contact_number,
        date_of_joining=user.date_of_joining,
        address=user.address,
        location=user.location,
        attributes=user.attributes or {},
        account_expires_at=user.account_expires_at,
        locked_until=user.locked_until,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login_at=user.last_login_at,
    )


def profile_values(profile: Profile, settings: Settings, *, only_set: bool) -> dict[str, Any]:
    values = profile.model_dump(include=set(Profile.model_fields), exclude_unset=only_set)
    if not only_set:
        values = {key: value for key, value in values.items() if value is not None}
    attributes = values.get("attributes")
    if attributes is not None:
        size = len(json.dumps(attributes, separators=(",", ":")).encode())
        if size > settings.attributes_max_bytes:
            raise ValidationFailed(
                f"attributes take {size} bytes as JSON; the limit is {settings.attributes_max_bytes}.",
                extra={"errors": [{"loc": ["body", "attributes"], "msg": "too large", "type": "too_large"}]},
            )
    elif "attributes" in values:
        values["attributes"] = {}
    return values


async def register(
    db: AsyncSession, hasher: PasswordHasher, settings: Settings, body: RegisterRequest, actor: Actor
) -> None:
    """Self-service registration into the root organisation with the ``user`` role, nothing more.

    Returns nothing on purpose: whether the email address was already in use must not show.
    """
    if settings.registration == RegistrationMode.DISABLED:
        raise RegistrationClosed("Self-service registration is disabled on this server.")
    if settings.registration == RegistrationMode.INVITE_ONLY:
        raise RegistrationClosed("Accounts on this server are created by invitation from an administrator.")
    root = await OrganisationRepository(db).get_root()
    if root is None:
        raise RegistrationClosed("This server has not been set up yet.")
    try:
        await create_user(
            db,
            hasher,
            root,
            NewUser(
                username=body.username,
                email=body.email,
                password=body.password,
                profile=profile_values(body, settings, only_set=False),
            ),
            actor=actor,
            min_password_length=settings.password_min_length,
        )
    except UserExists:
        # Usernames are public (the availability probe says so): a taken one may be said. A taken
        # email address may not (account enumeration, OWASP Authentication Cheat Sheet): the caller
        # gets the answer of a success, and only the audit trail knows.
        if not await username_available(db, body.username):
            raise UserExists("This username is already taken.") from None
        await record(
            db,
            actor,
            "user.registration_refused",
            organisation_id=root.id,
            outcome="failure",
            after={"username": body.username, "reason": "email_in_use"},
        )


async def username_available(db: AsyncSession, username: str) -> bool:
    _, key = normalize_username(username)
    return await UserRepository(db).get_by_username_key(key) is None


async def load(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(db).get(user_id)
    if user is None:
        raise UserNotFound("The account no longer exists.")
    return user


async def update_profile(
    db: AsyncSession, settings: Settings, user_id: uuid.UUID, profile: Profile, actor: Actor
) -> User:
    user = await load(db, user_id)
    values = profile_values(profile, settings, only_set=True)
    before = {key: _jsonable(getattr(user, key)) for key in values}
    for key, value in values.items():
        setattr(user, key, value)
    await db.flush()
    await record(
        db,
        actor,
        "user.profile_updated",
        organisation_id=user.organisation_id,
        target=("user", str(user.id)),
        before=before,
        after={key: _jsonable(value) for key, value in values.items()},
    )
    return user


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def change_password(
    db: AsyncSession,
    hasher: PasswordHasher,
    settings: Settings,
    sessions: UserSessions,
    principal: Principal,
    body: PasswordChange,
    now: datetime,
    actor: Actor,
) -> None:
    """Check the current password, apply the policy and history (ASVS V2.1.10), store the new hash;
    every other session of the user ends (ASVS V3.3.3)."""
    user = await load(db, principal.user_id)
    current, new = body.current_password, body.new_password
    if user.password_hash is None or not (await hasher.verify_and_update(current, user.password_hash))[0]:
        raise WrongPassword("The current password is incorrect.")
    normalized = check_password_policy(
        new, min_length=settings.password_min_length, username=user.username, email=user.email
    )
    history = list(
        await db.scalars(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.created_at.desc())
            .limit(max(settings.password_history - 1, 0))
        )
    )
    for earlier in [user.password_hash, *history][: settings.password_history]:
        if (await hasher.verify_and_update(normalized, earlier))[0]:
            raise PasswordReused(
                f"Choose a password you have not used among your last {settings.password_history}."
            )
    new_hash = await hasher.hash(normalized)
    db.add(
        PasswordHistory(
            user_id=user.id, organisation_id=user.organisation_id, password_hash=user.password_hash
        )
    )
    user.password_hash = new_hash
    user.must_change_password = False
    user.password_changed_at = now
    await db.flush()
    keep = list(
        await db.scalars(
            select(PasswordHistory.id)
            .where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.created_at.desc())
            .limit(settings.password_history)
        )
    )
    await db.execute(
        delete(PasswordHistory).where(PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(keep))
    )
    await record(
        db,
        actor,
        "user.password_changed",
        organisation_id=user.organisation_id,
        target=("user", str(user.id)),
    )
    await sessions.end_user_sessions(db, user.id, "password_changed", keep=principal.session_id)
    sessions.user_changed(db, user.id)
