"""Procrastinate's schema (its job queue), on PostgreSQL only

Procrastinate 3.10's schema.sql, vendored in migrations/procrastinate/ so that this migration
applies the same SQL whatever version is installed; a later Procrastinate that changes its
schema comes with a migration of ours applying its delta files.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from pathlib import Path

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent.parent / "procrastinate"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql((SQL / "schema-3.10.sql").read_text().replace("%", "%%"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql((SQL / "drop.sql").read_text().replace("%", "%%"))
