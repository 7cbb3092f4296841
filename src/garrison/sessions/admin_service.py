"""Session governance for administrators: listing every session in reach, and revoking one."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authz.deps import Admin
from garrison.errors import Conflict, NotFound
from garrison.identity.admin_service import AdminService
from garrison.kit.pagination import Page, PageParams
from garrison.models import Session
from garrison.models.states import SessionState
from garrison.sessions.repository import SessionFilters, SessionRepository
from garrison.sessions.schemas import AdminSessionRow, SessionUser
from garrison.sessions.service import SessionService


class SessionAdmin:
    def __init__(self, users: AdminService, sessions: SessionService) -> None:
        self.users = users
        self.sessions = sessions
        self._idle = timedelta(seconds=sessions.settings.session_idle_timeout)

    async def list_sessions(
        self,
        db: AsyncSession,
        admin: Admin,
        filters: SessionFilters,
        paging: PageParams,
        organisation_id: uuid.UUID | None = None,
    ) -> Page[AdminSessionRow]:
        scope = admin.scope.narrow(organisation_id)
        now = self.sessions.clock.now()
        rows, total = await SessionRepository(db).list_filtered(
            scope, filters, now, now - self._idle, limit=paging.page_size, offset=paging.offset
        )
        items = [_session_row(session, username, state) for session, username, state in rows]
        return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)

    async def revoke_session(
        self, db: AsyncSession, admin: Admin, session_id: uuid.UUID, reason: str | None
    ) -> None:
        session = await SessionRepository(db).get_in(admin.scope, session_id)
        if session is None:
            raise NotFound("No such session.")
        await self.users.user_within_reach(db, admin, session.user_id)
        if session.ended_at is not None:
            raise Conflict("The session has already ended.")
        await self.sessions.end_sessions(db, [session.id], "admin_revoked", actor=admin.actor, note=reason)


def _session_row(session: Session, username: str, state: str) -> AdminSessionRow:
    return AdminSessionRow(
        id=session.id,
        user=SessionUser(id=session.user_id, username=username),
        organisation_id=session.organisation_id,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        expires_at=session.expires_at,
        ended_at=session.ended_at,
        end_reason=session.end_reason,
        state=SessionState(state),
        ip=session.ip,
        user_agent=session.user_agent,
        device=session.device_label,
    )
