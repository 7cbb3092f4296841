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


def _out(anomaly: Anomaly) -> AnomalyOut:
    return AnomalyOut.model_validate(anomaly, from_attributes=True)


async def feed(
    db: AsyncSession,
    admin: Admin,
    filters: AnomalyFilters,
    paging: PageParams,
    organisation_id: uuid.UUID | None = None,
) -> AnomalyFeed:
    """The feed within the caller's scope (narrowed to ``organisation_id`` if given)."""
    query = select(Anomaly).where(admin.scope.narrow(organisation_id).clause(Anomaly.organisation_id))
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
    anomaly = await db.scalar(
        select(Anomaly).where(Anomaly.id == anomaly_id, admin.scope.clause(Anomaly.organisation_id))
    )
    if anomaly is None:
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
