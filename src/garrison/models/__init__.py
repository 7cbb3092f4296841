"""Every model, imported once so Alembic and the test fixtures see the whole schema."""

from garrison.models.apikey import ApiKey
from garrison.models.audit import AuditEvent
from garrison.models.base import Base
from garrison.models.key import SigningKey
from garrison.models.organisation import Organisation
from garrison.models.security import Anomaly, LoginAttempt, LoginRollup
from garrison.models.session import RefreshToken, Session
from garrison.models.user import BuiltinRole, PasswordHistory, User, UserRole, UserStatus

__all__ = [
    "Anomaly",
    "ApiKey",
    "AuditEvent",
    "Base",
    "BuiltinRole",
    "LoginAttempt",
    "LoginRollup",
    "Organisation",
    "PasswordHistory",
    "RefreshToken",
    "Session",
    "SigningKey",
    "User",
    "UserRole",
    "UserStatus",
]
