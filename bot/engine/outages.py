"""Outages pause a session; they never fail it.

A rate limit, GitHub answering 5xx or not at all, Anthropic overloaded or rate-limited past the
SDK's own retries: none of these says anything about the step, so the step is not counted as a
failed attempt. The session waits (`paused`), as long as the service asks (`retry-after`,
`x-ratelimit-reset`) or with a growing backoff, and resumes by itself. Only an outage that lasts
longer than `outage_max_wait` hands the session to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)

from bot.core.orchestrator import Step
from bot.core.record import SessionRecord

FIRST_BACKOFF = 30.0
MAX_BACKOFF = 15 * 60.0
MAX_WAIT = 6 * 3600.0  # even a service asking for longer is looked at again after this


class ServiceUnavailable(Exception):
    """A step's work is blocked by a service that is down or limiting us (raised by the agent for Anthropic)."""

    def __init__(self, service: str, what: str, retry_after: float | None = None) -> None:
        super().__init__(f"{service}: {what}")
        self.service, self.what, self.retry_after = service, what, retry_after


@dataclass(frozen=True)
class Outage:
    service: str                    # GitHub | Anthropic
    what: str                       # "the GitHub rate limit", "GitHub answering 502"…
    retry_after: float | None = None


def outage_of(exc: BaseException) -> Outage | None:
    """The outage behind an exception, or None when the error is the step's own."""
    if isinstance(exc, ServiceUnavailable):
        return Outage(exc.service, exc.what, exc.retry_after)
    if isinstance(exc, RateLimitExceeded):
        what = "GitHub's secondary rate limit" if isinstance(exc, SecondaryRateLimitExceeded) else \
            "the GitHub rate limit" if isinstance(exc, PrimaryRateLimitExceeded) else "a GitHub rate limit"
        return Outage("GitHub", what, max(exc.retry_after.total_seconds(), 1.0))
    if isinstance(exc, RequestFailed) and (exc.response.status_code >= 500 or exc.response.status_code == 429):
        return Outage("GitHub", f"GitHub answering {exc.response.status_code}")
    if isinstance(exc, RequestTimeout) or isinstance(exc, httpx.TransportError):
        return Outage("GitHub", "GitHub not answering")
    return None


def wait_for(outage: Outage, outages_in_a_row: int) -> float:
    """Seconds until the next try: what the service asked for, else 30 s, 1 min, 2 min … 15 min."""
    if outage.retry_after is not None:
        return min(outage.retry_after, MAX_WAIT)
    return min(FIRST_BACKOFF * 2 ** max(outages_in_a_row - 1, 0), MAX_BACKOFF)


def waiting_reason(outage: Outage, until: datetime) -> str:
    return f"waiting for {outage.what} until {until:%H:%M} UTC; I carry on by myself then"


def gave_up_reason(outage: Outage, since: datetime, max_wait: timedelta) -> str:
    hours = max_wait.total_seconds() / 3600
    return (f"{outage.service} has been unavailable since {since:%Y-%m-%d %H:%M} UTC ({outage.what}), longer than "
            f"the {hours:g} h I wait (`outage_max_wait`). Comment `/retry` once it is back.")


def outage_wait(record: SessionRecord, result: dict[str, Any], now: datetime) -> tuple[str, str, dict[str, Any]]:
    """(kind, reason, result) of a failed attempt that met an outage: wait it out, counted from the
    first of the outages in a row, or, past `outage_max_wait`, hand the session to a person."""
    outage = Outage(result.get("service", "GitHub"), result.get("what", "an outage"), result.get("retry_after"))
    streak = record.outage_streak()
    since = datetime.fromisoformat(streak[0].result["since"]) if streak else now
    max_wait = timedelta(seconds=record.config.outage_max_wait)
    if now - since >= max_wait:
        return "needs_human", gave_up_reason(outage, since, max_wait), result
    until = now + timedelta(seconds=wait_for(outage, len(streak) + 1))
    return "outage", waiting_reason(outage, until), {**result, "since": since.isoformat(), "until": until.isoformat()}


def outage_result(outage: Outage) -> dict[str, Any]:
    return {"service": outage.service, "what": outage.what, "retry_after": outage.retry_after}


def resume_due(status: str, record: SessionRecord, now: datetime) -> datetime | None:
    """When a paused session's wait ended, if it has and the session was not resumed since."""
    until = record.paused_until()
    if status != "paused" or until is None or until > now or isinstance(record.decide(), Step):
        return None
    return until
