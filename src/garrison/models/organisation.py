"""Organisations (tenants). Exactly one is the root organisation."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from garrison.models.base import Base, IdMixin, TimestampMixin


class Organisation(IdMixin, TimestampMixin, Base):
    __tablename__ = "organisations"
    __table_args__ = (
        # At most one root: a partial unique index works on PostgreSQL and SQLite alike.
        Index(
            "uq_organisations_root",
            "is_root",
            unique=True,
            postgresql_where=text("is_root"),
            sqlite_where=text("is_root"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    is_root: Mapped[bool] = mapped_column(Boolean, default=False)
