"""Webhook payloads in GitHub's shape, and signed deliveries.

Payloads start from the real examples vendored in tests/fixtures/webhooks and have their
objects (issue, pull_request, repository, sender, installation, ...) overwritten with the
fake's state, so every key GitHub sends is there and the values agree with the REST API.
"""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from githubkit.webhooks import sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
USER_AGENT = "GitHub-Hookshot/9b4e5c1"

# For actions with no vendored example, the example of a sibling action is the starting point.
BASE_EXAMPLE = {
    "issues": "issues.opened",
    "issue_comment": "issue_comment.created",
    "pull_request": "pull_request.opened",
    "pull_request_review": "pull_request_review.submitted",
    "pull_request_review_comment": "pull_request_review_comment.created",
    "check_run": "check_run.completed",
    "check_suite": "check_suite.completed",
    "workflow_run": "workflow_run.completed",
    "installation": "installation.created",
    "installation_repositories": "installation_repositories.added",
}
EXAMPLE_OVERRIDES = {
    ("issues", "labeled"): "issues.labeled",
    ("issues", "unlabeled"): "issues.labeled",
    ("pull_request", "closed"): "pull_request.closed",
    ("pull_request", "synchronize"): "pull_request.synchronize",
}


@cache
def _load(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def example(name: str) -> dict[str, Any]:
    """A fresh copy of a vendored example, e.g. ``example("issues.labeled")``."""
    return json.loads(_load(name))


def example_for(event: str, action: str | None) -> dict[str, Any]:
    name = f"{event}.{action}" if action else event
    if (FIXTURES / f"{name}.json").exists():
        return example(name)
    return example(EXAMPLE_OVERRIDES.get((event, action), BASE_EXAMPLE[event]))


def build_payload(
    event: str,
    action: str | None,
    *,
    repository: dict[str, Any],
    sender: dict[str, Any],
    installation_id: int | None,
    organization: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **objects: Any,
) -> dict[str, Any]:
    """Overwrite a vendored example with the fake's objects.

    Keys of the example that the event's new content has no value for (``drop``) are removed,
    as are ``organization`` / ``enterprise`` when the repository is not an organization's.
    """
    payload = example_for(event, action)
    if action is not None:
        payload["action"] = action
    for key in ("changes", "label", "requested_reviewer", "before", "after", "enterprise", *drop):
        payload.pop(key, None)
    payload.update(copy.deepcopy(objects))
    payload["repository"] = repository
    payload["sender"] = sender
    if organization is None:
        payload.pop("organization", None)
    else:
        payload["organization"] = organization
    if installation_id is None:
        payload.pop("installation", None)
    else:
        payload["installation"] = {
            "id": installation_id,
            "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{installation_id}",
        }
    return payload


def signed_delivery(
    event: str,
    payload: dict[str, Any] | bytes,
    secret: str,
    *,
    delivery_id: str | None = None,
    hook_id: int = 1,
    app_id: int | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and raw body of a webhook delivery as GitHub sends it to an app."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": str(hook_id),
        "X-Hub-Signature": sign(secret, body, "sha1"),
        "X-Hub-Signature-256": sign(secret, body, "sha256"),
    }
    if app_id is not None:
        headers["X-GitHub-Hook-Installation-Target-Type"] = "integration"
        headers["X-GitHub-Hook-Installation-Target-ID"] = str(app_id)
    return headers, body
