"""Shapes of the login, refresh and session endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from garrison.authn.passwords import MAX_PASSWORD_INPUT
from garrison.kit.schemas import Input
from garrison.models.states import SessionState

# Generous bounds on input; the password policy applies when a password is set, not when it is tried.
MAX_LOGIN_LENGTH = 320


class LoginRequest(Input):
    username: str = Field(min_length=1, max_length=MAX_LOGIN_LENGTH, description="Username or email address.")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)
    token_delivery: Literal["body", "cookie"] = Field(
        default="body",
        description=(
            "`body`: the refresh token is in the answer. `cookie` (first-party browser apps): it is set "
            "as the HttpOnly `garrison_refresh` cookie instead, and the answer carries `csrf_token`, to "
            "send as `X-CSRF-Token` with cookie-authenticated refresh and logout."
        ),
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (RFC 6750 token type)
    expires_in: int
    refresh_token: str | None = Field(default=None, description="Absent when delivered as a cookie.")
    csrf_token: str | None = Field(
        default=None, description="Cookie delivery only: the X-CSRF-Token value for refresh and logout."
    )
    session_id: uuid.UUID
    password_change_required: bool = False


class RefreshRequest(Input):
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Omit (send `{}`) to refresh with the `garrison_refresh` cookie and `X-CSRF-Token`.",
    )


class SessionInfo(BaseModel):
    user_id: uuid.UUID
    username: str
    session_id: uuid.UUID
    organisation_id: uuid.UUID
    roles: list[str]
    expires_at: datetime = Field(description="When the presented access token expires.")
    session_expires_at: datetime
    password_change_required: bool


class SessionOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    ip: str | None
    user_agent: str | None
    device: str | None
    current: bool


class RevokeRequest(Input):
    reason: str | None = Field(default=None, max_length=200)


class SessionUser(BaseModel):
    id: uuid.UUID
    username: str


class AdminSessionRow(BaseModel):
    id: uuid.UUID
    user: SessionUser
    organisation_id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    state: SessionState
    ip: str | None
    user_agent: str | None
    device: str | None
