"""Every model, imported once so Alembic and the test fixtures see the whole schema."""

from garrison.models.audit import AuditEvent
from garrison.models.base import Base
from garrison.models.organisation import Organisation
from garrison.models.user import BuiltinRole, User, UserRole, UserStatus

__all__ = ["AuditEvent", "Base", "BuiltinRole", "Organisation", "User", "UserRole", "UserStatus"]
