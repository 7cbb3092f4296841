"""Who is calling: the Bearer token verified, then its session checked through the session cache."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from garrison.audit.service import Actor
from garrison.kit.schemas import printable
from garrison.security.service import ClientInfo
from garrison.sessions.errors import InvalidToken, MissingToken, PasswordChangeRequired, SessionEnded
from garrison.sessions.tokens import verify_access_token


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    session_id: uuid.UUID
    organisation_id: uuid.UUID
    username: str
    roles: tuple[str, ...]
    token_expires_at: datetime
    session_expires_at: datetime
    must_change_password: bool


# Declares the scheme in the OpenAPI document, so Swagger's "Authorize" logs in with the password form.
# Its value is not used: :func:`bearer_token` parses the header and answers errors as RFC 6750 says.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
DocumentedBearer = Annotated[str | None, Depends(bearer_scheme)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise MissingToken
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("Use the Authorization: Bearer <token> scheme (RFC 6750 §2.1).")
    return token


async def authenticate(request: Request, _documented: DocumentedBearer = None) -> Principal:
    """RFC 6750 resource-server checks, then: the session is active and its user may act."""
    state = request.app.state
    claims = await verify_access_token(
        bearer_token(request), state.keys, state.settings, state.clock, state.verified_tokens
    )
    session = await state.session_cache.lookup(claims.session_id)
    if isinstance(session, str):
        raise SessionEnded(f"The session has ended ({session}).")
    if session.user_id != claims.user_id:
        raise InvalidToken("The token does not match its session.")
    problem = session.problem(state.clock.now())
    if problem is not None:
        raise SessionEnded(f"The session cannot be used ({problem}).")
    return Principal(
        user_id=session.user_id,
        session_id=session.session_id,
        organisation_id=session.organisation_id,
        username=session.username,
        roles=session.roles,
        token_expires_at=claims.expires_at,
        session_expires_at=session.expires_at,
        must_change_password=session.must_change_password,
    )


async def authenticate_ready(request: Request, _documented: DocumentedBearer = None) -> Principal:
    """As :func:`authenticate`, and refuses a user who must first change their password."""
    principal = await authenticate(request)
    if principal.must_change_password:
        raise PasswordChangeRequired("Change your password (POST /api/v1/me/password) before continuing.")
    return principal


def user_actor(request: Request, principal: Principal | None) -> Actor:
    """The audit trail's actor for a request: the signed-in user, or anonymous, with address and id."""
    client = client_info(request)
    if principal is None:
        return Actor("anonymous", ip=client.ip, request_id=client.request_id)
    return Actor("user", user_id=principal.user_id, ip=client.ip, request_id=client.request_id)


def client_info(request: Request) -> ClientInfo:
    """The caller's address as the server saw it (proxy headers count only from trusted proxies)."""
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=printable(request.headers.get("user-agent"), 512),
        request_id=request.state.request_id if hasattr(request.state, "request_id") else None,
    )
