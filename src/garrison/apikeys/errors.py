"""Errors of API-key authentication (RFC 6750 §3.1 error codes in the challenge)."""

from __future__ import annotations

from garrison.errors import Forbidden, Unauthenticated

_CHALLENGE = 'Bearer realm="garrison"'


class InvalidApiKey(Unauthenticated):
    type = "invalid-api-key"
    title = "Invalid API key"

    def __init__(self, detail: str = "The API key is invalid, expired or revoked.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'})


class InsufficientScope(Forbidden):
    type = "insufficient-scope"
    title = "Insufficient scope"

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"This endpoint needs an API key with the {scope} scope.",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="insufficient_scope", scope="{scope}"'},
        )
