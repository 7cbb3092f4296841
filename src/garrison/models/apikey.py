"""API keys: long-lived, scoped credentials that administrators issue to programs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from garrison.models.base import Base, IdMixin, utcnow


class ApiKey(IdMixin, Base):
    """A key is presented as ``gar_ak_<secret>``; only its keyed hash and a short prefix are stored.

    ``user_id`` binds the key to one user: an ``agent`` key answers for that user's workstation only.
    """

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_org_created", "organisation_id", "created_at"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so an administrator can tell keys apart; not enough to use one.
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
