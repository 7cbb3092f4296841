"""Shapes of registration, the user's own account and the profile."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from garrison.kit.schemas import BoundedJsonObject, Input
from garrison.sessions.schemas import MAX_PASSWORD_INPUT


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
