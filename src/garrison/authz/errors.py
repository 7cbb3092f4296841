"""Authorization's errors: a missing permission, or a target beyond the caller's reach (403)."""

from __future__ import annotations

from garrison.errors import Forbidden


class PermissionDenied(Forbidden):
    type = "permission-denied"
    title = "Permission denied"


class BeyondReach(Forbidden):
    type = "beyond-reach"
    title = "Beyond your reach"
