"""Signing and posting deliveries the way GitHub's Hookshot does."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from githubkit.webhooks import sign

WEBHOOK_SECRET = "test-webhook-secret-7c1e5a"
FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_PATH = "/api/github/webhooks"


def load_payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "webhooks" / f"{name}.json").read_text())


def fixture_names() -> list[str]:
    return sorted(p.stem for p in (FIXTURES / "webhooks").glob("*.json"))


def event_of(fixture_name: str) -> str:
    return fixture_name.split(".")[0]


def delivery_headers(event: str, body: bytes, delivery_id: str | None = None,
                     secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "123456",
        "X-Hub-Signature-256": sign(secret, body, "sha256"),
        "User-Agent": "GitHub-Hookshot/0ea2c1c",
        "Content-Type": "application/json",
    }


async def post_delivery(client: httpx.AsyncClient, event: str, payload: dict[str, Any] | bytes,
                        delivery_id: str | None = None, **header_overrides: str) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = delivery_headers(event, body, delivery_id)
    headers.update(header_overrides)
    return await client.post(WEBHOOK_PATH, content=body, headers=headers)
