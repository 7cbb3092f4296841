"""``/api/client-status``: the route workstation agents poll, answered only for their own user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from garrison.agents.schemas import ClientStatus
from garrison.deps import Agents, DbSession
from garrison.sessions.principal import bearer_token

# Declared for the OpenAPI document; :func:`bearer_token` does the parsing and the RFC 6750 errors.
api_key_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (gar_ak_...) issued by an administrator.",
)

router = APIRouter(prefix="/api", tags=["agents"])


@router.get("/client-status", response_model=ClientStatus)
async def client_status(
    request: Request,
    db: DbSession,
    agents: Agents,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)] = None,
) -> ClientStatus:
    """Whether the user bound to the presented ``agent`` API key may use their workstation."""
    return await agents.client_status(db, bearer_token(request))
