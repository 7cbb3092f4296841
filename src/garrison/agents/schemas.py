"""Shapes of the agent endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ClientStatus(BaseModel):
    username: str
    is_blocked: bool = Field(
        description="True when the user may not use the workstation: blocked, expired or deleted. "
        "A temporary lockout after failed passwords does not lock the workstation."
    )
    status: str = Field(description="active, blocked, locked, expired or deleted.")
    checked_at: datetime
