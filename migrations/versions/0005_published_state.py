"""sessions: what the session last showed on GitHub, so nothing is sent twice

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    ("status_digest", sa.String(64)),     # the status comment's text, hashed, as last published
    ("check_run_id", sa.BigInteger()),    # our check run on check_run_sha
    ("check_run_sha", sa.String(64)),
    ("check_run_digest", sa.String(64)),  # what it showed, hashed
    ("state_label", sa.String(64)),       # the state label as we last set it
    ("head_tree_sha", sa.String(64)),     # the tree of head_sha, when a step of ours made it
    # GraphQL node ids, so one mutation document can show everything at once
    ("repository_node_id", sa.String(128)),
    ("issue_node_id", sa.String(128)),
    ("status_comment_node_id", sa.String(128)),
    ("check_run_node_id", sa.String(128)),
    ("pr_node_id", sa.String(128)),
    ("pr_digest", sa.String(64)),         # the PR's body and readiness, hashed, as last published
)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
