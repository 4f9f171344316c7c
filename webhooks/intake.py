"""`POST /api/github/webhooks`: verify, record, hand off, answer — in milliseconds.

Nothing here does the work a delivery asks for; GitHub gives up after 10 seconds and never
redelivers by itself, so the only job is to make the delivery durable before answering.
"""

from __future__ import annotations

import json
import logging
import re
from itertools import accumulate

from fastapi import APIRouter, Request
from sqlalchemy.exc import InterfaceError, OperationalError
from fastapi.responses import JSONResponse
from githubkit.webhooks import verify
from procrastinate.exceptions import ConnectorException

from bot.telemetry.metrics import record_delivery as count_delivery
from bot.store.deliveries import DeliveryHeader

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB and never sends larger ones
# GitHub's 329 example payloads (@octokit/webhooks-examples 7.6.1) nest at most 7 deep and hold at
# most 558 keys and 46 objects and arrays; a push of 2,048 commits holds ~35,000 keys.
MAX_NESTING = 64
MAX_KEYS = 200_000
MAX_CONTAINERS = 100_000


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


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"{}[]:')))
_NESTING_STEPS = bytes.maketrans(b"{[}]", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def json_shape_problem(body: bytes) -> str | None:
    """Why `body` is nested too deeply or too large in keys, objects or arrays to be parsed; None if not.

    `json.loads` recurses once per level (100,000 levels raise RecursionError) and builds every key,
    so the shape is measured first, on the bytes, with C-speed operations: about half of what
    parsing costs. Exact for UTF-8 JSON, where quotes, backslashes, brackets and colons are single
    bytes and a quote inside a string is always escaped; other encodings are refused.
    """
    if json.detect_encoding(body) not in ("utf-8", "utf-8-sig"):
        return "body is not UTF-8 encoded JSON"
    kept = structural_bytes(body)
    if kept.count(b":") > MAX_KEYS and outside_strings(kept).count(b":") > MAX_KEYS:  # colons in strings, first
        return f"JSON body has more than {MAX_KEYS:,} keys"
    steps = outside_strings(kept.translate(_NESTING_STEPS, b":"))
    if steps.count(1) > MAX_CONTAINERS:
        return f"JSON body has more than {MAX_CONTAINERS:,} objects and arrays"
    if nests_deeper_than(steps, MAX_NESTING):
        return f"JSON body is nested more than {MAX_NESTING} levels deep"
    return None


def structural_bytes(body: bytes) -> bytes:
    """The quotes, brackets and colons of a JSON text, in order, escaped characters left out."""
    if b"\\" in body:
        body = _ESCAPE.sub(b"", body)  # first: then no quote is left inside a string
    return body.translate(None, _NOT_STRUCTURE)


def outside_strings(kept: bytes) -> bytes:
    """`kept` (from `structural_bytes`) without what was inside its strings."""
    kept = kept.replace(b'""', b"")  # most strings hold nothing that was kept
    return b"".join(kept.split(b'"')[::2]) if b'"' in kept else kept


def nests_deeper_than(steps: bytes, limit: int) -> bool:
    """Whether the running sum of +1/-1 bytes ever exceeds `limit`; stops at the first level past it."""
    depths = accumulate(memoryview(steps).cast("b"))
    return next(filter(limit.__lt__, depths), None) is not None


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
    problem = json_shape_problem(body)
    if problem is not None:
        return error(400, problem)

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
    except (OperationalError, InterfaceError, OSError, ConnectorException) as exc:
        # Not recorded (nor queued), so not acknowledged: GitHub marks the delivery failed and
        # `redeliver` recovers it.
        log.error("could not record delivery %s: database unavailable (%s)", delivery_id, type(exc).__name__)
        return error(503, "database unavailable; the delivery was not recorded")
    if not recorded:
        log.info("delivery %s seen before; not processed again", delivery_id)
        count_delivery(event, "duplicate")
        return JSONResponse({"duplicate": True, "delivery": delivery_id}, status_code=200)
    if not state.queued:  # on a queue, its job was deferred with the record
        state.intake.submit(delivery_id, header, payload)
    answer = {"accepted": True, "delivery": delivery_id}
    if event == "ping":
        answer["pong"] = True
    return JSONResponse(answer, status_code=202)
