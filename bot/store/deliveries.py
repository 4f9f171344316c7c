"""The deliveries table: record each webhook once, keep its payload until it is processed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Delivery, DeliveryOutcome, utcnow


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


_TABLE = Delivery.__table__

# Core statements on the table, not the ORM entity: the ORM's bulk-DML path costs as much CPU as
# the database round trip. Given a list of rows, each runs as one multi-row statement, on the
# session's connection (the session only holds the transaction).
_INSERTS = {
    name: insert(_TABLE).on_conflict_do_nothing(index_elements=["delivery_id"]).returning(_TABLE.c.delivery_id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_FINISH = update(_TABLE).where(_TABLE.c.delivery_id == bindparam("finished_delivery_id"))


def delivery_row(header: DeliveryHeader, body: bytes, *, wanted: bool = True) -> dict[str, Any]:
    """The row that records a delivery as received and still pending; one that no handler wants is
    recorded as already ignored, without its payload (as processing would leave it). Every row has
    the same keys: a batch of them is one multi-row INSERT, whose columns are the first row's."""
    received_at = utcnow()
    return {
        "delivery_id": header.delivery_id,
        "event": header.event,
        "action": header.action,
        "installation_id": header.installation_id,
        "repository_id": header.repository_id,
        "repository_full_name": header.repository_full_name,
        "sender_login": header.sender_login,
        "received_at": received_at,
        "outcome": (DeliveryOutcome.pending if wanted else DeliveryOutcome.ignored).value,
        "processed_at": None if wanted else received_at,
        "payload": body if wanted else None,
    }


def outcome_row(delivery_id: str, outcome: DeliveryOutcome, error: str | None = None,
                model_error: str | None = None) -> dict[str, Any]:
    """The changes that finish a delivery; the payload is dropped, it was only kept to be processed."""
    return {"finished_delivery_id": delivery_id, "outcome": outcome.value, "error": error,
            "model_error": model_error, "processed_at": utcnow(), "payload": None}


def _insert_statement(db: AsyncSession):  # noqa: ANN202 - a dialect-specific Insert
    return _INSERTS["postgresql" if db.bind.dialect.name == "postgresql" else "sqlite"]


async def insert_deliveries(db: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows in one statement; the ids that were new (the others were recorded before)."""
    return set((await (await db.connection()).execute(_insert_statement(db), rows)).scalars())


async def finish_deliveries(db: AsyncSession, outcomes: list[dict[str, Any]]) -> None:
    """Apply `outcome_row`s, all in one executemany."""
    await (await db.connection()).execute(_FINISH, outcomes)


async def get_delivery(db: AsyncSession, delivery_id: str) -> Delivery | None:
    return await db.scalar(select(Delivery).where(Delivery.delivery_id == delivery_id))


async def pending_delivery_ids(db: AsyncSession) -> Sequence[str]:
    rows = await db.scalars(
        select(Delivery.delivery_id).where(Delivery.outcome == DeliveryOutcome.pending.value).order_by(Delivery.id)
    )
    return rows.all()
