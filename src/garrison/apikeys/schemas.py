"""Shapes of the API-key endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from garrison.kit.schemas import AwareDatetime, Input


class ApiKeyScope(StrEnum):
    """What a key may do. ``agent``: a workstation agent reads the account state of its bound user."""

    AGENT = "agent"


class ApiKeyStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ApiKeyCreate(Input):
    name: str = Field(min_length=1, max_length=100, description="What the key is for, e.g. a host name.")
    scopes: list[ApiKeyScope] = Field(min_length=1, max_length=8)
    user_id: uuid.UUID | None = Field(
        default=None, description="The user the key acts for; required for the agent scope."
    )
    expires_at: AwareDatetime | None = Field(default=None, description="Default: never.")
    organisation_id: uuid.UUID | None = Field(
        default=None, description="Keys bound to no user, root admins only; default: yours."
    )

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = value.strip()
        if not value or not value.isprintable():
            raise ValueError("name must be printable text")
        return value


class KeyUser(BaseModel):
    id: uuid.UUID
    username: str


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    key_prefix: str = Field(description="The key's first characters, to tell keys apart.")
    scopes: list[str]
    organisation_id: uuid.UUID
    user: KeyUser | None
    status: ApiKeyStatus
    created_at: datetime
    created_by: uuid.UUID | None
    expires_at: datetime | None
    rotated_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyIssued(BaseModel):
    api_key: ApiKeyOut
    key: str = Field(description="The secret, shown once: Garrison keeps only a keyed hash of it.")
