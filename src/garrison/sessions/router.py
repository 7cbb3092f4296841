"""``/api/v1/auth``: login, refresh, logout, and the cheapest authenticated call."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from garrison.deps import CurrentPrincipal, DbSession, PendingPrincipal, Sessions
from garrison.errors import BadRequest
from garrison.kit.pagination import Page, Paging
from garrison.models import Session
from garrison.sessions.principal import Principal, client_info, user_actor
from garrison.sessions.repository import SessionRepository
from garrison.sessions.schemas import LoginRequest, RefreshRequest, SessionInfo, SessionOut, TokenResponse
from garrison.sessions.service import TokenPair

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
me_sessions_router = APIRouter(prefix="/api/v1/me/sessions", tags=["me"])

_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


async def _login_body(request: Request) -> LoginRequest:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/x-www-form-urlencoded":
            form = await request.form()
            return LoginRequest.model_validate(
                {"username": form.get("username"), "password": form.get("password")}
            )
        if content_type == "application/json":
            return LoginRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_input=False)]
        ) from None
    raise BadRequest("Send JSON or an application/x-www-form-urlencoded form.")


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        session_id=pair.session_id,
        password_change_required=pair.password_change_required,
    )


@router.post("/login", response_model=TokenResponse, openapi_extra=_LOGIN_BODY)
async def login(request: Request, sessions: Sessions) -> TokenResponse:
    """Password login (JSON, or the OAuth 2.0 password form). Returns a session's first tokens."""
    body = await _login_body(request)
    return _tokens(await sessions.login(body.username, body.password, client_info(request)))


@router.post("/refresh", response_model=TokenResponse)
async def refresh(body: RefreshRequest, request: Request, sessions: Sessions) -> TokenResponse:
    """Exchange a refresh token for new tokens; the old refresh token is spent."""
    return _tokens(await sessions.refresh(body.refresh_token, client_info(request)))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    principal: PendingPrincipal, request: Request, db: DbSession, sessions: Sessions
) -> Response:
    """End the caller's session: its access and refresh tokens stop working at once."""
    await sessions.end_sessions(db, [principal.session_id], "logout", actor=user_actor(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(
    principal: PendingPrincipal, request: Request, db: DbSession, sessions: Sessions
) -> Response:
    """End every session of the caller, on every device."""
    await sessions.end_user_sessions(
        db, principal.user_id, "logout_all", actor=user_actor(request, principal)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/session", response_model=SessionInfo)
async def current_session(principal: PendingPrincipal) -> SessionInfo:
    """Validate the Bearer token and say who is calling; served from the token and the session cache."""
    return SessionInfo(
        user_id=principal.user_id,
        username=principal.username,
        session_id=principal.session_id,
        organisation_id=principal.organisation_id,
        roles=list(principal.roles),
        expires_at=principal.token_expires_at,
        session_expires_at=principal.session_expires_at,
        password_change_required=principal.must_change_password,
    )


def _session_out(session: Session, principal: Principal) -> SessionOut:
    return SessionOut(
        id=session.id,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        expires_at=session.expires_at,
        ended_at=session.ended_at,
        end_reason=session.end_reason,
        ip=session.ip,
        user_agent=session.user_agent,
        device=session.device_label,
        current=session.id == principal.session_id,
    )


@me_sessions_router.get("", response_model=Page[SessionOut])
async def my_sessions(principal: CurrentPrincipal, db: DbSession, paging: Paging) -> Page[SessionOut]:
    """The caller's sessions, newest first, active and ended."""
    rows, total = await SessionRepository(db).list_for_user(
        principal.user_id, limit=paging.page_size, offset=paging.offset
    )
    items = [_session_out(row, principal) for row in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@me_sessions_router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_my_session(
    session_id: uuid.UUID, principal: CurrentPrincipal, request: Request, db: DbSession, sessions: Sessions
) -> Response:
    """End one of the caller's sessions (another device, or this one)."""
    await sessions.end_own_session(db, principal.user_id, session_id, user_actor(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_sessions_router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def end_my_other_sessions(
    principal: CurrentPrincipal, request: Request, db: DbSession, sessions: Sessions
) -> Response:
    """End every session of the caller except the current one."""
    await sessions.end_user_sessions(
        db, principal.user_id, "user_revoked", keep=principal.session_id, actor=user_actor(request, principal)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
