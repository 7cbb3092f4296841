"""Registration and the username probe (``/api/v1/auth``), and the caller's own account (``/api/v1/me``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from garrison.authn.deps import CurrentPrincipal, Hasher, PendingPrincipal
from garrison.authn.subject import client_info, user_actor
from garrison.authz.permissions import permissions_of
from garrison.deps import AppClock, AppSettings, DbSession
from garrison.identity import account
from garrison.identity.deps import SessionControl
from garrison.identity.schemas import (
    LoginAttemptOut,
    MeOut,
    PasswordChange,
    Profile,
    RegisterRequest,
    RegistrationAccepted,
    UsernameAvailability,
    UserOut,
)
from garrison.kit.pagination import Page, Paging
from garrison.security.deps import Limiter
from garrison.security.repository import LoginAttemptRepository

auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
me_router = APIRouter(prefix="/api/v1/me", tags=["me"])


REGISTRATION_ACCEPTED = (
    "Registration accepted. Sign in with the username and password you chose; if you cannot, the "
    "email address was already in use: sign in to that account or reset its password."
)


@auth_router.post("/register", response_model=RegistrationAccepted, status_code=status.HTTP_202_ACCEPTED)
async def register(
    body: RegisterRequest,
    request: Request,
    db: DbSession,
    hasher: Hasher,
    settings: AppSettings,
    limiter: Limiter,
) -> RegistrationAccepted:
    """Self-service registration (when the server allows it). Never sets roles, status or organisation.

    Every valid registration answers 202 with the same body, whether its email address was free (the
    account is created) or already in use (nothing is created), so the answer does not enumerate
    email addresses (OWASP Authentication Cheat Sheet, "Authentication and Error Messages"; 202 Accepted:
    RFC 9110 §15.3.3). A taken username is a 409: usernames are public through the availability probe.
    """
    ip = client_info(request).ip or "unknown"
    await limiter.hit(settings.rate_limit_register_ip, "register-ip", ip)
    await account.register(db, hasher, settings, body, user_actor(request, None))
    return RegistrationAccepted(username=body.username, detail=REGISTRATION_ACCEPTED)


@auth_router.get("/username-available", response_model=UsernameAvailability)
async def username_available(
    username: Annotated[str, Query(max_length=64)],
    request: Request,
    db: DbSession,
    settings: AppSettings,
    limiter: Limiter,
) -> UsernameAvailability:
    """Whether a username is free (rate limited per address; invalid names answer 422)."""
    ip = client_info(request).ip or "unknown"
    await limiter.hit(settings.rate_limit_username_probe_ip, "probe-ip", ip)
    return UsernameAvailability(username=username, available=await account.username_available(db, username))


def _me_out(out: UserOut) -> MeOut:
    return MeOut(**out.model_dump(), permissions=permissions_of(out.roles))


@me_router.get("", response_model=MeOut)
async def me(principal: PendingPrincipal, db: DbSession, clock: AppClock) -> MeOut:
    """The caller's account and profile, with the permissions their roles grant."""
    return _me_out(account.user_out(await account.load(db, principal.user_id), clock.now()))


@me_router.patch("", response_model=MeOut)
async def update_me(
    body: Profile,
    principal: CurrentPrincipal,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    clock: AppClock,
) -> MeOut:
    """Change profile fields; roles, status, organisation and username cannot be changed here (422)."""
    user = await account.update_profile(db, settings, principal.user_id, body, user_actor(request, principal))
    return _me_out(account.user_out(user, clock.now()))


@me_router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChange,
    principal: PendingPrincipal,
    request: Request,
    db: DbSession,
    hasher: Hasher,
    settings: AppSettings,
    clock: AppClock,
    sessions: SessionControl,
    limiter: Limiter,
) -> None:
    """Change the password; every other session of the caller ends."""
    await limiter.hit(settings.rate_limit_login_username, "password-change", str(principal.user_id))
    await account.change_password(
        db, hasher, settings, sessions, principal, body, clock.now(), user_actor(request, principal)
    )


@me_router.get("/login-history", response_model=Page[LoginAttemptOut])
async def login_history(principal: CurrentPrincipal, db: DbSession, paging: Paging) -> Page[LoginAttemptOut]:
    """The caller's login attempts, newest first."""
    rows, total = await LoginAttemptRepository(db).for_user(
        principal.user_id, limit=paging.page_size, offset=paging.offset
    )
    items = [
        LoginAttemptOut(
            created_at=r.created_at, ip=r.ip, user_agent=r.user_agent, success=r.success, reason=r.reason
        )
        for r in rows
    ]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)
