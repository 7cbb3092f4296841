"""SQL reading the audit trail: filtered, newest first, paginated."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authz.scope import OrgScope
from garrison.models import AuditEvent


class AuditRepository:
    """Reads of the audit trail; events are written by :mod:`garrison.events`."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def page(
        self, query: Select[AuditEvent], *, limit: int, offset: int
    ) -> tuple[list[AuditEvent], int]:
        total = await self.db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = await self.db.scalars(query.limit(limit).offset(offset))
        return list(rows), total


def audit_query(
    scope: OrgScope,
    *,
    actor_id: str | None,
    action: str | None,
    target_id: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[AuditEvent]:
    """The events within ``scope`` (events of no organisation only in the scope of every one)."""
    query = select(AuditEvent).where(scope.clause(AuditEvent.organisation_id))
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if target_id:
        query = query.where(AuditEvent.target_id == target_id)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id)
