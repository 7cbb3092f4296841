"""Errors of login, tokens and sessions."""

from __future__ import annotations

from garrison.errors import AppError, Forbidden, Unauthenticated

_BEARER = 'Bearer realm="garrison"'


class InvalidToken(Unauthenticated):
    """RFC 6750 §3.1: the access token is missing its mark in some way; the client must re-authenticate."""

    type = "invalid-token"
    title = "Invalid access token"

    def __init__(self, detail: str = "The access token is invalid.") -> None:
        description = detail.replace('"', "'")
        super().__init__(
            detail,
            headers={
                "WWW-Authenticate": f'{_BEARER}, error="invalid_token", error_description="{description}"'
            },
        )


class MissingToken(Unauthenticated):
    """RFC 6750 §3: no credentials: the challenge carries no error code."""

    type = "missing-token"
    title = "Authentication required"

    def __init__(self) -> None:
        super().__init__("This endpoint needs a Bearer access token.", headers={"WWW-Authenticate": _BEARER})


class SessionEnded(InvalidToken):
    type = "session-ended"
    title = "Session ended"


class InvalidCredentials(Unauthenticated):
    """One answer for unknown user, wrong password, locked and blocked accounts: no enumeration."""

    type = "invalid-credentials"
    title = "Invalid credentials"

    def __init__(self) -> None:
        super().__init__("The username or password is incorrect, or the account cannot sign in.")


class InvalidRefreshToken(Unauthenticated):
    type = "invalid-refresh-token"
    title = "Invalid refresh token"

    def __init__(self, detail: str = "The refresh token is invalid, expired or already used.") -> None:
        super().__init__(detail)


class PasswordChangeRequired(Forbidden):
    type = "password-change-required"
    title = "Password change required"


class TooManySessions(AppError):
    status = 409
    type = "too-many-sessions"
    title = "Too many sessions"
