"""`POST /api/github/webhooks`: verify, record, hand off, answer — in milliseconds.

Nothing here does the work a delivery asks for; GitHub gives up after 10 seconds and never
redelivers by itself, so the only job is to make the delivery durable before answering.

A plain ASGI app (`WebhookEndpoint`), not a FastAPI endpoint: the app (webhooks/app.py) hands
it the POSTs to its path before FastAPI's routing, telemetry check, Request object and
dependency resolution, which cost more CPU than everything below but the database
(benchmarks/webhook_ingest). Other methods on the path go through FastAPI's router as before.
"""

from __future__ import annotations

import json
import logging
import re
from itertools import accumulate
from typing import Any

import orjson
import psycopg
from githubkit.webhooks import verify
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.telemetry.metrics import record_delivery as count_delivery
from bot.store.deliveries import DeliveryHeader

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/github/webhooks"
MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB and never sends larger ones
# GitHub's 329 example payloads (@octokit/webhooks-examples 7.6.1) nest at most 7 deep and hold at
# most 558 keys and 46 objects and arrays; a push of 2,048 commits holds ~35,000 keys.
MAX_NESTING = 64
MAX_KEYS = 200_000
MAX_CONTAINERS = 100_000
# Fewer bytes than this cannot hold more keys or more objects and arrays than allowed: a key takes
# at least 5 bytes (`"":0,`, or `{"":` and its closing brace), an object or array at least 2.
SMALL_BODY = min(5 * MAX_KEYS, 2 * MAX_CONTAINERS)
TOO_DEEP = f"JSON body is nested more than {MAX_NESTING} levels deep"


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
        return TOO_DEEP
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


def signature_is_valid(secret: str, body: bytes, signature: bytes | str | None) -> bool:
    """Whether `signature` is GitHub's X-Hub-Signature-256 of `body` with `secret`. githubkit's
    `verify` would also accept a sha1 signature (X-Hub-Signature): only `sha256=` counts, and a
    header that is not ASCII cannot match (the constant-time comparison takes ASCII text only)."""
    if isinstance(signature, bytes):
        signature = signature.decode("latin-1")
    return bool(signature) and signature.isascii() and signature.startswith("sha256=") and verify(
        secret, body, signature)


def parse_json(body: bytes) -> Any:  # noqa: ANN401 - whatever JSON value the body holds
    """The body's JSON value, read by orjson (2-3x faster than `json.loads` on a 12 KB payload).

    What orjson refuses and `json.loads` accepts (NaN, a UTF-8 byte order mark, a lone escaped
    surrogate, a number out of float range) is read by `json.loads`, so what is accepted is
    unchanged; ValueError when neither reads it. One difference remains: orjson reads an integer
    beyond 64 bits as a float (GitHub's numbers are ids and counts, within 64 bits)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


class Rejected(Exception):
    """Answer with `status` and `{"error": message}`; counted as a rejected delivery."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Disconnected(Exception):
    """The client went away before sending its whole body: nobody to answer."""


def read_payload(body: bytes) -> Any:  # noqa: ANN401 - whatever JSON value the body holds
    """The body's JSON value; Rejected (400) if it is not JSON, or breaks a shape limit.

    A body under SMALL_BODY bytes cannot break the key or container limits, so orjson reads it at
    once (it refuses more than 1,024 levels itself, so it cannot run out of stack) and the depth is
    measured on the value: about half what the byte scan costs. A larger body, or one
    orjson refuses (`json.loads`, which recurses, may read it next), is measured on its bytes
    before anything parses it. Either way the answer is the byte scan's."""
    if len(body) < SMALL_BODY:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            if value_nests_deeper_than(value, MAX_NESTING):
                raise Rejected(400, TOO_DEEP)
            return value
    problem = json_shape_problem(body)
    if problem is not None:
        raise Rejected(400, problem)
    try:
        return parse_json(body)
    except ValueError:
        raise Rejected(400, "body is not valid JSON") from None


