"""Errors of login, tokens and sessions."""

from __future__ import annotations

from garrison.errors import AppError, Unauthenticated


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


class TooManySessions(AppError):
    status = 409
    type = "too-many-sessions"
    title = "Too many sessions"
