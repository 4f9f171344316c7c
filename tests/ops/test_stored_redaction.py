"""What the database keeps of a session is redacted with the logs' own function (bot/logs.py):
interactions as they are appended, transcripts before they are compressed."""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.engine import work
from bot.telemetry import logs
from bot.store.db import create_engine, session_factory
from bot.telemetry.logs import REDACTED, redact_data, register_secret
from bot.store import sessions as store
from bot.store.models import Interaction
from bot.store.sessions import Scope

TOKEN = "ghs_" + "T0k3n" * 8
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MjQyIn0." + "s1gnature-_" * 30


def fresh_secret(shape: str) -> str:
    """A registered secret of this shape, unique to the test (registration is process-wide)."""
    secret = f"{shape}-{uuid.uuid4().hex}"
    register_secret(secret)
    return secret


def spellings(secret: str) -> list[str]:
    return [secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]]


@pytest.fixture
async def db(settings) -> AsyncIterator:
    engine = create_engine(settings.database_url)
    yield session_factory(engine)
    await engine.dispose()


def test_redact_data_reaches_every_string_at_any_depth():
    secret = fresh_secret('pass"word')
    data = {"checks": [{"name": "ci", "log": f"export TOKEN={TOKEN}"}, ("tuple", secret)],
            secret: {"deeper": [[f"Bearer {JWT}"]]}, "count": 3, "ok": True, "none": None}
    assert redact_data(data) == {
        "checks": [{"name": "ci", "log": f"export TOKEN={REDACTED}"}, ("tuple", REDACTED)],
        REDACTED: {"deeper": [[f"Bearer {REDACTED}"]]}, "count": 3, "ok": True, "none": None}
    assert redact_data(f"a {secret} b") == logs.redact(f"a {secret} b") == f"a {REDACTED} b"


async def test_interactions_are_stored_redacted(db):
    quoted, backslashed = fresh_secret('api"key'), fresh_secret("C:\\\\secrets")
    session = await store.create_session(db, Scope(42, 7, "octo/widgets"), 1, trigger="label", triggered_by="maria")
    await store.append_interaction(
        db, session.id, "RunTests", "failed",
        input={"head_sha": "abc", "report": {"lines": [f"echo {quoted}", f"curl -H 'Bearer {JWT}'"]}},
        result={"failing_tests": [{"name": "t", "message": f"{backslashed} leaked; token {TOKEN}"}],
                "reply": json.dumps({"said": quoted})},
        error=f"CI printed {quoted} and {TOKEN}",
    )

    async with db() as s:
        stored = await s.scalar(select(Interaction).where(Interaction.session_id == session.id))
    text = json.dumps([stored.input, stored.result, stored.error], ensure_ascii=False)
    for secret in (quoted, backslashed):
        for spelling in spellings(secret):
            assert spelling not in text
    assert TOKEN not in text and JWT not in text
    assert stored.input["report"]["lines"] == [f"echo {REDACTED}", f"curl -H 'Bearer {REDACTED}'"]
    assert stored.error == f"CI printed {REDACTED} and {REDACTED}"
    assert stored.input["head_sha"] == "abc" and stored.result["failing_tests"][0]["name"] == "t"


def test_transcripts_are_redacted_with_the_same_function_even_once_json_encoded():
    assert work.redact_data is logs.redact_data
    quoted = fresh_secret('tool said "hello')
    blob = work.compress_transcript([{"role": "user", "content": f"use {quoted} and {TOKEN}"}])
    text = zlib.decompress(blob).decode()
    for spelling in spellings(quoted):
        assert spelling not in text
    assert TOKEN not in text and json.loads(text) == [{"role": "user", "content": f"use {REDACTED} and {REDACTED}"}]
