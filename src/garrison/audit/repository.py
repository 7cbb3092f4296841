"""SQL for audit events: insert and read, never update or delete."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.models import AuditEvent


class AuditRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, event: AuditEvent) -> AuditEvent:
        self.db.add(event)
        await self.db.flush()
        return event
