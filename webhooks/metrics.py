"""`GET /metrics`: the bot's Prometheus metrics (bot/metrics.py), in the format the scraper asks for."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.telemetry.metrics import exposition, refresh_sessions

router = APIRouter()


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    context = getattr(request.app.state, "context", None)  # absent in setup mode: no database yet
    if context is not None:
        await refresh_sessions(context.db)
    body, content_type = exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type)
