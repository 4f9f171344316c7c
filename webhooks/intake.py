"""`POST /api/github/webhooks`: verify, record, hand off, answer — in milliseconds.

Nothing here does the work a delivery asks for; GitHub gives up after 10 seconds and never
redelivers by itself, so the only job is to make the delivery durable before answering.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from sqlalchemy.exc import InterfaceError, OperationalError
from fastapi.responses import JSONResponse
from githubkit.webhooks import verify

from bot.metrics import record_delivery as count_delivery
from bot.sessions.deliveries import DeliveryHeader

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB and never sends larger ones


class BodyTooLarge(Exception):
    pass


def error(status: int, message: str) -> JSONResponse:
    count_delivery("unknown", "rejected")  # unverified: its event header is not worth a label
    return JSONResponse({"error": message}, status_code=status)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused as soon as it is known to exceed `limit` (never buffered whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def signature_is_valid(secret: str, body: bytes, signature: str | None) -> bool:
    # githubkit's verify() would also accept a sha1 signature; only X-Hub-Signature-256 counts.
    return bool(signature) and signature.startswith("sha256=") and verify(secret, body, signature)


@router.post("/api/github/webhooks")
async def receive_webhook(request: Request) -> JSONResponse:
    state = request.app.state
    if not getattr(state, "ready", True):  # setup mode (webhooks/modes.py): no secret to verify against yet
        return error(503, "the GitHub App is not registered yet: open this server's / page to register it")
    try:
        body = await read_body(request)
    except BodyTooLarge:
        return error(413, "payload larger than 25 MiB")
    if not signature_is_valid(state.webhook_secret(), body, request.headers.get("x-hub-signature-256")):
        log.warning("webhook refused: missing or invalid X-Hub-Signature-256")
        return error(401, "missing or invalid X-Hub-Signature-256")

    event = request.headers.get("x-github-event", "").strip()
    delivery_id = request.headers.get("x-github-delivery", "").strip()
    if not event or not delivery_id:
        return error(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
    if len(event) > 64 or len(delivery_id) > 64:
        return error(400, "X-GitHub-Event or X-GitHub-Delivery header too long")
    try:
        payload = json.loads(body)
    except ValueError:
        return error(400, "body is not valid JSON")
    if not isinstance(payload, dict):
        return error(400, "body is not a JSON object")

    header = DeliveryHeader.from_payload(delivery_id, event, payload)
    try:
        recorded = await state.recorder.record(header, body)  # returns once committed
    except (OperationalError, InterfaceError, OSError) as exc:
        # Not recorded, so not acknowledged: GitHub marks the delivery failed and `redeliver` recovers it.
        log.error("could not record delivery %s: database unavailable (%s)", delivery_id, type(exc).__name__)
        return error(503, "database unavailable; the delivery was not recorded")
    if not recorded:
        log.info("delivery %s seen before; not processed again", delivery_id)
        count_delivery(event, "duplicate")
        return JSONResponse({"duplicate": True, "delivery": delivery_id}, status_code=200)
    state.intake.submit(delivery_id, header, payload)
    answer = {"accepted": True, "delivery": delivery_id}
    if event == "ping":
        answer["pong"] = True
    return JSONResponse(answer, status_code=202)
