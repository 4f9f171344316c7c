"""The webhook endpoint as a plain ASGI app (webhooks/intake.py): the same contract as the
FastAPI route it replaced, down to the bytes of its answers."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from bot.handlers.router import Router
from bot.store.models import Delivery
from tests.webhook_helpers import WEBHOOK_PATH, delivery_headers, load_payload, post_delivery
from webhooks.intake import parse_json, signature_is_valid


async def count_deliveries(app) -> int:
    async with app.state.db() as db:
        return await db.scalar(select(func.count()).select_from(Delivery))


async def test_answers_are_rendered_as_starlette_renders_json(client, app):
    app.state.intake.router = Router()
    response = await post_delivery(client, "issues", load_payload("issues.labeled"), delivery_id="d-1")
    assert response.status_code == 202
    assert response.content == b'{"accepted":true,"delivery":"d-1"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    await app.state.intake.drain()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_methods_on_the_path_are_405_as_before(client, method):
    response = await client.request(method, WEBHOOK_PATH)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "POST"


async def test_a_trailing_slash_still_redirects(client):
    body = b"{}"
    response = await client.post(WEBHOOK_PATH + "/", content=body, headers=delivery_headers("issues", body))
    assert response.status_code == 307
    assert response.headers["location"].endswith(WEBHOOK_PATH)


async def test_a_body_sent_in_chunks_is_accepted(client, app):
    app.state.intake.router = Router()
    body = json.dumps(load_payload("issues.labeled")).encode()

    async def chunks():
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    response = await client.post(WEBHOOK_PATH, content=chunks(), headers=delivery_headers("issues", body, "chunked"))
    assert response.status_code == 202
    await app.state.intake.drain()
    async with app.state.db() as db:
        assert (await db.scalar(select(Delivery.delivery_id))) == "chunked"


async def test_the_first_of_repeated_headers_counts(client, app):
    body = json.dumps(load_payload("issues.labeled")).encode()
    headers = [(k, v) for k, v in delivery_headers("issues", body, "first").items()] + [("X-GitHub-Delivery", "second")]
    app.state.intake.router = Router()
    response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert response.json()["delivery"] == "first"
    await app.state.intake.drain()


async def test_a_signature_that_is_not_ascii_is_401(client, app):
    body = json.dumps(load_payload("issues.labeled")).encode()
    headers = delivery_headers("issues", body)
    headers["X-Hub-Signature-256"] = "sha256=" + "é" * 64
    response = await client.post(WEBHOOK_PATH, content=body, headers={k: v.encode("latin-1") for k, v in headers.items()})
    assert response.status_code == 401
    assert await count_deliveries(app) == 0


async def test_a_client_that_disconnects_mid_body_gets_nothing_recorded(app):
    body = json.dumps(load_payload("issues.labeled")).encode()
    headers = [(k.lower().encode(), v.encode()) for k, v in delivery_headers("issues", body).items()]
    messages = iter([{"type": "http.request", "body": body[:100], "more_body": True}, {"type": "http.disconnect"}])
    sent: list[dict] = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": WEBHOOK_PATH, "raw_path": WEBHOOK_PATH.encode(), "root_path": "", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 3000)}
    await app(scope, receive, send)
    assert sent == []
    assert await count_deliveries(app) == 0


async def test_json_that_only_the_standard_library_reads_is_still_accepted(client, app):
    """orjson refuses NaN and a byte order mark; `json.loads` accepted both before, and still decides."""
    app.state.intake.router = Router()
    for delivery_id, body in (("nan", b'{"action": "labeled", "x": NaN}'),
                              ("bom", b'\xef\xbb\xbf{"action": "labeled"}'),
                              ("big", b'{"action": "labeled", "n": 123456789012345678901234567890}')):
        response = await post_delivery(client, "issues", body, delivery_id=delivery_id)
        assert response.status_code == 202, (delivery_id, response.text)
    await app.state.intake.drain()
    assert await count_deliveries(app) == 3


def test_parse_json_agrees_with_the_standard_library():
    for body in (b'{"a": [1, 2.5, "x", null, true]}', b'{"a": NaN}', b'\xef\xbb\xbf{"a": 1}', b'{"a": "\\ud800"}',
                 json.dumps(load_payload("issues.labeled")).encode()):
        assert parse_json(body) == json.loads(body) or body == b'{"a": NaN}'
    with pytest.raises(ValueError):
        parse_json(b"{not json")


def test_signature_check():
    from githubkit.webhooks import sign

    body = b'{"a": 1}'
    good = sign("s3cret", body, "sha256")
    assert signature_is_valid("s3cret", body, good)
    assert signature_is_valid("s3cret", body, good.encode())
    assert not signature_is_valid("other", body, good)
    assert not signature_is_valid("s3cret", body + b" ", good)
    assert not signature_is_valid("s3cret", body, sign("s3cret", body, "sha1"))
    assert not signature_is_valid("s3cret", body, None)
    assert not signature_is_valid("s3cret", body, "")
    assert not signature_is_valid("s3cret", body, "sha256=" + "é" * 64)
    assert not signature_is_valid("s3cret", body, ("sha256=" + "é" * 64).encode("latin-1"))


async def test_concurrent_requests_are_answered_each_with_its_own_id(client, app):
    app.state.intake.router = Router()
    payload = load_payload("issues.labeled")
    responses = await asyncio.gather(*(post_delivery(client, "issues", payload, delivery_id=f"c-{i}") for i in range(20)))
    assert sorted(r.json()["delivery"] for r in responses) == sorted(f"c-{i}" for i in range(20))
    await app.state.intake.drain()
