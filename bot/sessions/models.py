"""SQLAlchemy models. The schema itself is owned by the Alembic migrations under `migrations/`."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
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
