"""POST /api/github/webhooks: verification, recording, de-duplication and hand-off."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import event, func, select

from bot.handlers.router import Router
from bot.store.models import Delivery
from tests.fakes.agent import ScriptedAgent
from tests.webhook_helpers import (
    WEBHOOK_PATH,
    delivery_headers,
    event_of,
    fixture_names,
    load_payload,
    post_delivery,
)


async def deliveries(app) -> list[Delivery]:
    async with app.state.db() as db:
        return list(await db.scalars(select(Delivery).order_by(Delivery.id)))


async def count_deliveries(app) -> int:
    async with app.state.db() as db:
        return await db.scalar(select(func.count()).select_from(Delivery))


@pytest.mark.parametrize("name", fixture_names())
async def test_real_payload_is_accepted_when_signed(client, app, name):
    payload = load_payload(name)
    response = await post_delivery(client, event_of(name), payload, delivery_id=f"d-{name}")
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] is True
    await app.state.intake.drain()
    [row] = await deliveries(app)
    assert row.delivery_id == f"d-{name}"
    assert row.event == event_of(name)
    assert row.action == payload.get("action")
    assert row.repository_full_name == (payload.get("repository") or {}).get("full_name")
    assert row.sender_login == (payload.get("sender") or {}).get("login")
    assert row.outcome in {"processed", "ignored"}, row.error
    assert row.payload is None, "the payload is dropped once processed"


@pytest.mark.parametrize("name", fixture_names())
async def test_real_payload_is_refused_unsigned(client, app, name):
    body = json.dumps(load_payload(name)).encode()
    headers = delivery_headers(event_of(name), body)
    del headers["X-Hub-Signature-256"]
    response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert response.status_code == 401
    assert await count_deliveries(app) == 0


@pytest.mark.parametrize(
    "signature",
    ["sha256=" + "0" * 64, "sha256=", "garbage", "sha1=0123456789abcdef0123456789abcdef01234567"],
)
async def test_wrong_signature_is_401_and_records_nothing(client, app, signature):
    response = await post_delivery(client, "issues", load_payload("issues.labeled"),
                                   **{"X-Hub-Signature-256": signature})
    assert response.status_code == 401
    assert "signature" in response.json()["error"].lower()
    assert await count_deliveries(app) == 0


async def test_signature_made_with_another_secret_is_refused(client, app):
    body = json.dumps(load_payload("issues.labeled")).encode()
    headers = delivery_headers("issues", body, secret="not-the-secret")
    assert (await client.post(WEBHOOK_PATH, content=body, headers=headers)).status_code == 401
    assert await count_deliveries(app) == 0


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
async def test_missing_header_is_400(client, app, missing):
    body = json.dumps(load_payload("issues.labeled")).encode()
    headers = delivery_headers("issues", body)
    del headers[missing]
    response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert response.status_code == 400
    assert missing in response.json()["error"]
    assert await count_deliveries(app) == 0


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe"])
async def test_body_that_is_not_a_json_object_is_400(client, app, body):
    response = await client.post(WEBHOOK_PATH, content=body, headers=delivery_headers("issues", body))
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]
    assert await count_deliveries(app) == 0


async def test_declared_oversized_body_is_413(client, app):
    body = b"{}"
    headers = delivery_headers("issues", body)
    headers["Content-Length"] = str(25 * 1024 * 1024 + 1)

    async def send():  # declares a huge length; the server must refuse without reading it
        yield body

    response = await client.post(WEBHOOK_PATH, content=send(), headers=headers)
    assert response.status_code == 413
    assert await count_deliveries(app) == 0


async def test_streamed_oversized_body_is_413_without_buffering_it_all(client, app):
    chunk = b" " * (1024 * 1024)
    sent = 0

    async def chunks():
        nonlocal sent
        for _ in range(40):
            sent += 1
            yield chunk

    headers = delivery_headers("issues", b"{}")
    response = await client.post(WEBHOOK_PATH, content=chunks(), headers=headers)
    assert response.status_code == 413
    assert await count_deliveries(app) == 0


async def test_redelivery_is_a_no_op(client, app):
    handled: list[str] = []
    router = Router()

    @router.on("issues.labeled", repository=False)
    async def record(ctx) -> None:
        event = ctx.event
        handled.append(event.delivery_id)

    app.state.intake.router = router
    payload = load_payload("issues.labeled")
    first = await post_delivery(client, "issues", payload, delivery_id="same-id")
    await app.state.intake.drain()
    second = await post_delivery(client, "issues", payload, delivery_id="same-id")
    await app.state.intake.drain()
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json() == {"duplicate": True, "delivery": "same-id"}
    assert await count_deliveries(app) == 1
    assert handled == ["same-id"]


async def test_twenty_concurrent_duplicates_record_one_row(client, app):
    counted: list[str] = []
    router = Router()

    @router.on("issues.labeled", repository=False)
    async def count(ctx) -> None:
        event = ctx.event
        counted.append(event.delivery_id)

    app.state.intake.router = router
    payload = load_payload("issues.labeled")
    responses = await asyncio.gather(
        *(post_delivery(client, "issues", payload, delivery_id="raced-id") for _ in range(20))
    )
    await app.state.intake.drain()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [202]
    assert await count_deliveries(app) == 1
    assert counted == ["raced-id"]


async def test_concurrent_deliveries_are_recorded_together(client, app):
    """Group commit: what arrives while a transaction runs is written by the next one, as one INSERT."""
    router = Router()

    @router.on("issues.labeled", repository=False)
    async def takes_it(ctx) -> None:  # noqa: ANN001
        pass

    app.state.intake.router = router
    payload = load_payload("issues.labeled")
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(" ".join(statement.split()).upper())

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        responses = await asyncio.gather(
            *(post_delivery(client, "issues", payload, delivery_id=f"batched-{i}") for i in range(50))
        )
        await app.state.intake.drain()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert [r.status_code for r in responses] == [202] * 50
    inserts = [s for s in statements if s.startswith("INSERT INTO DELIVERIES")]
    updates = [s for s in statements if s.startswith("UPDATE DELIVERIES")]
    assert 1 <= len(inserts) < 50
    assert 1 <= len(updates) < 50
    rows = await deliveries(app)
    assert sorted(row.delivery_id for row in rows) == sorted(f"batched-{i}" for i in range(50))
    assert {row.outcome for row in rows} == {"processed"}


async def test_ping_is_answered(client, app):
    response = await post_delivery(client, "ping", load_payload("ping"))
    assert response.status_code == 202
    assert response.json()["pong"] is True
    await app.state.intake.drain()
    [row] = await deliveries(app)
    assert row.outcome == "processed"


async def test_unknown_event_is_recorded_and_ignored(client, app):
    response = await post_delivery(client, "sponsorship_of_the_future", {"action": "levitated", "sender": {"login": "x"}})
    assert response.status_code == 202
    await app.state.intake.drain()
    [row] = await deliveries(app)
    assert (row.event, row.action, row.outcome, row.payload) == ("sponsorship_of_the_future", "levitated", "ignored", None)


async def test_unknown_action_of_known_event_is_ignored(client, app):
    payload = load_payload("issues.labeled") | {"action": "teleported"}
    assert (await post_delivery(client, "issues", payload)).status_code == 202
    await app.state.intake.drain()
    [row] = await deliveries(app)
    assert row.outcome == "ignored"


async def test_an_event_no_handler_takes_is_recorded_as_ignored_before_the_answer(client, app):
    assert (await post_delivery(client, "pull_request", load_payload("pull_request.opened"))).status_code == 202
    [row] = await deliveries(app)  # nothing drained: nothing was handed to processing
    assert (row.event, row.action, row.outcome, row.payload) == ("pull_request", "opened", "ignored", None)


async def test_wanted_and_unwanted_deliveries_arriving_together_are_all_recorded(client, app):
    """They share a group commit: one multi-row INSERT of pending and already-ignored rows."""
    responses = await asyncio.gather(*(
        post_delivery(client, *(("pull_request", load_payload("pull_request.opened")) if i % 2 == 0 else
                                ("issue_comment", load_payload("issue_comment.created"))), delivery_id=f"mixed-{i}")
        for i in range(10)))
    await app.state.intake.drain()
    assert [r.status_code for r in responses] == [202] * 10
    rows = {row.delivery_id: row for row in await deliveries(app)}
    assert sorted(rows) == sorted(f"mixed-{i}" for i in range(10))
    unwanted = [rows[f"mixed-{i}"] for i in range(0, 10, 2)]
    assert {row.outcome for row in unwanted} == {"ignored"} and all(row.processed_at for row in unwanted)


async def test_payload_the_models_reject_is_recorded_as_such_and_still_202(client, app):
    payload = load_payload("issue_comment.created")
    del payload["issue"]["user"]
    response = await post_delivery(client, "issue_comment", payload)
    assert response.status_code == 202
    await app.state.intake.drain()
    [row] = await deliveries(app)
    assert row.outcome in ("processed", "ignored")
    assert "issue.user" in row.model_error


async def test_payload_the_models_accept_has_no_model_error(client, app):
    await post_delivery(client, "issue_comment", load_payload("issue_comment.created"))
    await app.state.intake.drain()
    [row] = await deliveries(app)
    assert row.model_error is None


async def test_failing_handler_is_recorded_not_raised(client, app):
    router = Router()

    @router.on("issues", repository=False)
    async def explode(ctx) -> None:
        assert ctx.event is not None
        raise RuntimeError("handler exploded")

    app.state.intake.router = router
    response = await post_delivery(client, "issues", load_payload("issues.labeled"))
    assert response.status_code == 202
    await app.state.intake.drain()
    [row] = await deliveries(app)
    assert row.outcome == "failed"
    assert "handler exploded" in row.error


async def test_handlers_run_after_the_response(client, app):
    """The response never waits for a handler: a handler blocked forever still gets a 202."""
    release = asyncio.Event()
    router = Router()

    @router.on("issues.labeled", repository=False)
    async def slow(ctx) -> None:
        assert ctx.event is not None
        await release.wait()

    app.state.intake.router = router
    response = await asyncio.wait_for(post_delivery(client, "issues", load_payload("issues.labeled")), 5)
    assert response.status_code == 202
    [row] = await deliveries(app)
    assert row.outcome == "pending" and row.payload is not None
    release.set()
    await app.state.intake.drain()


async def test_pending_deliveries_are_processed_after_a_restart(settings):
    """A delivery recorded just before a crash is processed when the next process starts."""
    from webhooks.app import create_app

    blocked = asyncio.Event()
    router = Router()

    @router.on("issues.labeled", repository=False)
    async def never_finishes(ctx) -> None:
        assert ctx.event is not None
        await blocked.wait()

    first = create_app(settings, router=router, agent=ScriptedAgent(), engine="in-process")
    async with first.router.lifespan_context(first):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://bot") as http:
            assert (await post_delivery(http, "issues", load_payload("issues.labeled"), "crash-id")).status_code == 202
        for task in list(first.state.intake._in_flight.values()):
            task.cancel()  # the process dies mid-handler
        await asyncio.sleep(0)
        [row] = await deliveries(first)
        assert row.outcome == "pending"

    handled: list[str] = []
    recovering = Router()

    @recovering.on("issues.labeled", repository=False)
    async def record(ctx) -> None:
        event = ctx.event
        handled.append(event.delivery_id)

    second = create_app(settings, router=recovering, agent=ScriptedAgent(), engine="in-process")
    async with second.router.lifespan_context(second):
        await second.state.intake.drain()
        [row] = await deliveries(second)
    assert handled == ["crash-id"]
    assert row.outcome == "processed" and row.payload is None


async def test_healthz_ok(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_healthz_503_when_database_unreachable(app, client):
    from bot.store.db import create_engine

    healthy_engine = app.state.db.engine
    app.state.db.engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/unreachable")
    try:
        response = await client.get("/healthz")
    finally:
        await app.state.db.engine.dispose()
        app.state.db.engine = healthy_engine
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_a_delivery_that_cannot_be_recorded_is_503_so_github_marks_it_failed(app, client):
    from bot.store.db import create_engine, session_factory
    from bot.store.recorder import sqlalchemy_writer

    healthy = app.state.recorder.write
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/unreachable")
    app.state.recorder.write = sqlalchemy_writer(session_factory(unreachable))
    try:
        response = await post_delivery(client, "issues", load_payload("issues.opened"))
    finally:
        app.state.recorder.write = healthy
        await unreachable.dispose()
    assert response.status_code == 503
    assert "not recorded" in response.json()["error"]


async def test_every_delivery_of_a_failed_batch_is_503_and_the_recorder_carries_on(app, client):
    from bot.store.db import create_engine, session_factory
    from bot.store.recorder import sqlalchemy_writer

    healthy = app.state.recorder.write
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/unreachable")
    app.state.recorder.write = sqlalchemy_writer(session_factory(unreachable))
    try:
        responses = await asyncio.gather(
            *(post_delivery(client, "issues", load_payload("issues.opened")) for _ in range(5))
        )
    finally:
        app.state.recorder.write = healthy
        await unreachable.dispose()
    assert [r.status_code for r in responses] == [503] * 5
    assert await count_deliveries(app) == 0
    assert (await post_delivery(client, "issues", load_payload("issues.opened"))).status_code == 202
    await app.state.intake.drain()
    assert await count_deliveries(app) == 1


def nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


async def test_body_nested_100000_deep_is_400_and_records_nothing(client, app):
    response = await post_delivery(client, "issues", nested(100_000))
    assert response.status_code == 400
    assert response.json()["error"] == "JSON body is nested more than 64 levels deep"
    assert await count_deliveries(app) == 0


async def test_body_with_an_absurd_number_of_keys_is_400_and_records_nothing(client, app):
    body = ("{" + ",".join(f'"k{i}":0' for i in range(300_000)) + "}").encode()
    response = await post_delivery(client, "issues", body)
    assert response.status_code == 400
    assert response.json()["error"] == "JSON body has more than 200,000 keys"
    assert await count_deliveries(app) == 0


async def test_body_with_an_absurd_number_of_arrays_is_400(client, app):
    body = b'{"a":[' + b",".join([b"[]"] * 150_000) + b"]}"
    response = await post_delivery(client, "issues", body)
    assert response.status_code == 400
    assert response.json()["error"] == "JSON body has more than 100,000 objects and arrays"
    assert await count_deliveries(app) == 0


@pytest.mark.parametrize("depth", [65, 1_000, 1_025, 5_000])
async def test_a_small_body_nested_past_the_limit_is_400_however_deep(client, app, depth):
    response = await post_delivery(client, "issues", nested(depth))
    assert response.status_code == 400
    assert response.json()["error"] == "JSON body is nested more than 64 levels deep"
    assert await count_deliveries(app) == 0


async def test_a_small_body_packed_with_arrays_within_the_limits_is_accepted(client, app):
    app.state.intake.router = Router()
    chains = b",".join([b"[" * 60 + b"]" * 60] * 1_600)  # 96,000 arrays, 60 deep: 193 KB
    response = await post_delivery(client, "issues", b'{"a":[' + chains + b"]}")
    assert response.status_code == 202


async def test_nesting_is_counted_outside_strings_only(client, app):
    app.state.intake.router = Router()
    at_the_limit = await post_delivery(client, "issues", nested(64))
    in_a_string = await post_delivery(client, "issues", {"body": "[" * 5000 + '{"' * 5000, "title": "]}" * 9})
    assert (at_the_limit.status_code, in_a_string.status_code) == (202, 202)
    # Closing brackets inside strings cannot hide the levels opened around them.
    hidden = b'{"a":["' + b"]}" * 100 + b'\\"' + b'",' + b"[" * 70 + b"]" * 70 + b"]}"
    response = await post_delivery(client, "issues", hidden)
    assert response.status_code == 400 and "nested" in response.json()["error"]
    await app.state.intake.drain()
    assert await count_deliveries(app) == 2


def test_every_vendored_payload_passes_the_shape_check_however_encoded():
    from webhooks.intake import json_shape_problem

    for name in fixture_names():
        payload = load_payload(name)
        for body in (json.dumps(payload).encode(), json.dumps(payload, indent=2, ensure_ascii=False).encode(),
                     json.dumps(payload, separators=(",", ":")).encode()):
            assert json_shape_problem(body) is None, name
