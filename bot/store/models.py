"""SQLAlchemy models. The schema itself is owned by the Alembic migrations under `migrations/`."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class DeliveryOutcome(str, enum.Enum):
    pending = "pending"          # recorded, payload kept until processed
    processed = "processed"      # at least one handler ran
    ignored = "ignored"          # no handler for this event/action
    failed = "failed"            # a handler raised; see `error`


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("delivery_id", name="uq_deliveries_delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    repository_id: Mapped[int | None] = mapped_column(BigInteger)
    repository_full_name: Mapped[str | None] = mapped_column(String(256))
    sender_login: Mapped[str | None] = mapped_column(String(256))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16), default=DeliveryOutcome.pending.value, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # Set when githubkit's webhook models rejected the payload. Handlers still ran on the raw
    # JSON: GitHub's own examples often lack fields the generated models require.
    model_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)


class SessionStatus(str, enum.Enum):
    running = "running"
    waiting_for_checks = "waiting_for_checks"
    paused = "paused"                # an outage (a rate limit, GitHub or Anthropic down): resumes by itself
    awaiting_review = "awaiting_review"
    needs_human = "needs_human"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in {SessionStatus.completed, SessionStatus.failed, SessionStatus.cancelled}


FINAL_STATUSES = tuple(s.value for s in SessionStatus if s.is_final)


class Session(Base):
    """One attempt to implement one component for one issue.

    `active_key` is "<repository id>#<issue>" while the session is not final and NULL after;
    its unique constraint makes "one active session per issue" hold across processes.
    `trigger_key` is unique per repository, so a replayed trigger never starts a second session.
    `lease_owner`/`lease_until` serialize the runner: one step at a time per session.
    `pruned_at` is set when retention (bot/retention.py) deleted a finished session's interactions:
    its history is gone, so it can never be reopened.
    """

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("active_key", name="uq_sessions_active_key"),
                      UniqueConstraint("repository_id", "trigger_key", name="uq_sessions_trigger_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    installation_id: Mapped[int] = mapped_column(BigInteger, index=True)
    repository_id: Mapped[int] = mapped_column(BigInteger, index=True)
    repository_full_name: Mapped[str] = mapped_column(String(256))
    issue_number: Mapped[int] = mapped_column(Integer)
    active_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default=SessionStatus.running.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(32))
    triggered_by: Mapped[str] = mapped_column(String(256))
    # What the trigger was (the comment or the labelling): a replayed trigger finds it taken.
    trigger_key: Mapped[str | None] = mapped_column(String(128))
    # The issue's title and body as a writer asked for the work: later steps use this, never the
    # live issue, which its author could edit after a maintainer labelled it.
    request: Mapped[dict | None] = mapped_column(JSON)
    pr_number: Mapped[int | None] = mapped_column(Integer)
    branch: Mapped[str | None] = mapped_column(String(256))
    base_sha: Mapped[str | None] = mapped_column(String(64))
    head_sha: Mapped[str | None] = mapped_column(String(64), index=True)
    component_name: Mapped[str | None] = mapped_column(String(256))
    design_path: Mapped[str | None] = mapped_column(String(1024))
    test_path: Mapped[str | None] = mapped_column(String(1024))
    status_comment_id: Mapped[int | None] = mapped_column(BigInteger)
    # What the session last showed on GitHub (bot/engine/publishing.py): nothing is sent twice.
    status_digest: Mapped[str | None] = mapped_column(String(64))
    check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    check_run_sha: Mapped[str | None] = mapped_column(String(64))
    check_run_digest: Mapped[str | None] = mapped_column(String(64))
    state_label: Mapped[str | None] = mapped_column(String(64))
    head_tree_sha: Mapped[str | None] = mapped_column(String(64))  # the tree of head_sha, when we made it
    # GraphQL node ids: what one mutation document needs to show everything at once.
    repository_node_id: Mapped[str | None] = mapped_column(String(128))
    issue_node_id: Mapped[str | None] = mapped_column(String(128))
    status_comment_node_id: Mapped[str | None] = mapped_column(String(128))
    check_run_node_id: Mapped[str | None] = mapped_column(String(128))
    pr_node_id: Mapped[str | None] = mapped_column(String(128))
    pr_digest: Mapped[str | None] = mapped_column(String(64))  # the PR's body and readiness, as last published
    fix_iterations: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    lease_owner: Mapped[str | None] = mapped_column(String(160))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}

    @property
    def owner(self) -> str:
        return self.repository_full_name.split("/", 1)[0]

    @property
    def repo(self) -> str:
        return self.repository_full_name.split("/", 1)[1]


class Interaction(Base):
    """Append-only record of a session: step attempts (started → succeeded|failed) and signals.

    The orchestrator's only input. Never updated; deleted only by retention, once the session is
    finished and past the retention window (`Session.pruned_at`).
    """

    __tablename__ = "interactions"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_interactions_session_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    input: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    commit_sha: Mapped[str | None] = mapped_column(String(64))
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
