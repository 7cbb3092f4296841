"""Audit trail: every security-relevant change records who did what, in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.events.repository import EventRepository
from garrison.models.base import utcnow


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: ``system`` (Garrison itself), ``cli`` (an operator at the console) or ``user``."""

    type: str
    user_id: uuid.UUID | None = None
    label: str | None = None  # e.g. the operating-system account that ran a CLI command
    ip: str | None = None
    request_id: str | None = None

    @property
    def id(self) -> str | None:
        return str(self.user_id) if self.user_id else self.label


SYSTEM = Actor("system")


async def record(
    db: AsyncSession,
    actor: Actor,
    action: str,
    *,
    organisation_id: uuid.UUID | None,
    target: tuple[str, str] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: str = "success",
) -> None:
    """Append one event. Callers pass descriptions of state, never secrets or their hashes."""
    await EventRepository(db).insert(
        event_row(
            actor,
            action,
            organisation_id=organisation_id,
            target=target,
            before=before,
            after=after,
            outcome=outcome,
        )
    )


def event_row(
    actor: Actor,
    action: str,
    *,
    organisation_id: uuid.UUID | None,
    target: tuple[str, str] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: str = "success",
) -> dict[str, Any]:
    """The ``audit_events`` row of an event, every column set (for inserts batched with others)."""
    target_type, target_id = target if target else (None, None)
    return {
        "id": uuid.uuid4(),
        "organisation_id": organisation_id,
        "created_at": utcnow(),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "action": action,
        "outcome": outcome,
        "target_type": target_type,
        "target_id": target_id,
        "before": before,
        "after": after,
        "ip": actor.ip,
        "request_id": actor.request_id,
    }
