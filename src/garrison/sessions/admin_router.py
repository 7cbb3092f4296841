"""``/api/v1/admin/sessions``: every session, its state, and revocation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from garrison.authz.deps import SessionsRead, SessionsRevoke
from garrison.deps import DbSession
from garrison.kit.pagination import Page, Paging
from garrison.kit.schemas import AwareDatetime
from garrison.models.states import SessionState
from garrison.sessions.deps import SessionAdmins
from garrison.sessions.repository import SessionFilters
from garrison.sessions.schemas import AdminSessionRow, RevokeRequest

router = APIRouter(prefix="/api/v1/admin/sessions", tags=["admin: sessions"])


@router.get("", response_model=Page[AdminSessionRow])
async def list_sessions(
    admin: SessionsRead,
    db: DbSession,
    service: SessionAdmins,
    paging: Paging,
    user_id: uuid.UUID | None = None,
    state: SessionState | None = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    ip: Annotated[str | None, Query(max_length=45)] = None,
    org_id: uuid.UUID | None = None,
) -> Page[AdminSessionRow]:
    """Sessions newest first. active: within lifetime, not ended; expired: lifetime passed; revoked:
    ended by logout, an administrator or a policy."""
    filters = SessionFilters(user_id=user_id, state=state, since=from_, until=to, ip=ip)
    return await service.list_sessions(db, admin, filters, paging, org_id)


@router.post("/{session_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: uuid.UUID,
    admin: SessionsRevoke,
    db: DbSession,
    service: SessionAdmins,
    body: RevokeRequest | None = None,
) -> Response:
    """End a session now: its tokens fail on their next request, on every instance."""
    await service.revoke_session(db, admin, session_id, body.reason if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
