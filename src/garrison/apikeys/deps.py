"""Dependencies of API keys: the service, and callers authenticated by a key with a given scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from garrison.apikeys.errors import InsufficientScope, InvalidApiKey
from garrison.apikeys.schemas import ApiKeyScope
from garrison.apikeys.service import ApiKeyService
from garrison.authn.authenticators import subject_of
from garrison.authn.subject import ApiKeySubject
from garrison.authz.service import decide
from garrison.deps import provide

# Declared for the OpenAPI document; the authenticator does the parsing and the RFC 6750 errors.
api_key_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (gar_ak_...) issued by an administrator.",
)
DocumentedApiKey = Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)]

_authenticate_key = subject_of(ApiKeySubject, unrecognised=InvalidApiKey)


def key_with_scope(scope: ApiKeyScope) -> Callable[..., Awaitable[ApiKeySubject]]:
    """A dependency admitting programs whose active API key holds ``scope`` (RFC 6750 §3.1)."""

    async def dependency(request: Request, _documented: DocumentedApiKey = None) -> ApiKeySubject:
        key = await _authenticate_key(request, None)
        if not decide(key, scope).allowed:
            raise InsufficientScope(scope)
        return key

    dependency.__name__ = f"api_key_{scope}"
    return dependency


ApiKeys = Annotated[ApiKeyService, Depends(provide(ApiKeyService))]
AgentKey = Annotated[ApiKeySubject, Depends(key_with_scope(ApiKeyScope.AGENT))]
