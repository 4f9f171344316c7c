"""A lost lease stops the step: two runners never run one session's step at the same time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.agent import AgentResult, Usage
from bot.store import sessions as store
from bot.store.models import utcnow
from bot.engine.runner import Runner
from bot.steps.registry import STEPS
from tests.fakes.agent import ScriptedAgent
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL, BotHarness, commits_on, make_fake, settings_for

LEASE = timedelta(seconds=0.3)


async def wait_for(predicate, timeout=5.0):
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_renewal_failure_cancels_the_step_and_no_second_run_overlaps(settings):
    fake = make_fake()
    events: list[str] = []
    release = asyncio.Event()

    async def slow_first_run(task, workspace):
        events.append("first started")
        workspace.write("widgets/stack.py", "class Stack: ...\n")
        try:
            await release.wait()
        except asyncio.CancelledError:
            events.append("first cancelled")
            raise
        events.append("first finished")  # never: the step was cancelled
        return None

    async def second_run(task, workspace):
        events.append("second started")
        workspace.write("widgets/stack.py", STACK_IMPL)
        return AgentResult(summary="implemented", usage=Usage(10, 10))

    agent = ScriptedAgent(slow_first_run, second_run)
    async with BotHarness(settings_for(fake, settings), fake, agent, lease=LEASE, sweep_every=0) as bot:
        issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
        fake.label_issue(REPO, issue.number, "implement-component", by="maria")
        await fake.deliver_webhooks()
        await bot.app.state.intake.drain()
        await wait_for(lambda: events == ["first started"])
        [session] = await bot.sessions()

        # Another worker took the lease (ours looked expired to it): the next renewal fails.
        await store.update_session(bot.db, session.id, lease_owner="runner-elsewhere:1",
                                   lease_until=utcnow() + LEASE)
        await wait_for(lambda: "first cancelled" in events)
        assert commits_on(fake, "component-bot/1-stack") == []

        other = Runner(bot.db, bot.apps, bot.agent, bot.settings, STEPS, lease=LEASE, retry_delay=lambda attempt: 0.0)
        await asyncio.sleep(LEASE.total_seconds() + 0.05)  # the other worker's lease runs out unrenewed
        await other.wake(session.id)
        await other.drain()
        await bot.settle()
        session = await bot.session()

    assert events == ["first started", "first cancelled", "second started"]
    assert len(commits_on(fake, session.branch)) == 1
    assert len(fake.repo(REPO).pulls) == 1
    assert session.status == "waiting_for_checks", session.status_reason
