"""Shapes of the anomaly feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from garrison.kit.schemas import Input


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
