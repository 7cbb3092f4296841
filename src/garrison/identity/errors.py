"""Errors of the identity package."""

from __future__ import annotations

from garrison.errors import Conflict, NotFound, ValidationFailed


class WeakPassword(ValidationFailed):
    type = "weak-password"
    title = "Password does not meet the policy"

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, extra={"rule": rule})
        self.rule = rule


class InvalidUsername(ValidationFailed):
    type = "invalid-username"
    title = "Invalid username"


class InvalidEmail(ValidationFailed):
    type = "invalid-email"
    title = "Invalid email address"


class UserExists(Conflict):
    type = "user-exists"
    title = "Username or email already in use"


class UserNotFound(NotFound):
    type = "user-not-found"
    title = "User not found"
