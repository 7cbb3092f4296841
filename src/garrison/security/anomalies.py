"""Anomalies (the feed) and headline statistics, computed by the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authz.deps import Admin
from garrison.errors import Conflict, NotFound
from garrison.events.service import record
from garrison.kit.pagination import PageParams
from garrison.models import Anomaly
from garrison.security.schemas import AnomalyFeed, AnomalyOut, AnomalyStatus


@dataclass(frozen=True, slots=True)
class AnomalyFilters:
    type: str | None = None
    severity: str | None = None
    user_id: uuid.UUID | None = None
    status: AnomalyStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    organisation_id: uuid.UUID | None = None


def _out(anomaly: Anomaly) -> AnomalyOut:
    return AnomalyOut.model_validate(anomaly, from_attributes=True)


async def feed(db: AsyncSession, admin: Admin, filters: AnomalyFilters, paging: PageParams) -> AnomalyFeed:
    query = select(Anomaly)
    organisation_id = admin.organisation_filter(filters.organisation_id)
    if organisation_id is not None:
        query = query.where(Anomaly.organisation_id == organisation_id)
    if filters.type:
        query = query.where(Anomaly.type == filters.type)
    if filters.severity:
        query = query.where(Anomaly.severity == filters.severity)
    if filters.user_id:
        query = query.where(Anomaly.user_id == filters.user_id)
    if filters.status:
        query = query.where(Anomaly.status == filters.status.value)
    if filters.since:
        query = query.where(Anomaly.created_at > filters.since)
    if filters.until:
        query = query.where(Anomaly.created_at < filters.until)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        await db.scalars(
            query.order_by(Anomaly.created_at.desc(), Anomaly.id)
            .limit(paging.page_size)
            .offset(paging.offset)
        )
    )
    newest = max((row.created_at for row in rows), default=filters.since)
    return AnomalyFeed(
        items=[_out(row) for row in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
        next_since=newest,
    )


async def transition(
    db: AsyncSession, admin: Admin, anomaly_id: uuid.UUID, to: AnomalyStatus, note: str | None, now: datetime
) -> AnomalyOut:
    """open -> acknowledged -> resolved (or open -> resolved); each step audited."""
    anomaly = await db.get(Anomaly, anomaly_id)
    if anomaly is None or not admin.can_see(anomaly.organisation_id):
        raise NotFound("No such anomaly.")
    was = anomaly.status
    if was == AnomalyStatus.RESOLVED or (to == AnomalyStatus.ACKNOWLEDGED and was != AnomalyStatus.OPEN):
        raise Conflict(f"The anomaly is {was}; it cannot become {to}.")
    anomaly.status = to.value
    if to == AnomalyStatus.ACKNOWLEDGED:
        anomaly.acknowledged_at, anomaly.acknowledged_by = now, admin.principal.user_id
    else:
        anomaly.resolved_at, anomaly.resolved_by = now, admin.principal.user_id
    if note is not None:
        anomaly.note = note
    await db.flush()
    await record(
        db,
        admin.actor,
        f"anomaly.{to.value}",
        organisation_id=anomaly.organisation_id,
        target=("anomaly", str(anomaly.id)),
        before={"status": was},
        after={"status": to.value, "note": note},
    )
    return _out(anomaly)
