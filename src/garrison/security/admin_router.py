"""``/api/v1/admin/anomalies``: the feed, acknowledge, resolve."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from garrison.authz.deps import AnomaliesRead, AnomaliesWrite
from garrison.deps import AppClock, DbSession
from garrison.kit.pagination import Paging
from garrison.kit.schemas import AwareDatetime
from garrison.security import anomalies
from garrison.security.anomalies import AnomalyFilters
from garrison.security.schemas import AnomalyFeed, AnomalyNote, AnomalyOut, AnomalyStatus

router = APIRouter(prefix="/api/v1/admin", tags=["admin: anomalies and statistics"])


@router.get("/anomalies", response_model=AnomalyFeed)
async def list_anomalies(
    admin: AnomaliesRead,
    db: DbSession,
    paging: Paging,
    type: Annotated[str | None, Query(max_length=32)] = None,
    severity: Annotated[str | None, Query(max_length=16)] = None,
    user_id: uuid.UUID | None = None,
    status: AnomalyStatus | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Only anomalies newer than this (polling cursor)")
    ] = None,
    to: AwareDatetime | None = None,
    org_id: uuid.UUID | None = None,
) -> AnomalyFeed:
    """The anomaly feed, newest first. Poll with ``since`` set to the last ``next_since``."""
    filters = AnomalyFilters(type, severity, user_id, status, since, to)
    return await anomalies.feed(db, admin, filters, paging, org_id)


@router.post("/anomalies/{anomaly_id}/acknowledge", response_model=AnomalyOut)
async def acknowledge(
    anomaly_id: uuid.UUID,
    admin: AnomaliesWrite,
    db: DbSession,
    clock: AppClock,
    body: AnomalyNote | None = None,
) -> AnomalyOut:
    return await anomalies.transition(
        db, admin, anomaly_id, AnomalyStatus.ACKNOWLEDGED, body.note if body else None, clock.now()
    )


@router.post("/anomalies/{anomaly_id}/resolve", response_model=AnomalyOut)
async def resolve(
    anomaly_id: uuid.UUID,
    admin: AnomaliesWrite,
    db: DbSession,
    clock: AppClock,
    body: AnomalyNote | None = None,
) -> AnomalyOut:
    return await anomalies.transition(
        db, admin, anomaly_id, AnomalyStatus.RESOLVED, body.note if body else None, clock.now()
    )
