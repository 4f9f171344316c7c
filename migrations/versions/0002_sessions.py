"""sessions and their append-only interactions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("repository_full_name", sa.String(256), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("active_key", sa.String(64)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_reason", sa.Text()),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("triggered_by", sa.String(256), nullable=False),
        sa.Column("pr_number", sa.Integer()),
        sa.Column("branch", sa.String(256)),
        sa.Column("base_sha", sa.String(64)),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("component_name", sa.String(256)),
        sa.Column("design_path", sa.String(1024)),
        sa.Column("test_path", sa.String(1024)),
        sa.Column("status_comment_id", sa.BigInteger()),
        sa.Column("fix_iterations", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("active_key", name="uq_sessions_active_key"),
    )
    op.create_index("ix_sessions_installation_id", "sessions", ["installation_id"])
    op.create_index("ix_sessions_repository_id", "sessions", ["repository_id"])
    op.create_index("ix_sessions_status", "sessions", ["status"])
    op.create_index("ix_sessions_head_sha", "sessions", ["head_sha"])
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("input", sa.JSON()),
        sa.Column("result", sa.JSON()),
        sa.Column("commit_sha", sa.String(64)),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("transcript", sa.LargeBinary()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "seq", name="uq_interactions_session_seq"),
    )
    op.create_index("ix_interactions_session_id", "interactions", ["session_id"])


def downgrade() -> None:
    op.drop_table("interactions")
    op.drop_table("sessions")
