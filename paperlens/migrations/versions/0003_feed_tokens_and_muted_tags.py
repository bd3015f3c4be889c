"""feed tokens and the tags that do not feed the research feed

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("prefix"),
    )
    reader = sa.ForeignKey("users.id", ondelete="CASCADE")
    op.create_table(
        "feed_muted_tags",
        sa.Column("user_id", sa.Integer(), reader, primary_key=True),
        sa.Column("tag", sa.String(length=64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("feed_muted_tags")
    op.drop_table("feed_tokens")
