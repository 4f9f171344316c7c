"""The two ways the bot treats GitHub's errors besides failing: "it already exists" (a retried
write finds its own earlier effect) and "best effort" (a write that must never stop a session,
such as a label or the status comment). Also the one description of a GitHub error that is safe
to show: status, method and path, never a token."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable

import httpx
from githubkit.exception import GraphQLFailed, RequestFailed, RequestTimeout

from bot.telemetry.logs import redact

log = logging.getLogger(__name__)

GITHUB_ERRORS = (RequestFailed, RequestTimeout, GraphQLFailed, httpx.HTTPError)


async def unless_exists(write: Awaitable[object], *, statuses: frozenset[int] = frozenset({422})) -> bool:
    """Run `write`; False when GitHub answers that it already exists (422 by default), True when done."""
    try:
        await write
    except RequestFailed as exc:
        if exc.response.status_code in statuses:
            return False
        raise
    return True


@contextlib.asynccontextmanager
async def best_effort(what: str) -> AsyncIterator[None]:
    """`async with best_effort("update the status comment"):` — a GitHub failure is logged, not raised."""
    try:
        yield
    except GITHUB_ERRORS as exc:
        log.warning("could not %s: %s", what, describe(exc))


def describe(exc: BaseException) -> str:
    if isinstance(exc, RequestFailed):
        return redact(f"GitHub answered {exc.response.status_code} to {exc.request.method} {exc.request.url.path}")
    if isinstance(exc, RequestTimeout):
        return f"GitHub did not answer {exc.request.method} {exc.request.url.path} in time"
    if isinstance(exc, GraphQLFailed):
        return redact(f"GitHub GraphQL error: {exc}")[:500]
    if isinstance(exc, httpx.HTTPError):
        return f"network error talking to GitHub: {type(exc).__name__}"
    return redact(f"{type(exc).__name__}: {exc}")[:500]
