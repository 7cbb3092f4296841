"""SQL for organisations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.models import Organisation


class OrganisationRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get_root(self) -> Organisation | None:
        result = await self.db.execute(select(Organisation).where(Organisation.is_root.is_(True)))
        return result.scalar_one_or_none()

    async def add(self, organisation: Organisation) -> Organisation:
        self.db.add(organisation)
        await self.db.flush()
        return organisation
