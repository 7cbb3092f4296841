"""Shapes of registration, the user's own account and the profile."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from garrison.authn.passwords import MAX_PASSWORD_INPUT
from garrison.kit.schemas import AwareDatetime, BoundedJsonObject, Input


class Profile(Input):
    """Profile metadata a user may set on themselves. Every field is optional."""

    full_name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    rank: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    contact_number: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()\-.]{3,32}$")
    date_of_joining: date | None = None
    address: str | None = Field(default=None, max_length=500)
    location: str | None = Field(default=None, max_length=200)
    attributes: BoundedJsonObject | None = Field(
        default=None,
        description="Free-form string keys with JSON values: at most 8 levels deep and 16 KiB as JSON "
        "(GARRISON_ATTRIBUTES_MAX_BYTES may lower that).",
    )


class RegisterRequest(Profile):
    username: str = Field(min_length=3, max_length=64)
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class RegistrationAccepted(BaseModel):
    """The answer to every registration that passes validation, whether or not its email was in use."""

    username: str
    detail: str = Field(
        description="The same text for every accepted registration: sign in with the chosen username "
        "and password; if that fails, the email address was already in use."
    )


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    email: str
    organisation_id: uuid.UUID
    status: str = Field(description="active, blocked, locked or expired")
    roles: list[str]
    full_name: str | None
    date_of_birth: date | None
    rank: str | None
    department: str | None
    contact_number: str | None
    date_of_joining: date | None
    address: str | None
    location: str | None
    attributes: dict[str, Any]
    account_expires_at: datetime | None
    locked_until: datetime | None
    must_change_password: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class MeOut(UserOut):
    permissions: list[str] = Field(
        description="The `resource:action` permissions the caller's roles grant (sorted), to shape a UI."
    )


class UsernameAvailability(BaseModel):
    username: str
    available: bool


class PasswordChange(Input):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class LoginAttemptOut(BaseModel):
    created_at: datetime
    ip: str | None
    user_agent: str | None
    success: bool
    reason: str | None


class UserSort(StrEnum):
    CREATED_AT = "created_at"
    LAST_LOGIN_AT = "last_login_at"
    USERNAME = "username"


class AdminUserRow(BaseModel):
    id: uuid.UUID
    username: str
    email: str
    full_name: str | None
    organisation_id: uuid.UUID
    roles: list[str]
    status: str
    department: str | None
    rank: str | None
    created_at: datetime
    last_login_at: datetime | None
    active_sessions: int


class AdminUserCreate(Profile):
    username: str = Field(min_length=3, max_length=64)
    email: str = Field(min_length=3, max_length=320)
    roles: list[str] = Field(default_factory=lambda: ["user"], min_length=1, max_length=10)
    organisation_id: uuid.UUID | None = Field(default=None, description="Root admins only; default: yours.")
    account_expires_at: AwareDatetime | None = None


class AdminUserCreated(BaseModel):
    user: UserOut
    temporary_password: str = Field(description="Shown once; the user must change it at first login.")


class AdminUserUpdate(Profile):
    roles: list[str] | None = Field(default=None, min_length=1, max_length=10)
    account_expires_at: AwareDatetime | None = None


class BlockRequest(Input):
    reason: str = Field(min_length=1, max_length=500)
