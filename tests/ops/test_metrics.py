"""`GET /metrics`: Prometheus text that counts what a scripted session really did."""

from __future__ import annotations

import collections
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.telemetry import metrics
from bot.agent import Usage
from bot.handlers.router import Router
from bot.store import sessions as store
from bot.store.models import utcnow
from tests.fakes.agent import ScriptedAgent
from tests.fakes.github import FakeGitHub
from tests.harness import STACK_IMPL, BotHarness
from tests.webhook_helpers import post_delivery

Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


class Delta:
    def __init__(self, before: Samples, after: Samples) -> None:
        self.before, self.after = before, after

    def __call__(self, name: str, **labels: str) -> float:
        return value(self.after, name, **labels) - value(self.before, name, **labels)


async def test_metrics_count_a_scripted_sessions_deliveries_steps_tokens_and_github_calls(bot, fake):
    before = await scrape(bot.http)
    await bot.label_stack_issue()
    after = await scrape(bot.http)
    delta = Delta(before, after)

    recorded = collections.Counter((d.event, d.outcome) for d in await bot.deliveries())
    assert recorded[("issues", "processed")] >= 1
    for (event, outcome), count in recorded.items():
        assert delta("component_bot_webhook_deliveries_total", event=event, outcome=outcome) == count

    for step in ("Initialize", "GenerateImplementation", "RunTests"):
        assert delta("component_bot_step_duration_seconds_count", step=step, outcome="succeeded") == 1
        assert delta("component_bot_step_duration_seconds_sum", step=step, outcome="succeeded") > 0

    usage = bot.agent.usage
    assert delta("component_bot_tokens_total", kind="input") == usage.input_tokens
    assert delta("component_bot_tokens_total", kind="output") == usage.output_tokens
    assert delta("component_bot_tokens_total", kind="cache_write") == usage.cache_write_tokens
    assert delta("component_bot_tokens_total", kind="cache_read") == usage.cache_read_tokens
    assert delta("component_bot_cost_usd_total") == pytest.approx(usage.cost_usd)

    calls = collections.Counter((c.method, f"{c.status // 100}xx") for c in fake.calls)
    assert calls[("POST", "2xx")] > 0
    for (method, status), count in calls.items():
        assert delta("component_bot_github_requests_total", method=method, status=status) == count

    assert value(after, "component_bot_sessions", status="waiting_for_checks") == 1
    assert value(after, "component_bot_sessions", status="failed") == 0


async def test_this_months_spend_per_installation_is_read_at_scrape_time(bot_settings, fake):
    configured = bot_settings.model_copy(update={"bot_monthly_budget_usd": 25.0})
    async with BotHarness(configured, fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        older = await store.create_session(bot.db, store.Scope(43, 4300, "acme/rockets"), 2, trigger="label",
                                           triggered_by="maria")
        await store.append_interaction(bot.db, older.id, "GenerateImplementation", "started")
        await store.append_interaction(bot.db, older.id, "GenerateImplementation", "succeeded", cost_usd=9.0,
                                       created_at=utcnow() - timedelta(days=62))  # another month: not counted
        await store.append_interaction(bot.db, older.id, "FixTestFailures", "started")
        await store.append_interaction(bot.db, older.id, "FixTestFailures", "succeeded", cost_usd=1.5)
        await bot.label_stack_issue()
        samples = await scrape(bot.http)
        session = (await bot.sessions())[-1]

    assert value(samples, "component_bot_spend_this_month_usd", installation="42") == pytest.approx(session.cost_usd)
    assert value(samples, "component_bot_spend_this_month_usd", installation="43") == pytest.approx(1.5)
    assert value(samples, "component_bot_monthly_budget_usd") == 25.0
    assert {labels for name, labels in samples if name == "component_bot_spend_this_month_usd"} == {
        frozenset({("installation", "42")}), frozenset({("installation", "43")})}


async def test_duplicates_and_rejected_deliveries_are_counted(bot, fake):
    await bot.label_stack_issue()
    before = await scrape(bot.http)
    delivered = collections.Counter(event for event, _, _ in bot.sent)
    assert set(await bot.redeliver_all()) == {200}  # the same delivery ids again
    forged = await post_delivery(bot.http, "issues", {"action": "labeled"}, **{"X-Hub-Signature-256": "sha256=00"})
    assert forged.status_code == 401
    delta = Delta(before, await scrape(bot.http))
    for event, count in delivered.items():
        assert delta("component_bot_webhook_deliveries_total", event=event, outcome="duplicate") == count
    assert delta("component_bot_webhook_deliveries_total", event="unknown", outcome="rejected") == 1


async def test_a_failing_handler_counts_as_a_failed_delivery_and_an_error(settings):
    from webhooks.app import create_app

    router = Router()

    @router.on("issues.labeled", repository=False)
    async def explode(ctx):
        raise RuntimeError("boom")

    app = create_app(settings, router=router, agent=ScriptedAgent(), engine="in-process",
                     github_transport=httpx.ASGITransport(app=FakeGitHub().app))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        before = await scrape(client)
        assert (await post_delivery(client, "issues", {"action": "labeled"})).status_code == 202
        await app.state.intake.drain()
        delta = Delta(before, await scrape(client))
    assert delta("component_bot_webhook_deliveries_total", event="issues", outcome="failed") == 1
    assert delta("component_bot_errors_total", component="intake") == 1


async def test_openmetrics_on_request(bot):
    response = await bot.http.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_anthropic_calls_are_counted_from_either_usage_shape():
    registry = metrics.METRICS
    before = registry.value("component_bot_anthropic_tokens_total", model="claude-test", kind="cache_write")
    sdk_usage = SimpleNamespace(input_tokens=10, output_tokens=5, cache_creation_input_tokens=7,
                                cache_read_input_tokens=None)
    metrics.record_anthropic_call("claude-test", "ok", Usage.from_api(sdk_usage))
    metrics.record_anthropic_call("claude-test", "ok", Usage(1, 1, 3, 0))
    metrics.record_anthropic_call("claude-test", "overloaded")
    after = registry.value("component_bot_anthropic_tokens_total", model="claude-test", kind="cache_write")
    assert after == before + 10
    assert registry.value("component_bot_anthropic_requests_total", model="claude-test", outcome="overloaded") >= 1


def test_status_classes():
    assert [metrics.status_class(c) for c in (200, 302, 404, 503, 0)] == ["2xx", "3xx", "4xx", "5xx", "other"]
