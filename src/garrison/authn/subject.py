"""Who is calling: one :data:`Subject` type with a variant per kind of caller.

A user in a session (:class:`Principal`) or a program holding an API key (:class:`ApiKeySubject`);
OAuth clients and enrolled devices join as variants of their own. Authenticators
(:mod:`garrison.authn.authenticators`) turn a presented credential into one of these.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from garrison.authn.errors import InvalidToken, MissingToken
from garrison.events.service import Actor
from garrison.kit.schemas import printable


@dataclass(frozen=True, slots=True)
class Principal:
    """A user acting through an active session (an access token whose session was checked)."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    organisation_id: uuid.UUID
    username: str
    roles: tuple[str, ...]
    token_expires_at: datetime
    session_expires_at: datetime
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class ApiKeySubject:
    """A program presenting an active API key; ``user_id`` is the user a bound key acts for."""

    key_id: uuid.UUID
    organisation_id: uuid.UUID
    user_id: uuid.UUID | None
    scopes: tuple[str, ...]


Subject = Principal | ApiKeySubject


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Who is at the other end of a request, as far as the network tells."""

    ip: str | None
    user_agent: str | None
    request_id: str | None = None


# Declares the scheme in the OpenAPI document, so Swagger's "Authorize" logs in with the password form.
# Its value is not used: :func:`bearer_token` parses the header and answers errors as RFC 6750 says.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
DocumentedBearer = Annotated[str | None, Depends(bearer_scheme)]


def bearer_token(request: Request) -> str:
    """The credential of ``Authorization: Bearer <credential>`` (RFC 6750 §2.1)."""
    header = request.headers.get("authorization")
    if not header:
        raise MissingToken
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("Use the Authorization: Bearer <token> scheme (RFC 6750 §2.1).")
    return token


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
