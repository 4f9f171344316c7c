"""Crashes, restarts and retries never duplicate a commit, a comment or a pull request."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest

from bot.core.orchestrator import Step
from bot.engine.runner import holder_alive, holder_name
from bot.steps.registry import STEPS
from bot.store import sessions as store
from bot.store.models import utcnow
from tests.fakes.agent import ScriptedAgent
from tests.harness import (
    ISSUE_BODY,
    REPO,
    STACK_IMPL,
    BotHarness,
    commit_writes,
    commits_on,
    make_fake,
    settings_for,
    status_comments,
)


class ProcessDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing in the bot catches it."""


def crash_once(step: Step, *, after_effects: bool):
    """The real steps, except that `step` dies once, before or after doing its work."""
    steps = dict(STEPS)
    real = steps[step]
    crashed = []

    async def dying(ctx):
        if not crashed and not after_effects:
            crashed.append(True)
            raise ProcessDied
        outcome = await real(ctx)
        if not crashed:
            crashed.append(True)
            raise ProcessDied
        return outcome

    steps[step] = dying
    return steps


@pytest.mark.parametrize("after_effects", [False, True], ids=["before-effects", "after-effects"])
@pytest.mark.parametrize("step", [Step.Initialize, Step.GenerateImplementation, Step.RunTests])
async def test_a_restarted_app_finishes_the_session_without_duplicates(settings, step, after_effects):
    fake = make_fake()
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    settings = settings_for(fake, settings)
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")

    async with BotHarness(settings, fake, agent, steps=crash_once(step, after_effects=after_effects)) as bot:
        fake.label_issue(REPO, issue.number, "implement-component", by="maria")
        await bot.settle()
        [session] = await bot.sessions()
        interactions = await bot.interactions(session.id)
        assert interactions[-1].step == step.value and interactions[-1].status == "started"

    async with BotHarness(settings, fake, agent) as restarted:
        await restarted.settle()
        session = await restarted.session()
        assert session.status == "waiting_for_checks", session.status_reason

    assert len(commits_on(fake, session.branch)) == 1
    assert commit_writes(fake) == 1
    assert len(fake.repo(REPO).pulls) == 1
    assert len(status_comments(fake, issue.number)) == 1
    assert agent.calls == 1, "a commit already made is found by its trailer, not made again"


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset


async def test_a_pull_request_call_that_meets_an_outage_resumes_without_a_second_commit(settings):
    fake = make_fake()
    clock = Clock()
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    fake.inject_field_error("createPullRequest")  # in the commit's request; then REST opens it
    fake.inject_error("POST", f"/repos/{REPO}/pulls", 502, times=1)
    async with BotHarness(settings_for(fake, settings), fake, agent, now=clock) as bot:
        await bot.label_stack_issue()
        session = await bot.session()
        assert session.status == "paused"
        assert "GitHub answering 502" in session.status_reason
        clock.offset += timedelta(seconds=31)
        assert await bot.runner.sweep() == 1
        await bot.settle()
        session = await bot.session()
        outcomes = [(i.step, i.status) for i in await bot.interactions(session.id)]
    assert ("GenerateImplementation", "failed") in outcomes
    assert session.status == "waiting_for_checks"
    assert agent.calls == 1
    assert len(commits_on(fake, session.branch)) == 1
    assert len(fake.repo(REPO).pulls) == 1


async def test_an_outage_never_fails_the_session(settings):
    fake = make_fake()
    fake.inject_field_error("createPullRequest")
    fake.inject_error("POST", f"/repos/{REPO}/pulls", 502, times=10)
    clock = Clock()
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL}),
                          now=clock) as bot:
        issue = await bot.label_stack_issue()
        for _ in range(5):
            clock.offset += timedelta(minutes=16)
            await bot.runner.sweep()
            await bot.settle()
            assert (await bot.session()).status == "paused"
        clock.offset += timedelta(hours=6)
        await bot.runner.sweep()
        await bot.settle()
        session = await bot.session()
    assert session.status == "needs_human"
    assert "unavailable since" in session.status_reason and "/retry" in session.status_reason
    [comment] = status_comments(fake, issue.number)
    assert "Needs a maintainer" in comment.body


async def test_a_step_failing_every_time_fails_the_session_with_one_status_comment(settings):
    fake = make_fake()
    fake.inject_field_error("createPullRequest")
    fake.inject_error("POST", f"/repos/{REPO}/pulls", 422, "Validation Failed", times=10)
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        issue = await bot.label_stack_issue()
        session = await bot.session()
    assert session.status == "failed"
    assert "GenerateImplementation failed 3 times" in session.status_reason
    assert "422" in session.status_reason
    [comment] = status_comments(fake, issue.number)
    assert "Failed" in comment.body and "/retry" in comment.body


def a_dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


@pytest.mark.parametrize("predecessor", ["a dead pid", "our pid: a restarted container"])
async def test_a_restart_takes_over_at_once_the_lease_a_dead_process_of_this_host_held(settings, predecessor):
    """In a container, `serve` is pid 1 and `docker restart` keeps the host name: the restarted
    process has the host and the pid of the one that held the lease, not its incarnation."""
    fake = make_fake()
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    settings = settings_for(fake, settings)
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    async with BotHarness(settings, fake, agent, steps=crash_once(Step.GenerateImplementation,
                                                                  after_effects=False)) as bot:
        fake.label_issue(REPO, issue.number, "implement-component", by="maria")
        await bot.settle()
        session = await bot.session()
    pid = a_dead_pid() if predecessor == "a dead pid" else os.getpid()
    holder = f"{socket.gethostname()}:{pid}:0a1b2c3d:4e5f6a7b:8c9d0e1f"  # killed mid-step: its lease never released
    await store.update_session(bot.db, session.id, lease_owner=holder, lease_until=utcnow() + timedelta(minutes=1))

    async with BotHarness(settings, fake, agent) as restarted:
        async with restarted.db() as s:
            assert (await store.lease_of(s, session.id))[0] != holder, "taken at start, not when it expires"
        await restarted.settle()
        session = await restarted.session()
    assert session.status == "waiting_for_checks"
    assert len(commits_on(fake, session.branch)) == 1


async def test_a_lease_held_by_a_live_process_or_another_host_is_respected(settings):
    assert holder_alive(f"{holder_name()}:0a1b2c3d"), "another runner of this very process"
    assert holder_alive(f"another-host-{uuid.uuid4().hex}:1:0a1b2c3d")
    assert holder_alive("runner-0123456789ab:0a1b2c3d"), "a holder from before hosts were named"


async def test_a_session_runs_on_a_host_whose_name_is_as_long_as_host_names_get(settings, monkeypatch):
    """A lease names its holder's host (up to 64 characters), pid and incarnation, its runner and wake."""
    monkeypatch.setattr(socket, "gethostname", lambda: "component-bot-worker-" + "x" * 43)
    fake = make_fake()
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        await bot.label_stack_issue()
        session = await bot.session()
    assert session.status == "waiting_for_checks", session.status_reason
