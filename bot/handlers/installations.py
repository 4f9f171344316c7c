"""Installation lifecycle and GitHub's ping: logged so the operator sees who installed the App where."""

from __future__ import annotations

import logging

from bot.handlers.context import EventContext
from bot.handlers.router import Router

log = logging.getLogger(__name__)
router = Router()


@router.on("ping", repository=False)
async def ping(ctx: EventContext) -> None:
    log.info("GitHub pinged hook %s: %s", ctx.event.payload.get("hook_id"), ctx.event.payload.get("zen"))


@router.on("installation", "installation_repositories", repository=False)
async def installation_changed(ctx: EventContext) -> None:
    account = (ctx.event.payload.get("installation") or {}).get("account") or {}
    log.info("installation %s on %s: %s", ctx.event.installation_id, account.get("login"), ctx.event.key)
