"""Webhook routing in the style of gidgethub and Probot.

Each module that owns a concern keeps its own `Router` and registers handlers with
`@router.on("issues.labeled")` (or a bare event name for every action); the composition root
joins them with `Router(triggers.router, checks.router, …)`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.engine.context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One verified delivery: the raw payload, and githubkit's typed model when it validated."""

    name: str
    delivery_id: str
    payload: dict[str, Any]
    model: Any = None

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def key(self) -> str:
        return f"{self.name}.{self.action}" if self.action else self.name

    @property
    def installation_id(self) -> int | None:
        return (self.payload.get("installation") or {}).get("id")

    @property
    def repository(self) -> dict[str, Any]:
        return self.payload.get("repository") or {}

    @property
    def sender(self) -> dict[str, Any]:
        return self.payload.get("sender") or {}


Handler = Callable[["Event", "Context"], Awaitable[None]]


class Router:
    def __init__(self, *others: Router) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        for other in others:
            for key, handlers in other._handlers.items():
                self._handlers[key].extend(handlers)

    def on(self, *keys: str) -> Callable[[Handler], Handler]:
        """Register a handler for `event` (all actions) or `event.action` keys."""

        def register(handler: Handler) -> Handler:
            for key in keys:
                self._handlers[key].append(handler)
            return handler

        return register

    def handlers_for(self, event: Event) -> list[Handler]:
        handlers = list(self._handlers.get(event.name, ()))
        if event.action:
            handlers += self._handlers.get(event.key, ())
        return handlers

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def dispatch(self, event: Event, context: Context) -> int:
        """Run every handler for the event in registration order; returns how many ran."""
        handlers = self.handlers_for(event)
        for handler in handlers:
            log.debug("dispatching %s to %s", event.key, handler.__qualname__)
            await handler(event, context)
        return len(handlers)
