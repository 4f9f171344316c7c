"""Installation lifecycle and GitHub's ping: logged so the operator sees who installed the App where."""

from __future__ import annotations

import logging

from bot.engine.context import Context
from bot.handlers.router import Event, Router

log = logging.getLogger(__name__)
router = Router()


@router.on("ping")
async def ping(event: Event, context: Context) -> None:
    log.info("GitHub pinged hook %s: %s", event.payload.get("hook_id"), event.payload.get("zen"))


@router.on("installation", "installation_repositories")
async def installation_changed(event: Event, context: Context) -> None:
    account = (event.payload.get("installation") or {}).get("account") or {}
    log.info("installation %s on %s: %s", event.installation_id, account.get("login"), event.key)
