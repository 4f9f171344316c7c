"""`GET /metrics`: the bot's Prometheus metrics (bot/telemetry/metrics.py), in the format the scraper asks for."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.core.budget import month_start
from bot.store.models import utcnow
from bot.store.sessions import count_by_status
from bot.store.spend import spend_by_installation
from bot.telemetry.metrics import exposition, record_error, set_sessions, set_spend

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    db = getattr(request.app.state, "db", None)
    if db is not None:
        await refresh_sessions(db)
        await refresh_spend(db, request.app.state.settings.bot_monthly_budget_usd)
    body, content_type = exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type)


async def refresh_sessions(db) -> None:  # noqa: ANN001 - a session factory
    """Set the sessions gauge from the database; a failure keeps the last values and is counted."""
    try:
        set_sessions(await count_by_status(db))
    except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the database does not
        log.warning("could not count sessions for /metrics: %s", type(exc).__name__)
        record_error("metrics")


async def refresh_spend(db, monthly_budget: float | None) -> None:  # noqa: ANN001 - a session factory
    """Set this month's spend by installation from the database; a failure keeps the last values."""
    try:
        async with db() as s:
            spent = await spend_by_installation(s, month_start(utcnow()))
    except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the database does not
        log.warning("could not read this month's spend for /metrics: %s", type(exc).__name__)
        record_error("metrics")
        return
    set_spend(spent, monthly_budget)
