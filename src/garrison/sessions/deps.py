"""Dependencies of sessions: the session service and its administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from garrison.deps import provide
from garrison.sessions.admin_service import SessionAdmin
from garrison.sessions.login import LoginFlow
from garrison.sessions.service import SessionService

Sessions = Annotated[SessionService, Depends(provide(SessionService))]
Logins = Annotated[LoginFlow, Depends(provide(LoginFlow))]
SessionAdmins = Annotated[SessionAdmin, Depends(provide(SessionAdmin))]