def value_nests_deeper_than(value: Any, limit: int) -> bool:  # noqa: ANN401 - a parsed JSON value
    """Whether objects and arrays nest more than `limit` levels in `value`, walked level by level."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [child for container in level for child in (container.values() if type(container) is dict
                                                             else container) if type(child) in (dict, list)]
    return False


async def read_body(receive: Any, declared: bytes | None, limit: int = MAX_BODY_BYTES) -> bytes:  # noqa: ANN401
    """The raw body, refused as soon as it is known to exceed `limit` (never buffered whole)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejected(413, "payload larger than 25 MiB")
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body = message.get("body", b"")  # the whole body in one message: the usual case
    else:
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Rejected(413, "payload larger than 25 MiB")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
            message = await receive()
        body = b"".join(chunks)
    if len(body) > limit:
        raise Rejected(413, "payload larger than 25 MiB")
    return body


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:  # the first one, as Starlette's `request.headers` gives
        if key == name:
            return value
    return None


async def accept(state: Any, scope: dict[str, Any], receive: Any) -> tuple[int, dict[str, Any]]:  # noqa: ANN401
    """Verify, record and hand off one delivery: the status and JSON object to answer with."""
    if not getattr(state, "ready", True):  # setup mode (webhooks/modes.py): no secret to verify against yet
        raise Rejected(503, "the GitHub App is not registered yet: open this server's / page to register it")
    headers = scope["headers"]
    body = await read_body(receive, _header(headers, b"content-length"))
    if not signature_is_valid(state.webhook_secret(), body, _header(headers, b"x-hub-signature-256")):
        log.warning("webhook refused: missing or invalid X-Hub-Signature-256")
        raise Rejected(401, "missing or invalid X-Hub-Signature-256")
    event = (_header(headers, b"x-github-event") or b"").decode("latin-1").strip()
    delivery_id = (_header(headers, b"x-github-delivery") or b"").decode("latin-1").strip()
    if not event or not delivery_id:
        raise Rejected(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
    if len(event) > 64 or len(delivery_id) > 64:
        raise Rejected(400, "X-GitHub-Event or X-GitHub-Delivery header too long")
    payload = read_payload(body)
    if not isinstance(payload, dict):
        raise Rejected(400, "body is not a JSON object")

    header = DeliveryHeader.from_payload(delivery_id, event, payload)
    wanted = state.intake.router.wants(event, header.action)  # else recorded as ignored, nothing queued
    try:
        recorded = await state.recorder.record(header, body, wanted=wanted)  # returns once committed
    except (OperationalError, InterfaceError, psycopg.Error, OSError) as exc:  # psycopg: PostgreSQL's writer
        # Not recorded (nor queued), so not acknowledged: GitHub marks the delivery failed and
        # `redeliver` recovers it.
        log.error("could not record delivery %s: database unavailable (%s)", delivery_id, type(exc).__name__)
        raise Rejected(503, "database unavailable; the delivery was not recorded") from None
    if not recorded:
        log.info("delivery %s seen before; not processed again", delivery_id)
        count_delivery(event, "duplicate")
        return 200, {"duplicate": True, "delivery": delivery_id}
    if not wanted:
        count_delivery(event, "ignored")
    elif not state.queued:  # on a queue, its job was deferred with the record
        state.intake.submit(delivery_id, header, payload)
    answer = {"accepted": True, "delivery": delivery_id}
    if event == "ping":
        answer["pong"] = True
    return 202, answer


_JSON = b"application/json"


async def send_json(send: Any, status: int, content: dict[str, Any]) -> None:  # noqa: ANN401
    """As Starlette's JSONResponse renders it: same bytes, same headers."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", _JSON)]})
    await send({"type": "http.response.body", "body": body})


class WebhookEndpoint:
    """The webhook endpoint as a plain ASGI app (the app's state is `scope["app"].state`)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: ANN401
        try:
            status, answer = await accept(scope["app"].state, scope, receive)
        except Rejected as rejected:
            count_delivery("unknown", "rejected")  # unverified: its event header is not worth a label
            status, answer = rejected.status, {"error": rejected.message}
        except Disconnected:
            return
        await send_json(send, status, answer)


endpoint = WebhookEndpoint()
