"""Webhook routing in the style of gidgethub and Probot.

Each module that owns a concern keeps its own `Router` and registers handlers with
`@router.on("issues.labeled")` (or a bare event name for every action); the composition root
joins them with `Router(triggers.router, checks.router, …)`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

from bot.handlers.context import EventContext

log = logging.getLogger(__name__)


Handler = Callable[[EventContext], Awaitable[None]]


class Router:
    def __init__(self, *others: Router) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._unscoped: set[Handler] = set()
        for other in others:
            for key, handlers in other._handlers.items():
                self._handlers[key].extend(handlers)
            self._unscoped |= other._unscoped

    def on(self, *keys: str, repository: bool = True) -> Callable[[Handler], Handler]:
        """Register a handler for `event` (all actions) or `event.action` keys. By default it only
        runs for events about a repository of an installation (`ctx.repository` is set)."""

        def register(handler: Handler) -> Handler:
            for key in keys:
                self._handlers[key].append(handler)
            if not repository:
                self._unscoped.add(handler)
            return handler

        return register

    def handlers_of(self, event: str, action: str | None) -> list[Handler]:
        """The handlers of the event name, then those of the event with this action."""
        handlers = list(self._handlers.get(event, ()))
        if action:
            handlers += self._handlers.get(f"{event}.{action}", ())
        return handlers

    def wants(self, event: str, action: str | None) -> bool:
        """Whether any handler takes `event` with `action`. Intake records the other deliveries as
        ignored, with no work queued for them: a third of a session's webhooks are such echoes of
        its own doing (`check_run.created`, `issue_comment.edited`, `pull_request.opened`, …)."""
        return bool(self.handlers_of(event, action))

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def dispatch(self, ctx: EventContext) -> int:
        """Run every handler for the event in registration order; returns how many ran."""
        handlers = [h for h in self.handlers_of(ctx.event.name, ctx.event.action) if ctx.repository is not None or h in self._unscoped]
        for handler in handlers:
            log.debug("dispatching %s to %s", ctx.event.key, handler.__qualname__)
            await handler(ctx)
        return len(handlers)
