"""Shapes of the audit API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


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
