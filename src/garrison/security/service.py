"""Login attempts and anomalies: recorded in the transaction of the event they describe."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authn.subject import ClientInfo
from garrison.db import TableRow, insert_rows
from garrison.events.service import SYSTEM, Actor, event_row
from garrison.models.rollups import rows_for_attempt
from garrison.security.repository import AnomalyRepository, LoginAttemptRepository


class AnomalyType(StrEnum):
    CONCURRENT_LOGIN = "concurrent_login"
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105 (an event name)
    LOCKOUT = "lockout"


SEVERITY = {
    AnomalyType.CONCURRENT_LOGIN: "medium",
    AnomalyType.REFRESH_TOKEN_REUSE: "high",
    AnomalyType.LOCKOUT: "medium",
}


async def record_attempt(
    db: AsyncSession,
    client: ClientInfo,
    now: datetime,
    *,
    username_tried: str,
    success: bool,
    reason: str | None,
    user_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    before: Sequence[TableRow] = (),
) -> None:
    """Record a login attempt with its audit event and analytics rollups, after the rows ``before``
    of the same event (the session it opened, an anomaly it raised): one statement on PostgreSQL."""
    actor = Actor(
        "user" if success else "anonymous",
        user_id=user_id if success else None,
        ip=client.ip,
        request_id=client.request_id,
    )
    event = event_row(
        actor,
        "auth.login",
        organisation_id=organisation_id,
        target=("user", str(user_id)) if user_id else None,
        after={
            "username": username_tried[:320],
            "reason": reason,
            "session_id": str(session_id) if session_id else None,
        },
        outcome="success" if success else "failure",
    )
    await LoginAttemptRepository(db).insert(
        {
            "id": uuid.uuid4(),
            "organisation_id": organisation_id,
            "user_id": user_id,
            "username_tried": username_tried[:320],
            "ip": client.ip,
            "user_agent": (client.user_agent or "")[:512] or None,
            "success": success,
            "reason": reason,
            "session_id": session_id,
            "created_at": now,
        },
        event,
        rows_for_attempt(organisation_id=organisation_id, user_id=user_id, success=success, at=now),
        before=before,
    )


@dataclass(frozen=True, slots=True)
class DetectedAnomaly:
    """An anomaly detected: what, whose, and the details an administrator needs."""

    kind: AnomalyType
    user_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    session_id: uuid.UUID | None = None
    details: dict[str, Any] | None = None

    def rows(self, now: datetime) -> list[TableRow]:
        """Its row and its audit event's, to insert with the other writes of the event it belongs to."""
        details = self.details or {}
        event = event_row(
            SYSTEM,
            f"security.{self.kind}",
            organisation_id=self.organisation_id,
            target=("user", str(self.user_id)) if self.user_id else None,
            after={
                "severity": SEVERITY[self.kind],
                "session_id": str(self.session_id) if self.session_id else None,
                **details,
            },
            outcome="detected",
        )
        anomaly = {
            "id": uuid.uuid4(),
            "organisation_id": self.organisation_id,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "type": str(self.kind),
            "severity": SEVERITY[self.kind],
            "status": "open",
            "details": details,
            "created_at": now,
        }
        return AnomalyRepository.rows(anomaly, event)


async def raise_anomaly(db: AsyncSession, anomaly: DetectedAnomaly, now: datetime) -> None:
    """Record an anomaly and its audit event now (one statement on PostgreSQL)."""
    await insert_rows(db, anomaly.rows(now))
