"""Recover from an outage: ask GitHub to redeliver the webhooks that failed to reach us.

GitHub never redelivers on its own. Its log of the App's deliveries (`GET /app/hook/deliveries`,
newest first, cursor-paginated, App JWT) has one entry per attempt; attempts of one event share
its `guid` (our `X-GitHub-Delivery`). An event needs redelivering when its latest attempt in the
window failed (status code not 2xx); one `POST /app/hook/deliveries/{id}/attempts` per event.
Redelivering an event we did record is harmless: intake answers 200 to a known delivery id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from githubkit import GitHub
from githubkit.exception import RequestError, RequestFailed, RequestTimeout

from bot.telemetry.metrics import record_redelivery

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_WINDOW = timedelta(days=3)  # "You can redeliver deliveries from the past 3 days"
_NEXT_LINK = re.compile(r'<([^<>]+)>;\s*rel="next"')
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class DurationError(ValueError):
    """A duration the user wrote could not be read; the message is one line."""


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `2d`, `1h30m` → a timedelta (positive)."""
    compact = (text or "").strip().lower().replace(" ", "")
    if not compact or _DURATION.sub("", compact) or not _DURATION.search(compact):
        raise DurationError(f"invalid duration {text!r} (use e.g. 30m, 1h, 2d or 1h30m)")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(compact))
    if seconds <= 0:
        raise DurationError(f"invalid duration {text!r}: must be more than zero")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class HookDelivery:
    """One attempt in GitHub's delivery log."""

    id: int
    guid: str
    delivered_at: datetime
    status_code: int
    event: str
    action: str | None = None
    redelivery: bool = False

    @classmethod
    def from_json(cls, item: dict) -> HookDelivery:
        return cls(id=int(item["id"]), guid=str(item["guid"]), delivered_at=parse_time(item["delivered_at"]),
                   status_code=int(item.get("status_code") or 0), event=str(item.get("event") or ""),
                   action=item.get("action"), redelivery=bool(item.get("redelivery")))

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def key(self) -> str:
        return f"{self.event}.{self.action}" if self.action else self.event


@dataclass
class RedeliveryReport:
    since: datetime
    scanned: int = 0
    failed: list[HookDelivery] = field(default_factory=list)      # latest failed attempt per guid
    redelivered: list[HookDelivery] = field(default_factory=list)
    errors: list[tuple[HookDelivery, str]] = field(default_factory=list)


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def next_cursor(link_header: str | None) -> str | None:
    match = _NEXT_LINK.search(link_header or "")
    if match is None:
        return None
    return (parse_qs(urlsplit(match.group(1)).query).get("cursor") or [None])[0]


async def deliveries_since(app: GitHub, since: datetime) -> AsyncIterator[HookDelivery]:
    """The App's delivery attempts, newest first, until one is older than `since`."""
    cursor: str | None = None
    while True:
        kwargs = {"per_page": PAGE_SIZE} | ({"cursor": cursor} if cursor else {})
        response = await app.rest.apps.async_list_webhook_deliveries(**kwargs)
        for item in response.json():
            delivery = HookDelivery.from_json(item)
            if delivery.delivered_at < since:
                return
            yield delivery
        cursor = next_cursor(response.headers.get("link"))
        if cursor is None:
            return


def needing_redelivery(attempts: list[HookDelivery]) -> list[HookDelivery]:
    """Per guid, its latest attempt when that failed; oldest event first."""
    latest: dict[str, HookDelivery] = {}
    for attempt in attempts:
        current = latest.get(attempt.guid)
        if current is None or (attempt.delivered_at, attempt.id) > (current.delivered_at, current.id):
            latest[attempt.guid] = attempt
    return sorted((d for d in latest.values() if not d.ok), key=lambda d: (d.delivered_at, d.id))


async def redeliver_failed(app: GitHub, window: timedelta, *, dry_run: bool = False,
                           now: datetime | None = None) -> RedeliveryReport:
    """Ask GitHub to redeliver every event whose latest attempt in the last `window` failed."""
    if window > MAX_WINDOW:
        raise DurationError("GitHub redelivers deliveries of the past 3 days only; use --since 3d or less")
    since = (now or datetime.now(timezone.utc)) - window
    attempts = [d async for d in deliveries_since(app, since)]
    report = RedeliveryReport(since=since, scanned=len(attempts), failed=needing_redelivery(attempts))
    if dry_run:
        return report
    for delivery in report.failed:
        await _redeliver_one(app, delivery, report)
    return report


async def _redeliver_one(app: GitHub, delivery: HookDelivery, report: RedeliveryReport) -> None:
    try:
        await app.rest.apps.async_redeliver_webhook_delivery(delivery.id)
    except RequestFailed as exc:
        reason = f"GitHub answered {exc.response.status_code}"
    except RequestTimeout:
        reason = "GitHub did not answer in time"
    except RequestError as exc:
        reason = f"cannot reach GitHub ({type(exc).__name__})"
    else:
        log.info("asked GitHub to redeliver %s (%s, failed with %s)", delivery.guid, delivery.key,
                 delivery.status_code or "no response")
        report.redelivered.append(delivery)
        record_redelivery("requested")
        return
    log.warning("could not redeliver %s (%s): %s", delivery.guid, delivery.key, reason)
    report.errors.append((delivery, reason))
    record_redelivery("failed")
