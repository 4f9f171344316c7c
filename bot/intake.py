"""Processing of recorded deliveries, off the request path.

The webhook layer records a delivery and calls `submit`; the delivery is then parsed with
githubkit's models, routed, and its outcome recorded (which also drops the kept payload).
A delivery still `pending` after a crash is picked up again by `recover` at start-up.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging

from githubkit.exception import WebhookTypeNotFound
from githubkit.webhooks import parse_obj
from pydantic import ValidationError

from bot.context import Context
from bot.logs import log_context, redact
from bot.metrics import record_delivery, record_error
from bot.routing import Event, Router
from bot.sessions.deliveries import finish_delivery, get_delivery, pending_delivery_ids
from bot.sessions.models import DeliveryOutcome

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, router: Router, context: Context) -> None:
        self.router = router
        self.context = context
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    def submit(self, delivery_id: str) -> None:
        """Schedule processing; never runs inline, so the webhook response is not delayed."""
        if delivery_id not in self._in_flight:
            task = asyncio.create_task(self.process(delivery_id), name=f"delivery:{delivery_id}",
                                       context=contextvars.Context())
            self._in_flight[delivery_id] = task
            task.add_done_callback(lambda _: self._in_flight.pop(delivery_id, None))

    async def drain(self) -> None:
        """Wait until every submitted delivery has been processed (tests, graceful shutdown)."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def recover(self) -> int:
        async with self.context.db() as db:
            delivery_ids = await pending_delivery_ids(db)
        for delivery_id in delivery_ids:
            self.submit(delivery_id)
        if delivery_ids:
            log.info("resuming %d deliveries recorded but not processed before the last stop", len(delivery_ids))
        return len(delivery_ids)

    async def process(self, delivery_id: str) -> None:
        async with self.context.db() as db:
            delivery = await get_delivery(db, delivery_id)
        if delivery is None or delivery.outcome != DeliveryOutcome.pending.value or delivery.payload is None:
            return
        with log_context(delivery_id=delivery_id, installation_id=delivery.installation_id,
                         repository=delivery.repository_full_name):
            payload = json.loads(delivery.payload)
            model, model_error = parse_model(delivery.event, payload)
            if model_error is not None:
                log.info("%s payload rejected by githubkit's models (handled as raw JSON): %s",
                         delivery.event, model_error)
            event = Event(name=delivery.event, delivery_id=delivery_id, payload=payload, model=model)
            outcome, error = await self._dispatch(event)
            async with self.context.db() as db, db.begin():
                await finish_delivery(db, delivery_id, outcome, error, model_error)
            record_delivery(delivery.event, outcome.value)

    async def _dispatch(self, event: Event) -> tuple[DeliveryOutcome, str | None]:
        try:
            handled = await self.router.dispatch(event, self.context)
        except Exception as exc:  # noqa: BLE001 - a handler's failure is recorded, never raised to GitHub
            log.exception("handler failed for %s", event.key)
            record_error("intake")
            return DeliveryOutcome.failed, redact(f"{type(exc).__name__}: {exc}")[:2000]
        if not handled:
            log.debug("no handler for %s", event.key)
            return DeliveryOutcome.ignored, None
        return DeliveryOutcome.processed, None


def parse_model(name: str, payload: dict) -> tuple[object | None, str | None]:
    """githubkit's typed model of the payload, or why it could not be built."""
    try:
        return parse_obj(name, payload), None
    except WebhookTypeNotFound:
        return None, None
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[:3]
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in first)
        return None, f"{exc.error_count()} validation errors: {details}"[:2000]
