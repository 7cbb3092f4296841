"""Dependencies of identity: user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from garrison.deps import provide
from garrison.identity.admin_service import AdminService
from garrison.identity.ports import UserSessions

AdminServices = Annotated[AdminService, Depends(provide(AdminService))]
SessionControl = Annotated[UserSessions, Depends(provide(UserSessions))]
