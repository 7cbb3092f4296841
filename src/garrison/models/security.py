"""Login attempts and anomalies: the raw material of lockout, analytics and the anomaly feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, PrimaryKeyConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from garrison.models.base import Base, IdMixin, utcnow

ACTIVITY_WORDS = ("head0", "head1", "head2", "days", "tail0", "tail1", "tail2")


class LoginAttempt(IdMixin, Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_user_created", "user_id", "created_at"),
        # Covering on PostgreSQL: distinct users per time range are counted from the index alone.
        Index(
            "ix_login_attempts_org_created",
            "organisation_id",
            "created_at",
            postgresql_include=["user_id", "success"],
        ),
        Index("ix_login_attempts_created", "created_at", postgresql_include=["user_id", "success"]),
    )

    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), default=None
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    username_tried: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(512), default=None)
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    session_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Anomaly(IdMixin, Base):
    __tablename__ = "anomalies"
    __table_args__ = (Index("ix_anomalies_org_created", "organisation_id", "created_at"),)

    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), default=None
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    note: Mapped[str | None] = mapped_column(String(1000), default=None)


class LoginRollup(Base):
    """Counts per organisation and quarter hour, and per user the quarter hours of their successful
    logins around each UTC day, week and month; written with every login attempt (security.rollups)."""

    __tablename__ = "login_rollups"
    __table_args__ = (
        # Covering on PostgreSQL: a bucket's distinct users are counted from the index alone.
        PrimaryKeyConstraint(
            "kind", "period", "organisation_id", "user_id", postgresql_include=list(ACTIVITY_WORDS)
        ),
        Index("ix_login_rollups_org_kind_period", "organisation_id", "kind", "period"),
    )

    kind: Mapped[str] = mapped_column(String(8))
    period: Mapped[int] = mapped_column()
    organisation_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[uuid.UUID] = mapped_column()
    success: Mapped[int] = mapped_column(server_default=text("0"))
    failure: Mapped[int] = mapped_column(server_default=text("0"))
    head0: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    head1: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    head2: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    days: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    tail0: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    tail1: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    tail2: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
