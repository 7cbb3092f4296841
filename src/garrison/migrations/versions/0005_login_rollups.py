"""Login rollups for analytics, filled from the existing login attempts; covering time indexes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from garrison.models.base import UTCDateTime
from garrison.models.rollups import Totals, rows_for_attempt

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
ACTIVITY_WORDS = ("head0", "head1", "head2", "days", "tail0", "tail1", "tail2")


def upgrade() -> None:
    rollups = op.create_table(
        "login_rollups",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("success", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failure", sa.Integer(), server_default=sa.text("0"), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
            for name in ACTIVITY_WORDS
        ),
        sa.PrimaryKeyConstraint(
            "kind",
            "period",
            "organisation_id",
            "user_id",
            name=op.f("pk_login_rollups"),
            postgresql_include=list(ACTIVITY_WORDS),
        ),
    )
    with op.batch_alter_table("login_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_rollups_org_kind_period", ["organisation_id", "kind", "period"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_login_attempts_created", table_name="login_attempts")
        op.create_index(
            "ix_login_attempts_created",
            "login_attempts",
            ["created_at"],
            postgresql_include=["user_id", "success"],
        )
        op.drop_index("ix_login_attempts_org_created", table_name="login_attempts")
        op.create_index(
            "ix_login_attempts_org_created",
            "login_attempts",
            ["organisation_id", "created_at"],
            postgresql_include=["user_id", "success"],
        )
    assert rollups is not None
    _backfill(rollups)


def _backfill(rollups: sa.Table) -> None:
    """Roll up every attempt already recorded, with the same code the login path uses."""
    attempts = sa.table(
        "login_attempts",
        sa.column("organisation_id", sa.Uuid()),
        sa.column("user_id", sa.Uuid()),
        sa.column("success", sa.Boolean()),
        sa.column("created_at", UTCDateTime()),
    )
    bind = op.get_bind()
    totals = Totals()
    query = sa.select(*attempts.c)
    for organisation_id, user_id, success, created_at in bind.execute(
        query.execution_options(yield_per=BATCH)
    ):
        totals.add(
            rows_for_attempt(
                organisation_id=organisation_id, user_id=user_id, success=bool(success), at=created_at
            )
        )
    rows = [row.columns() for row in totals.rows()]
    for offset in range(0, len(rows), BATCH):
        bind.execute(rollups.insert(), rows[offset : offset + BATCH])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_login_attempts_org_created", table_name="login_attempts")
        op.create_index("ix_login_attempts_org_created", "login_attempts", ["organisation_id", "created_at"])
        op.drop_index("ix_login_attempts_created", table_name="login_attempts")
        op.create_index("ix_login_attempts_created", "login_attempts", ["created_at"])
    with op.batch_alter_table("login_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_login_rollups_org_kind_period")
    op.drop_table("login_rollups")
