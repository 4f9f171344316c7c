"""Outages pause a session and it resumes by itself: never `failed` for an outage."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.agent.claude import ClaudeAgent
from bot.store.models import utcnow
from tests.fakes.agent import ScriptedAgent
from tests.fakes.anthropic import FakeAnthropic
from tests.harness import REPO, STACK_IMPL, BotHarness, commits_on, make_fake, settings_for, status_comments


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


async def pass_time(bot, clock, seconds: float) -> None:
    clock.advance(seconds=seconds)
    await bot.runner.sweep()
    await bot.settle()


async def test_anthropic_overloaded_for_a_minute_pauses_then_completes(settings, clock):
    fake = make_fake()
    anthropic = FakeAnthropic()
    anthropic.error(529, times=4)  # two agent runs, each a request and the SDK's one retry
    anthropic.tool_use("str_replace_based_edit_tool",
                       {"command": "create", "path": "widgets/stack.py", "file_text": STACK_IMPL})
    anthropic.reply("Implemented the stack.")
    async with anthropic.client(max_retries=1) as client:
        agent = ClaudeAgent(settings, client=client)
        async with BotHarness(settings_for(fake, settings), fake, agent, now=clock) as bot:
            issue = await bot.label_stack_issue()
            session = await bot.session()
            assert session.status == "paused"
            assert "Anthropic API (overloaded)" in session.status_reason and "UTC" in session.status_reason
            [comment] = status_comments(fake, issue.number)
            assert "Paused" in comment.body and "overloaded" in comment.body

            await pass_time(bot, clock, 31)  # still overloaded: paused again, for longer
            session = await bot.session()
            assert session.status == "paused"
            await pass_time(bot, clock, 30)  # not yet due
            assert anthropic.remaining == 2
            await pass_time(bot, clock, 31)
            session = await bot.session()
    assert session.status == "waiting_for_checks", session.status_reason
    assert len(commits_on(fake, session.branch)) == 1
    anthropic.assert_done()


async def test_a_github_rate_limit_for_ten_minutes_pauses_then_completes(settings, clock):
    fake = make_fake()
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL}),
                          now=clock) as bot:
        await bot.label_stack_issue()
        session = await bot.session()
        fake.rate_limit(time.time() + 600, clock=lambda: clock().timestamp())
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "success", output={"title": "ok",
                                                                                            "summary": "ok"})
        await bot.settle()
        session = await bot.session()
        assert session.status == "paused"
        assert "the GitHub rate limit until" in session.status_reason
        for _ in range(9):
            await pass_time(bot, clock, 60)
            session = await bot.session()
            assert session.status == "paused", session.status_reason
        await pass_time(bot, clock, 90)
        session = await bot.session()
        failures = [i for i in await bot.interactions(session.id) if i.status == "failed"]
    assert session.status == "awaiting_review", session.status_reason
    assert failures and all(i.result["kind"] == "outage" for i in failures)


async def test_a_trigger_that_meets_a_rate_limit_is_processed_once_it_passes(settings, clock):
    fake = make_fake()
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL}),
                          now=clock) as bot:
        fake.rate_limit(time.time() + 120, clock=lambda: clock().timestamp())
        await bot.label_stack_issue()
        assert await bot.sessions() == []
        [delivery] = [d for d in await bot.deliveries() if d.event == "issues" and d.action == "labeled"]
        assert delivery.outcome == "pending"
        clock.advance(seconds=121)
        assert bot.app.state.intake.retry_postponed() == 1
        await bot.settle()
        session = await bot.session()
    assert session.status == "waiting_for_checks"

