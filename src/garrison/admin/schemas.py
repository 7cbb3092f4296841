"""Shapes of the admin API."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from garrison.identity.schemas import Profile, UserOut
from garrison.kit.schemas import AwareDatetime, Input


class UserStatusFilter(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    LOCKED = "locked"
    EXPIRED = "expired"


class UserSort(StrEnum):
    CREATED_AT = "created_at"
    LAST_LOGIN_AT = "last_login_at"
    USERNAME = "username"


class Order(StrEnum):
    ASC = "asc"
    DESC = "desc"


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


class RevokeRequest(Input):
    reason: str | None = Field(default=None, max_length=200)


class SessionState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


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


class AuditEventOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    organisation_id: uuid.UUID | None
    actor_type: str
    actor_id: str | None
    ip: str | None
    action: str
    outcome: str
    target_type: str | None
    target_id: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None
    request_id: str | None


class AnomalyStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AnomalyOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    organisation_id: uuid.UUID | None
    user_id: uuid.UUID | None
    session_id: uuid.UUID | None
    type: str
    severity: str
    status: str
    details: dict[str, object]
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    note: str | None


class AnomalyFeed(BaseModel):
    items: list[AnomalyOut]
    total: int
    page: int
    page_size: int
    next_since: datetime | None = Field(description="Pass as `since` to get only newer anomalies.")


class AnomalyNote(Input):
    note: str | None = Field(default=None, max_length=1000)


class Stats(BaseModel):
    users_total: int
    users_active: int
    users_blocked: int
    users_locked: int
    admins: int
    active_sessions: int
    logins_24h: int
    failed_logins_24h: int
    open_anomalies: int


class ProfileCounts(BaseModel):
    sessions_total: int
    sessions_active: int
    logins_success: int
    logins_failed: int


class TimelineEntry(BaseModel):
    session_id: uuid.UUID
    login_at: datetime
    logout_at: datetime | None
    duration_seconds: int | None
    ip: str | None
    device: str | None
    end_reason: str | None
    state: SessionState


class DailyLogins(BaseModel):
    date: str
    success: int
    failure: int


class UserProfile(BaseModel):
    user: UserOut
    counts: ProfileCounts
    timeline: list[TimelineEntry]
    daily_logins: list[DailyLogins]
    anomalies: list[AnomalyOut]
