"""SQL for events: appended, never updated or deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.models import AuditEvent
from garrison.models.base import table

_INSERT = insert(table(AuditEvent))


class EventRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def insert(self, values: dict[str, Any]) -> None:
        """Append one event (``values`` by column; id and defaults filled in).

        A plain INSERT, not a unit-of-work flush; changes still pending in the session are flushed
        first, so that the event never precedes the rows it refers to.
        """
        if self.db.new or self.db.dirty or self.db.deleted:
            await self.db.flush()
        await self.db.execute(_INSERT, values)
