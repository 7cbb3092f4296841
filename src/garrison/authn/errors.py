"""Errors of authentication: RFC 6750 challenges for missing, invalid or ended credentials."""

from __future__ import annotations

from garrison.errors import Forbidden, Unauthenticated

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


class PasswordChangeRequired(Forbidden):
    type = "password-change-required"
    title = "Password change required"
