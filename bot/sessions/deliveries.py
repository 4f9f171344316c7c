"""The deliveries table: record each webhook once, keep its payload until it is processed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sessions.models import Delivery, DeliveryOutcome, utcnow


@dataclass(frozen=True)
class DeliveryHeader:
    """What we index about a delivery, taken from its headers and verified payload."""

    delivery_id: str
    event: str
    action: str | None = None
    installation_id: int | None = None
    repository_id: int | None = None
    repository_full_name: str | None = None
    sender_login: str | None = None

    @classmethod
    def from_payload(cls, delivery_id: str, event: str, payload: dict[str, Any]) -> DeliveryHeader:
        repository = _mapping(payload.get("repository"))
        return cls(
            delivery_id=delivery_id,
            event=event,
            action=_short_str(payload.get("action")),
            installation_id=_int(_mapping(payload.get("installation")).get("id")),
            repository_id=_int(repository.get("id")),
            repository_full_name=_short_str(repository.get("full_name"), 256),
            sender_login=_short_str(_mapping(payload.get("sender")).get("login"), 256),
        )


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _short_str(value: object, limit: int = 64) -> str | None:
    return value[:limit] if isinstance(value, str) else None


async def record_delivery(db: AsyncSession, header: DeliveryHeader, body: bytes) -> bool:
    """Insert the delivery; False when its id was recorded before (a redelivery or a race)."""
    values = {
        "delivery_id": header.delivery_id,
        "event": header.event,
        "action": header.action,
        "installation_id": header.installation_id,
        "repository_id": header.repository_id,
        "repository_full_name": header.repository_full_name,
        "sender_login": header.sender_login,
        "received_at": utcnow(),
        "outcome": DeliveryOutcome.pending.value,
        "payload": body,
    }
    insert = postgresql.insert if db.bind.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=["delivery_id"]).returning(Delivery.id)
    )
    return (await db.execute(statement)).scalar_one_or_none() is not None


async def get_delivery(db: AsyncSession, delivery_id: str) -> Delivery | None:
    return await db.scalar(select(Delivery).where(Delivery.delivery_id == delivery_id))


async def finish_delivery(db: AsyncSession, delivery_id: str, outcome: DeliveryOutcome,
                          error: str | None = None, model_error: str | None = None) -> None:
    """Record the outcome and drop the payload: it was only kept to be processed."""
    await db.execute(
        update(Delivery)
        .where(Delivery.delivery_id == delivery_id)
        .values(outcome=outcome.value, error=error, model_error=model_error, processed_at=utcnow(), payload=None)
    )


async def pending_delivery_ids(db: AsyncSession) -> Sequence[str]:
    rows = await db.scalars(
        select(Delivery.delivery_id).where(Delivery.outcome == DeliveryOutcome.pending.value).order_by(Delivery.id)
    )
    return rows.all()
