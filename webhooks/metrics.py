"""`GET /metrics`: the bot's Prometheus metrics (bot/telemetry/metrics.py), in the format the scraper asks for."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.store.sessions import count_by_status
from bot.telemetry.metrics import exposition, record_error, set_sessions

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    db = getattr(request.app.state, "db", None)
    if db is not None:
        await refresh_sessions(db)
    body, content_type = exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type)


async def refresh_sessions(db) -> None:  # noqa: ANN001 - a session factory
    """Set the sessions gauge from the database; a failure keeps the last values and is counted."""
    try:
        set_sessions(await count_by_status(db))
    except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the database does not
        log.warning("could not count sessions for /metrics: %s", type(exc).__name__)
        record_error("metrics")
