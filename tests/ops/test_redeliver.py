"""Recovering from an outage: `component-bot redeliver` asks GitHub to redeliver exactly the
deliveries whose latest attempt in the window failed, once per event, and nothing else."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from bot.ops import redeliver as redeliver_module
from bot.cli.serve import redeliver_when_up, serve
from bot.github.client import GitHubApps
from bot.ops.redeliver import DurationError, needing_redelivery, parse_duration, redeliver_failed
from tests.fakes.agent import ScriptedAgent
from tests.fakes.github import Delivery as FakeDelivery

ATTEMPTS = "/app/hook/deliveries/{}/attempts"


@dataclass
class Seeded:
    now: datetime
    expected: list[FakeDelivery]  # the attempts whose id must be POSTed, one per event


def seed(fake, now: datetime) -> Seeded:
    """GitHub's delivery log around an outage, oldest first (ids grow with time, as GitHub's do)."""

    def add(minutes_ago: float, status: int, guid: str | None = None, redelivery: bool = False) -> FakeDelivery:
        delivery = FakeDelivery(fake.ids.next("delivery"), guid or str(uuid.uuid4()), "issues", "labeled",
                                {"action": "labeled"}, 42, 700001, now - timedelta(minutes=minutes_ago),
                                status_code=status, redelivery=redelivery)
        fake.deliveries.append(delivery)
        return delivery

    add(300, 500)                                     # failed, long before the window
    for minutes in (250, 240, 230, 220, 210):
        add(minutes, 200)
    add(61, 502)                                      # failed, just outside the window
    straddling = str(uuid.uuid4())
    add(70, 500, straddling)                          # failed outside the window…
    still_failing = add(30, 503, straddling, True)    # …and its redelivery failed inside it
    add(50, 200)
    recovered = str(uuid.uuid4())
    add(45, 502, recovered)                           # failed, then redelivered fine: leave it
    add(40, 200, recovered, True)
    twice = str(uuid.uuid4())
    add(35, 500, twice)                               # failed twice: redeliver once, the latest attempt
    twice_latest = add(20, 0, twice, True)
    timed_out = add(10, 504)
    for minutes in range(9, 1, -1):
        add(minutes, 200)
    flaky = str(uuid.uuid4())
    add(1.5, 200, flaky)                              # fine, then a manual redelivery failed
    flaky_latest = add(1, 500, flaky, True)
    return Seeded(now, sorted([still_failing, twice_latest, timed_out, flaky_latest], key=lambda d: d.id))


def posted_attempts(fake) -> list[str]:
    return [c.path for c in fake.calls if c.method == "POST" and c.path.startswith("/app/hook/deliveries/")]


def list_calls(fake) -> list:
    return fake.calls_to("GET", "/app/hook/deliveries")


@pytest.fixture
def apps(bot_settings, fake):
    return GitHubApps(bot_settings, transport=httpx.ASGITransport(app=fake.app))


async def test_redelivers_exactly_the_failed_deliveries_in_the_window(apps, fake, monkeypatch):
    monkeypatch.setattr(redeliver_module, "PAGE_SIZE", 4)  # several pages, followed by cursor
    seeded = seed(fake, fake.clock.now())

    report = await redeliver_failed(apps.app, timedelta(hours=1), now=seeded.now)

    assert posted_attempts(fake) == [ATTEMPTS.format(d.id) for d in seeded.expected]
    assert [d.guid for d in report.redelivered] == [d.guid for d in seeded.expected]
    assert report.errors == []
    in_window = [d for d in fake.deliveries if d.delivered_at >= seeded.now - timedelta(hours=1)]
    assert report.scanned == len(in_window)
    # Pages stop at the first attempt older than the window; the older pages are never read.
    assert len(list_calls(fake)) == len(in_window) // 4 + 1 < len(fake.deliveries) // 4
    assert all(c.query.get("per_page") == "4" for c in list_calls(fake))
    assert [c.query.get("cursor") is None for c in list_calls(fake)][:2] == [True, False]
    # GitHub queued one new attempt per event, with the event's guid.
    assert sorted(d.guid for d in fake.pending_webhooks) == sorted(d.guid for d in seeded.expected)


async def test_dry_run_asks_for_nothing(apps, fake):
    seeded = seed(fake, fake.clock.now())
    report = await redeliver_failed(apps.app, timedelta(hours=1), dry_run=True, now=seeded.now)
    assert [d.id for d in report.failed] == [d.id for d in seeded.expected]
    assert report.redelivered == [] and posted_attempts(fake) == []


async def test_a_refused_redelivery_is_reported_and_the_rest_carry_on(apps, fake):
    seeded = seed(fake, fake.clock.now())
    fake.inject_error("POST", ATTEMPTS.format(seeded.expected[0].id), 422, "Validation Failed")
    report = await redeliver_failed(apps.app, timedelta(hours=1), now=seeded.now)
    assert [(d.id, reason) for d, reason in report.errors] == [(seeded.expected[0].id, "GitHub answered 422")]
    assert [d.id for d in report.redelivered] == [d.id for d in seeded.expected[1:]]


def test_grouping_by_guid_keeps_the_latest_attempt():
    from bot.ops.redeliver import HookDelivery

    at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    attempts = [HookDelivery(3, "a", at + timedelta(seconds=3), 200, "issues"),
                HookDelivery(2, "a", at + timedelta(seconds=2), 500, "issues"),
                HookDelivery(1, "b", at, 404, "ping")]
    assert [d.id for d in needing_redelivery(attempts)] == [1]


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800),
                                               ("1h30m", 5400), (" 1H ", 3600), ("1w", 604800)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "h", "1x", "1h30", "-1h", "0m", "1.5h"])
def test_bad_durations(text):
    with pytest.raises(DurationError):
        parse_duration(text)


# ----- the command


def test_redeliver_command(cli, fake):
    fake.clock.current = datetime.now(UTC)  # the command looks back from the real clock
    seeded = seed(fake, fake.clock.now())

    dry = cli("redeliver", "--since", "1h", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"would redeliver {len(seeded.expected)} failed" in dry.out
    assert all(d.guid in dry.out for d in seeded.expected)
    assert posted_attempts(fake) == []

    done = cli("redeliver", "--since", "1h", "--json")
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert report["redelivered"] == [d.guid for d in seeded.expected] and not report["dry_run"]
    assert posted_attempts(fake) == [ATTEMPTS.format(d.id) for d in seeded.expected]

    async def accept(event, payload):  # the bot is back: the redeliveries land
        return 202

    fake.webhook_sink = accept
    asyncio.run(fake.deliver_webhooks())
    again = cli("redeliver", "--since", "1h")
    assert again.code == 0 and again.out.startswith("nothing to redeliver")
    assert len(posted_attempts(fake)) == len(seeded.expected)


def test_redeliver_command_errors_are_one_line(cli, fake):
    too_far = cli("redeliver", "--since", "4d")
    assert too_far.code == 2 and too_far.err.count("\n") == 1 and "3 days" in too_far.err
    bad = cli("redeliver", "--since", "soon")
    assert bad.code == 2 and bad.err.count("\n") == 1 and "invalid duration 'soon'" in bad.err
    fake.inject_error("GET", "/app/hook/deliveries", 401, "Bad credentials")
    refused = cli("redeliver")
    assert refused.code == 1 and "Traceback" not in refused.err
    assert refused.last_error_line == "component-bot: GitHub answered 401 to GET /app/hook/deliveries"


async def test_serve_redelivers_once_it_is_up(bot_settings, fake):
    from webhooks.app import create_app

    fake.clock.current = datetime.now(UTC)
    seeded = seed(fake, fake.clock.now())
    app = create_app(bot_settings, github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on"))
    serving = asyncio.create_task(serve(server, app, timedelta(hours=1)))
    for _ in range(1000):
        if len(posted_attempts(fake)) == len(seeded.expected) or serving.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "redelivery starts only once the server is up"
    server.should_exit = True
    await asyncio.wait_for(serving, 20)
    assert posted_attempts(fake) == [ATTEMPTS.format(d.id) for d in seeded.expected]
    assert len(list_calls(fake)) == 1


async def test_serve_waits_for_startup_before_redelivering(bot_settings, fake):
    class NotUpYet:
        started, should_exit = False, False

    server = NotUpYet()
    waiting = asyncio.create_task(redeliver_when_up(server, object(), timedelta(hours=1), poll=0.01))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    server.should_exit = True  # it never came up: nothing is asked of GitHub
    assert await asyncio.wait_for(waiting, 5) is None
    assert posted_attempts(fake) == []
