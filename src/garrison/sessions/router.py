"""``/api/v1/auth``: login, refresh, logout, and the cheapest authenticated call."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Header, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from garrison.authn.deps import CurrentPrincipal, PendingPrincipal, authenticate
from garrison.authn.errors import MissingToken
from garrison.authn.subject import (
    DocumentedBearer,
    Principal,
    client_info,
    user_actor,
)
from garrison.deps import AppClock, AppSettings, DbSession
from garrison.errors import BadRequest, ValidationFailed
from garrison.events.service import Actor
from garrison.kit.pagination import Page, Paging
from garrison.models import Session
from garrison.sessions.cookies import (
    CSRF_HEADER,
    REFRESH_COOKIE,
    check_csrf,
    clear_session_cookies,
    set_session_cookies,
)
from garrison.sessions.deps import Logins, Sessions
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


def _cookie_tokens(
    pair: TokenPair, request: Request, response: Response, settings: AppSettings, clock: AppClock
) -> TokenResponse:
    """Cookie delivery: the refresh token goes into the HttpOnly cookie, never into the body."""
    csrf = set_session_cookies(
        response, request, settings, pair.refresh_token, pair.session_expires_at, clock.now()
    )
    tokens = _tokens(pair)
    tokens.refresh_token, tokens.csrf_token = None, csrf
    return tokens


RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=REFRESH_COOKIE,
        description="The refresh token, when it was delivered as a cookie (`token_delivery: cookie`).",
    ),
]
CsrfHeader = Annotated[
    str | None,
    Header(alias=CSRF_HEADER, description="Required with the refresh cookie: the session's `csrf_token`."),
]
_SETS_COOKIES: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "Set-Cookie": {
                "description": "Cookie delivery only: `garrison_refresh` (HttpOnly, SameSite=Strict, "
                "Path=/api/v1/auth) and `garrison_csrf` (SameSite=Strict, Path=/); Secure over https.",
                "schema": {"type": "string"},
            }
        }
    }
}


@router.post(
    "/login",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    openapi_extra=_LOGIN_BODY,
    responses=_SETS_COOKIES,
)
async def login(
    request: Request, response: Response, logins: Logins, settings: AppSettings, clock: AppClock
) -> TokenResponse:
    """Password login (JSON, or the OAuth 2.0 password form). Returns a session's first tokens.

    With ``"token_delivery": "cookie"`` the refresh token is set as an HttpOnly cookie instead.
    """
    body = await _login_body(request)
    pair = await logins.login(body.username, body.password, client_info(request))
    if body.token_delivery == "cookie":  # noqa: S105 (a delivery mode, not a password)
        return _cookie_tokens(pair, request, response, settings, clock)
    return _tokens(pair)


@router.post(
    "/refresh", response_model=TokenResponse, response_model_exclude_none=True, responses=_SETS_COOKIES
)
async def refresh(
    request: Request,
    response: Response,
    sessions: Sessions,
    settings: AppSettings,
    clock: AppClock,
    refresh_cookie: RefreshCookie = None,
    csrf_header: CsrfHeader = None,
    body: RefreshRequest | None = None,
) -> TokenResponse:
    """Exchange a refresh token for new tokens; the old refresh token is spent.

    Body mode: ``{"refresh_token"}``. Cookie mode: send ``{}`` with the ``garrison_refresh`` cookie and
    the ``X-CSRF-Token`` header; both cookies are set again with the new token.
    """
    if body is not None and body.refresh_token is not None:
        return _tokens(await sessions.refresh(body.refresh_token, client_info(request)))
    if refresh_cookie is None:
        raise ValidationFailed(
            "body.refresh_token: send a refresh token, or the refresh cookie with the X-CSRF-Token header."
        )
    # Before any database work: a forged request must not spend (or be seen as reusing) the token.
    check_csrf(settings, refresh_cookie, csrf_header)
    pair = await sessions.refresh(refresh_cookie, client_info(request))
    return _cookie_tokens(pair, request, response, settings, clock)


async def _optional_principal(request: Request, _documented: DocumentedBearer = None) -> Principal | None:
    """The Bearer caller when an Authorization header is sent (and valid); None without one."""
    if "authorization" not in request.headers:
        return None
    return await authenticate(request, None)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    principal: Annotated[Principal | None, Depends(_optional_principal)],
    request: Request,
    db: DbSession,
    sessions: Sessions,
    settings: AppSettings,
    refresh_cookie: RefreshCookie = None,
    csrf_header: CsrfHeader = None,
) -> Response:
    """End the caller's session: its access and refresh tokens stop working at once.

    With a Bearer token, that token's session; without one, the session of the refresh cookie (with
    ``X-CSRF-Token``). Either way the refresh and CSRF cookies are cleared.
    """
    if principal is not None:
        actor = user_actor(request, principal)
        await sessions.end_sessions(db, [principal.session_id], "logout", actor=actor)
    elif refresh_cookie is not None:
        check_csrf(settings, refresh_cookie, csrf_header)
        session = await sessions.session_of_refresh_token(db, refresh_cookie)
        if session is not None:
            client = client_info(request)
            actor = Actor("user", user_id=session.user_id, ip=client.ip, request_id=client.request_id)
            await sessions.end_sessions(db, [session.id], "logout", actor=actor)
    else:
        raise MissingToken
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, request, settings)
    return response


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
