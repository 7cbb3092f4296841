"""Cookie delivery of the refresh token, for first-party browser apps such as the dashboard.

The refresh token travels in an ``HttpOnly`` cookie that scripts cannot read, scoped to the auth
endpoints; the access token stays in the app's memory. Cookie-authenticated requests carry a CSRF
token in a header (OWASP CSRF cheat sheet: signed double-submit cookie): an HMAC of the refresh token,
so it is stateless, rotates with the refresh token, and cannot be forged without the server secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from functools import lru_cache

from fastapi import Request, Response

from garrison.config import Settings
from garrison.errors import Forbidden
from garrison.kit.crypto import derive_key

REFRESH_COOKIE = "garrison_refresh"
CSRF_COOKIE = "garrison_csrf"
CSRF_HEADER = "X-CSRF-Token"
REFRESH_COOKIE_PATH = "/api/v1/auth"
CSRF_COOKIE_PATH = "/"
_MAX_COOKIE_TOKEN = 512


class CsrfFailed(Forbidden):
    type = "csrf-failed"
    title = "CSRF check failed"

    def __init__(self) -> None:
        super().__init__(f"Cookie-authenticated requests need the {CSRF_HEADER} header of this session.")


@lru_cache(maxsize=8)
def _csrf_key(secret: bytes) -> bytes:
    return derive_key(secret, "csrf")


def csrf_token(settings: Settings, refresh_token: str) -> str:
    """base64url(HMAC-SHA256(csrf key, refresh token)), unpadded."""
    digest = hmac.new(_csrf_key(settings.secret()), refresh_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_csrf(settings: Settings, refresh_token: str, presented: str | None) -> None:
    """Raise :class:`CsrfFailed` unless ``presented`` is the CSRF token of ``refresh_token``."""
    if (
        not presented
        or len(presented) > _MAX_COOKIE_TOKEN
        or len(refresh_token) > _MAX_COOKIE_TOKEN
        or not hmac.compare_digest(presented.encode(), csrf_token(settings, refresh_token).encode())
    ):
        raise CsrfFailed


def _secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.issuer.startswith("https://")


def set_session_cookies(
    response: Response,
    request: Request,
    settings: Settings,
    refresh_token: str,
    session_expires_at: datetime,
    now: datetime,
) -> str:
    """Set the refresh and CSRF cookies, living as long as the session may; the CSRF token."""
    csrf = csrf_token(settings, refresh_token)
    max_age = max(0, int((session_expires_at - now).total_seconds()))
    secure = _secure(request, settings)
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=max_age,
        path=REFRESH_COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    # Readable by the app's scripts, so a reloaded page can send it back in the header.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, path=CSRF_COOKIE_PATH, secure=secure, samesite="strict"
    )
    return csrf


def clear_session_cookies(response: Response, request: Request, settings: Settings) -> None:
    secure = _secure(request, settings)
    response.delete_cookie(
        REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path=CSRF_COOKIE_PATH, secure=secure, samesite="strict")
