"""The composition root: every module's router, joined into the one the intake dispatches to."""

from __future__ import annotations

from bot.handlers import commands, conversation, drift, installations, triggers
from bot.handlers import checks as check_events
from bot.handlers.router import Router


def build_router() -> Router:
    return Router(installations.router, triggers.router, commands.router, conversation.router,
                  check_events.router, drift.router)
