"""Processing of recorded deliveries, off the request path.

The webhook layer records a delivery and calls `submit`; the delivery is then parsed with
githubkit's models, routed, and its outcome recorded (which also drops the kept payload).
A delivery still `pending` after a crash is picked up again by `recover` at start-up.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from githubkit.webhooks import WebhookNamespace
from pydantic import TypeAdapter, ValidationError

from bot.telemetry.logs import log_context, redact
from bot.telemetry.metrics import record_delivery, record_error
from bot.engine.outages import outage_of, wait_for
from bot.handlers.context import Deps, EventContext
from bot.handlers.event import Event
from bot.handlers.router import Router
from bot.store.deliveries import DeliveryHeader, get_delivery, pending_delivery_ids
from bot.store.models import DeliveryOutcome
from bot.store.recorder import DeliveryRecorder

log = logging.getLogger(__name__)

MAX_CONCURRENT = 32


class Intake:
    def __init__(self, router: Router, deps: Deps, recorder: DeliveryRecorder,
                 later: Callable[[str, float], Awaitable[None]] | None = None) -> None:
        self.router = router
        self.deps = deps
        self.recorder = recorder  # outcomes are written in its batches, not a transaction each
        self.later = later  # how a delivery is processed again after an outage (a timer here by default)
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)  # a burst queues here instead of piling on the database
        self._postponed: dict[str, asyncio.Task[None]] = {}  # delivery id -> its retry after an outage

    def submit(self, delivery_id: str, received: DeliveryHeader | None = None,
               payload: dict[str, Any] | None = None) -> None:
        """Schedule processing; never runs inline, so the webhook response is not delayed.

        The webhook layer hands over what it just recorded (`received`, `payload`), sparing a read
        back from the database; recovery passes only the id and the payload is loaded."""
        if delivery_id not in self._in_flight:
            work = self._process_received(received, payload) if received is not None and payload is not None \
                else self.process(delivery_id)
            task = asyncio.create_task(work, name=f"delivery:{delivery_id}", context=contextvars.Context())
            self._in_flight[delivery_id] = task
            task.add_done_callback(lambda _: self._in_flight.pop(delivery_id, None))

    async def postpone(self, delivery_id: str, delay: float) -> None:
        """Process the delivery again after an outage (it stays pending, its payload kept)."""
        if self.later is not None:
            await self.later(delivery_id, delay)
            return
        if delivery_id in self._postponed:
            return

        async def later() -> None:
            await asyncio.sleep(delay)
            self._postponed.pop(delivery_id, None)
            self.submit(delivery_id)

        self._postponed[delivery_id] = asyncio.create_task(later(), name=f"delivery:{delivery_id}:postponed",
                                                           context=contextvars.Context())

    def retry_postponed(self) -> int:
        """Process every postponed delivery now (the outage is known to be over); returns how many."""
        postponed = list(self._postponed)
        for delivery_id in postponed:
            self._postponed.pop(delivery_id).cancel()
            self.submit(delivery_id)
        return len(postponed)

    async def close(self) -> None:
        for task in self._postponed.values():
            task.cancel()
        await asyncio.gather(*self._postponed.values(), return_exceptions=True)
        self._postponed.clear()

    async def drain(self) -> None:
        """Wait until every submitted delivery has been processed (tests, graceful shutdown)."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def recover(self) -> int:
        async with self.deps.db() as db:
            delivery_ids = await pending_delivery_ids(db)
        for delivery_id in delivery_ids:
            self.submit(delivery_id)
        if delivery_ids:
            log.info("resuming %d deliveries recorded but not processed before the last stop", len(delivery_ids))
        return len(delivery_ids)

    async def process(self, delivery_id: str) -> None:
        """Process a recorded delivery that is still pending (after a restart, say)."""
        async with self.deps.db() as db:
            delivery = await get_delivery(db, delivery_id)
        if delivery is None or delivery.outcome != DeliveryOutcome.pending.value or delivery.payload is None:
            return
        received = DeliveryHeader(delivery_id, delivery.event, installation_id=delivery.installation_id,
                                  repository_full_name=delivery.repository_full_name)
        await self._process_received(received, json.loads(delivery.payload))

    async def _process_received(self, received: DeliveryHeader, payload: dict[str, Any]) -> None:
        async with self._slots:
            await self._handle(received, payload)

    async def _handle(self, received: DeliveryHeader, payload: dict[str, Any]) -> None:
        with log_context(delivery_id=received.delivery_id, installation_id=received.installation_id,
                         repository=received.repository_full_name):
            model, model_error = parse_model(received.event, payload)
            if model_error is not None:
                log.info("%s payload rejected by githubkit's models (handled as raw JSON): %s",
                         received.event, model_error)
            event = Event(name=received.event, delivery_id=received.delivery_id, payload=payload, model=model)
            outcome, error = await self._dispatch(event)
            if outcome is None:
                return  # postponed: still pending
            await self.recorder.finish(received.delivery_id, outcome, error, model_error)
            record_delivery(received.event, outcome.value)

    async def _dispatch(self, event: Event) -> tuple[DeliveryOutcome | None, str | None]:
        """Run the handlers; an outage postpones the delivery (outcome None) instead of failing it:
        GitHub never redelivers by itself, so a failed trigger would be lost."""
        try:
            handled = await self.router.dispatch(EventContext.for_event(event, self.deps))
        except Exception as exc:  # noqa: BLE001 - a handler's failure is recorded, never raised to GitHub
            outage = outage_of(exc)
            if outage is not None:
                delay = wait_for(outage, 1)
                log.warning("%s postponed for %.0f s: %s", event.key, delay, outage.what)
                await self.postpone(event.delivery_id, delay)
                return None, None
            log.exception("handler failed for %s", event.key)
            record_error("intake")
            return DeliveryOutcome.failed, redact(f"{type(exc).__name__}: {exc}")[:2000]
        if not handled:
            log.debug("no handler for %s", event.key)
            return DeliveryOutcome.ignored, None
        return DeliveryOutcome.processed, None


@functools.cache
def _event_adapter(name: str) -> TypeAdapter | None:
    """githubkit's model of one event, compiled once.

    `githubkit.webhooks.parse_obj` builds a new TypeAdapter on every call — milliseconds of CPU
    per delivery, most of intake's cost in the webhook_ingest benchmark."""
    namespace = importlib.import_module(WebhookNamespace.__module__)  # the REST version githubkit uses
    if name not in namespace.VALID_EVENT_NAMES:
        return None
    return TypeAdapter(importlib.import_module(f".{name}", namespace.__package__).Event)


def parse_model(name: str, payload: dict) -> tuple[object | None, str | None]:
    """githubkit's typed model of the payload, or why it could not be built."""
    adapter = _event_adapter(name)
    if adapter is None:
        return None, None
    try:
        return adapter.validate_python(payload), None
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[:3]
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in first)
        return None, f"{exc.error_count()} validation errors: {details}"[:2000]
