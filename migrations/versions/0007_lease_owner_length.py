"""sessions: room in lease_owner for a 64-character host name, the pid, the process's incarnation,
the runner and the wake (PostgreSQL enforces the length; SQLite does not)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("lease_owner", type_=sa.String(160), existing_type=sa.String(64))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("lease_owner", type_=sa.String(64), existing_type=sa.String(160))
