"""deliveries: every webhook GitHub sent us, unique on its delivery id

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64)),
        sa.Column("installation_id", sa.BigInteger()),
        sa.Column("repository_id", sa.BigInteger()),
        sa.Column("repository_full_name", sa.String(256)),
        sa.Column("sender_login", sa.String(256)),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime()),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("model_error", sa.Text()),
        sa.Column("payload", sa.LargeBinary()),
        sa.UniqueConstraint("delivery_id", name="uq_deliveries_delivery_id"),
    )
    op.create_index("ix_deliveries_installation_id", "deliveries", ["installation_id"])
    op.create_index("ix_deliveries_received_at", "deliveries", ["received_at"])
    op.create_index("ix_deliveries_outcome", "deliveries", ["outcome"])


def downgrade() -> None:
    op.drop_table("deliveries")
