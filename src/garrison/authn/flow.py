"""A login as a flow of steps: identify -> first factor -> further factors when required -> open session.

Each step either lets the login go on (recording what it proved) or refuses it with a reason that the
attempt record keeps. A second factor or an upstream identity provider is one more step in the list,
not a rewrite of the login: the flow runs the steps in order and knows nothing of what they check.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from garrison.authn.subject import ClientInfo


class LoginRefused(Exception):
    """A step's refusal. ``counts``: it counts toward the account's lockout (a wrong secret);
    ``spend_hash``: spend a password hash's work first, so the answer takes as long as a wrong password
    (unknown and locked accounts must not be told apart by timing, ASVS V2.2)."""

    def __init__(self, reason: str, *, counts: bool = False, spend_hash: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.counts = counts
        self.spend_hash = spend_hash


@dataclass(frozen=True, slots=True)
class IdentifiedAccount:
    """The account a login name designates, as far as the factors need it."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    password_hash: str | None


@dataclass(slots=True)
class Login:
    """A login in progress: what was presented, from where, and what the steps have established."""

    login: str
    secret: str
    client: ClientInfo
    started_at: datetime
    account: IdentifiedAccount | None = None
    # Authentication methods proven so far (RFC 8176 "amr" values: "pwd", "otp", "hwk", ...).
    methods: list[str] = field(default_factory=list)
    # A replacement for an outdated password hash, stored when the session opens.
    upgraded_hash: str | None = None

    @property
    def identified(self) -> IdentifiedAccount:
        if self.account is None:
            raise LoginRefused("unknown_user", spend_hash=True)
        return self.account


class LoginStep(Protocol):
    """One step of a login flow; raises :class:`LoginRefused` to end it."""

    async def __call__(self, login: Login) -> None: ...


async def run_steps(steps: Sequence[LoginStep], login: Login) -> None:
    """Run ``steps`` in order; the first refusal ends the login."""
    for step in steps:
        await step(login)
