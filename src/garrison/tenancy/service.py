"""Organisations (tenants): the root organisation always exists."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.events.service import Actor, record
from garrison.models import Organisation
from garrison.tenancy.repository import OrganisationRepository

ROOT_SLUG = "root"


async def ensure_root_organisation(db: AsyncSession, actor: Actor) -> Organisation:
    repo = OrganisationRepository(db)
    root = await repo.get_root()
    if root is not None:
        return root
    root = await repo.add(Organisation(name="Root organisation", slug=ROOT_SLUG, is_root=True))
    await record(
        db,
        actor,
        "organisation.created",
        organisation_id=root.id,
        target=("organisation", str(root.id)),
        after={"name": root.name, "slug": root.slug, "is_root": True},
    )
    return root
