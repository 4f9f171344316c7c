"""sessions: when retention deleted a finished session's interactions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("pruned_at", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("pruned_at")
