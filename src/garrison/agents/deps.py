"""Dependencies of the agents' routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from garrison.agents.service import AgentService
from garrison.deps import provide

Agents = Annotated[AgentService, Depends(provide(AgentService))]
