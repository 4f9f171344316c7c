"""PostgreSQL: compress the large columns (delivery payloads, requests, interactions' input and
result) with lz4 instead of pglz, where the server was built with it (PostgreSQL 14 and later)

Every delivery's payload (~12 KB) is compressed when it is written; pglz took ~220 µs of the
database's CPU per delivery, more than everything else intake asks of it, lz4 ~45 µs for the same
size on disk (benchmarks/webhook_ingest). Values already stored keep their compression.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from alembic import op
from sqlalchemy import text

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (("deliveries", "payload"), ("sessions", "request"), ("interactions", "input"), ("interactions", "result"))


def lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.scalar(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                 "WHERE name = 'default_toast_compression'")))


def set_compression(method: str) -> None:
    if lz4_available():
        for table, column in COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    set_compression("lz4")


def downgrade() -> None:
    set_compression("DEFAULT")
