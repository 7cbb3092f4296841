"""``/api/client-status``: the route workstation agents poll, answered only for their own user."""

from __future__ import annotations

from fastapi import APIRouter

from garrison.agents.deps import Agents
from garrison.agents.schemas import ClientStatus
from garrison.apikeys.deps import AgentKey
from garrison.deps import DbSession

router = APIRouter(prefix="/api", tags=["agents"])


@router.get("/client-status", response_model=ClientStatus)
async def client_status(key: AgentKey, db: DbSession, agents: Agents) -> ClientStatus:
    """Whether the user bound to the presented ``agent`` API key may use their workstation."""
    return await agents.client_status(db, key)
