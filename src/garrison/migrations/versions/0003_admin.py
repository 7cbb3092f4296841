"""Admin control plane: soft-deleted users, block reasons, audit outcomes, anomaly handling.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("blocked_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=16), nullable=False, server_default="success")
        )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(length=1000), nullable=True))
    # Analytics over every organisation scan by time.
    op.create_index("ix_login_attempts_created", "login_attempts", ["created_at"])
    op.create_index("ix_sessions_created", "sessions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_created", table_name="sessions")
    op.drop_index("ix_login_attempts_created", table_name="login_attempts")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        for column in ("note", "resolved_by", "resolved_at", "acknowledged_by", "acknowledged_at"):
            batch_op.drop_column(column)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("outcome")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("blocked_reason")
        batch_op.drop_column("deleted_at")
