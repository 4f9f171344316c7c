"""sessions: the request as a writer made it (issue title and body), and the trigger's key

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("request", sa.JSON()))
        batch.add_column(sa.Column("trigger_key", sa.String(128)))
        batch.create_unique_constraint("uq_sessions_trigger_key", ["repository_id", "trigger_key"])


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_constraint("uq_sessions_trigger_key", type_="unique")
        batch.drop_column("trigger_key")
        batch.drop_column("request")
