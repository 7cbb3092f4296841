"""Authenticators: small pluggable pieces that turn a presented credential into a :data:`Subject`.

Each feature that issues credentials contributes one (sessions: access tokens; API keys: ``gar_ak_``
keys; OAuth clients and devices later). Routes ask for the kinds of subject they accept through one
dependency, :func:`subject_of`; only the authenticators producing those kinds are asked, each
recognising its own credentials by their form, so a route never pays for a kind it refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from fastapi import Request

from garrison.authn.errors import PasswordChangeRequired
from garrison.authn.subject import DocumentedBearer, Principal, Subject, bearer_token
from garrison.errors import AppError

S = TypeVar("S", bound=Subject)


class Authenticator(Protocol):
    #: the kind of subject this authenticator produces
    produces: type[Subject]

    def recognises(self, credential: str) -> bool:
        """Whether ``credential`` has this authenticator's form (cheap: no I/O)."""
        ...

    async def authenticate(self, request: Request, credential: str) -> Subject:
        """The subject ``credential`` proves, or an :class:`~garrison.errors.AppError` (401)."""
        ...


class Authenticators:
    """Every authenticator of the application, in the order they are asked."""

    def __init__(self, authenticators: Sequence[Authenticator]) -> None:
        self._all = tuple(authenticators)
        self._by_kind: dict[type[Any], tuple[Authenticator, ...]] = {}

    def producing(self, kind: type[Any]) -> tuple[Authenticator, ...]:
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = tuple(a for a in self._all if issubclass(a.produces, kind))
        return found


def subject_of(
    kind: type[S], *, unrecognised: Callable[[], AppError]
) -> Callable[[Request, DocumentedBearer], Awaitable[S]]:
    """A dependency admitting callers proven to be a ``kind``; a credential no authenticator of that
    kind recognises answers ``unrecognised()`` (the kind's RFC 6750 challenge)."""

    async def dependency(request: Request, _documented: DocumentedBearer = None) -> S:
        credential = bearer_token(request)
        registry: Authenticators = request.app.state.provided[Authenticators]
        for authenticator in registry.producing(kind):
            if authenticator.recognises(credential):
                subject = await authenticator.authenticate(request, credential)
                if isinstance(subject, kind):
                    return subject
        raise unrecognised()

    dependency.__name__ = f"authenticate_{kind.__name__}"
    return dependency


def ready(
    authenticate: Callable[[Request, DocumentedBearer], Awaitable[Principal]],
) -> Callable[[Request, DocumentedBearer], Awaitable[Principal]]:
    """As ``authenticate``, and refuses a user who must first change their password."""

    async def dependency(request: Request, _documented: DocumentedBearer = None) -> Principal:
        principal = await authenticate(request, None)
        if principal.must_change_password:
            raise PasswordChangeRequired("Change your password (POST /api/v1/me/password) before continuing.")
        return principal

    dependency.__name__ = "authenticate_ready"
    return dependency
