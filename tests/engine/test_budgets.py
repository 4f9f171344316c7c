"""Budgets, checked before each step: the installation's BOT_MONTHLY_BUDGET_USD and the session's
token_budget. Over one before a step that spends, the session waits for a maintainer, says the
figures, and the model is not called. Steps that spend nothing (RunTests, Finalize) still run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store import sessions as store
from bot.store.models import utcnow
from bot.telemetry import metrics
from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, BotHarness, make_fake, settings_for, status_comments
from tests.webhook_helpers import FIXTURES

RED_LOG = (FIXTURES / "logs" / "actions_job_pytest.log").read_text()


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset


@pytest.fixture
def fake():
    return make_fake()


def our_check_runs(fake):
    return [r for r in fake.repo(REPO).check_runs.values() if r.name == "component-bot"]


async def spent_earlier(bot, usd: float, *, installation_id: int = 42) -> None:
    """An earlier session of the installation (another repository), that spent `usd` this month."""
    earlier = await store.create_session(bot.db, store.Scope(installation_id, 777, "octo/older"), 9,
                                         trigger="label", triggered_by="maria")
    await store.append_interaction(bot.db, earlier.id, "GenerateImplementation", "started")
    await store.append_interaction(bot.db, earlier.id, "GenerateImplementation", "succeeded", cost_usd=usd,
                                   input_tokens=1000)
    await store.update_session(bot.db, earlier.id, cost_usd=usd, input_tokens=1000, status="completed")


async def label(bot, fake):
    issue = await bot.label_stack_issue()
    return issue


async def test_over_budget_before_a_step_needs_a_human_and_no_model_call(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    stops = metrics.METRICS.value("component_bot_budget_stops_total", budget="monthly")
    configured = settings_for(fake, settings).model_copy(update={"bot_monthly_budget_usd": 5.0})
    async with BotHarness(configured, fake, agent) as bot:
        await spent_earlier(bot, 5.25)
        issue = await label(bot, fake)
        session = (await bot.sessions())[-1]
        interactions = await bot.interactions(session.id)

    assert agent.calls == 0, "no model call"
    assert session.status == "needs_human"
    for figure in ("$5.25", "$5.00", "BOT_MONTHLY_BUDGET_USD", f"{utcnow():%Y-%m}", "0 of its 2,000,000 tokens"):
        assert figure in session.status_reason, figure
    assert [(i.step, i.status) for i in interactions] == [("Initialize", "started"), ("Initialize", "failed")]
    failure = interactions[-1].result
    assert failure["kind"] == "needs_human"
    assert failure["budget"]["installation_usd"] == pytest.approx(5.25)
    assert failure["budget"]["monthly_budget_usd"] == 5.0
    assert [b for b in fake.repo(REPO).branches if b.startswith("component-bot/")] == [], "nothing was started"
    [comment] = status_comments(fake, issue.number)
    assert "Needs a maintainer" in comment.body and "$5.25" in comment.body and "$5.00" in comment.body
    assert "✋ | Initialize | needs a maintainer: over budget" in comment.body
    assert metrics.METRICS.value("component_bot_budget_stops_total", budget="monthly") == stops + 1


async def test_another_installations_spend_does_not_count(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    configured = settings_for(fake, settings).model_copy(update={"bot_monthly_budget_usd": 5.0})
    async with BotHarness(configured, fake, agent) as bot:
        await spent_earlier(bot, 50.0, installation_id=43)
        await label(bot, fake)
        session = (await bot.sessions())[-1]
    assert agent.calls == 1 and session.status == "waiting_for_checks", session.status_reason


async def test_a_new_month_lets_the_session_carry_on_after_retry(settings, fake):
    agent, clock = ScriptedAgent({"widgets/stack.py": STACK_IMPL}), Clock()
    configured = settings_for(fake, settings).model_copy(update={"bot_monthly_budget_usd": 5.0})
    async with BotHarness(configured, fake, agent, now=clock) as bot:
        await spent_earlier(bot, 6.0)
        issue = await label(bot, fake)
        assert (await bot.sessions())[-1].status == "needs_human"
        fake.add_issue_comment(REPO, issue.number, "/retry", user="maria")
        await bot.settle()
        assert (await bot.sessions())[-1].status == "needs_human", "still over budget this month"
        assert agent.calls == 0
        clock.offset = timedelta(days=32)
        fake.add_issue_comment(REPO, issue.number, "/retry", user="maria")
        await bot.settle()
        session = (await bot.sessions())[-1]
        steps = [(i.step, i.status) for i in await bot.interactions(session.id)]
    assert agent.calls == 1
    assert ("GenerateImplementation", "succeeded") in steps and session.pr_number is not None


async def test_over_the_token_budget_the_fix_is_held_back_and_the_timeline_says_so(settings, fake):
    fake.push(REPO, "main", {".github/component-bot.yml": "token_budget: 1500\n"}, author="maria")
    agent = ScriptedAgent({"widgets/stack.py": "class Stack:\n    pass\n"})  # 2,000 tokens a call
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        await label(bot, fake)
        session = await bot.session()
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "failure", log=RED_LOG,
                           output={"title": "pytest", "summary": "1 failed"})
        await bot.settle()
        session = await bot.session()
        interactions = await bot.interactions(session.id)

    assert agent.calls == 1, "the fix never called the model"
    assert session.status == "needs_human"
    assert "this session has used 2,000 of its 1,500 tokens" in session.status_reason
    assert "with no monthly budget set" in session.status_reason
    assert "FixTestFailures" in session.status_reason
    assert [(i.step, i.status) for i in interactions][-2:] == [("FixTestFailures", "started"),
                                                               ("FixTestFailures", "failed")]
    [comment] = status_comments(fake, session.issue_number)
    assert "| ❌ | RunTests | tests failed: tests/test_stack.py::test_push_then_pop_returns_last_item, " in comment.body
    assert "and 4 more ([test](https://github.com/octo/widgets/runs/" in comment.body
    assert "✋ | FixTestFailures | needs a maintainer: over budget" in comment.body
    [run] = [r for r in our_check_runs(fake) if r.head_sha == session.head_sha]
    summary = run.output["summary"]
    assert "Needs a maintainer" in summary and "2,000 of its 1,500 tokens" in summary
    assert "| ❌ | tests failed: tests/test_stack.py::test_push_then_pop_returns_last_item, " in summary
    assert "| ✋ | needs a maintainer: over budget" in summary
    assert summary.count("| RunTests |") == 2, "one row per attempt: waiting for the checks, then tests failed"


async def test_over_the_token_budget_green_checks_still_make_the_pr_ready(settings, fake):
    fake.push(REPO, "main", {".github/component-bot.yml": "token_budget: 1500\n"}, author="maria")
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        await label(bot, fake)
        session = await bot.session()
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "success",
                           output={"title": "pytest", "summary": "all passed"})
        await bot.settle()
        session = await bot.session()
    assert session.status == "awaiting_review", "RunTests and Finalize spend nothing: no budget holds them back"
    assert agent.calls == 1
