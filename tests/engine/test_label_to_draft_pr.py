"""End to end on the fake GitHub: a label (or /implement) → 👀 → status comment → branch →
one commit with the agent's files → a draft PR linked to the issue. Idempotent throughout."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.agent import ScriptedAgent
from tests.harness import (
    ISSUE_BODY,
    REPO,
    STACK_IMPL,
    BotHarness,
    commit_writes,
    commits_on,
    make_fake,
    reactions_on,
    settings_for,
    status_comments,
)

BRANCH = "component-bot/1-stack"


@pytest.fixture
def fake():
    return make_fake()


@pytest.fixture
def agent():
    return ScriptedAgent({"widgets/stack.py": STACK_IMPL, "widgets/__init__.py": "from .stack import Stack\n"})


@pytest.fixture
async def bot(settings, fake, agent):
    async with BotHarness(settings_for(fake, settings), fake, agent) as harness:
        yield harness


def assert_one_of_everything(fake, issue_number: int) -> None:
    repo = fake.repo(REPO)
    assert [b for b in repo.branches if b.startswith("component-bot/")] == [BRANCH]
    assert len(commits_on(fake, BRANCH)) == 1
    assert commit_writes(fake) == 1
    assert len(repo.pulls) == 1
    assert len(status_comments(fake, issue_number)) == 1


async def test_label_opens_a_draft_pr_with_the_agents_commit(bot, fake, agent):
    issue = await bot.label_stack_issue()

    session = await bot.session()
    assert session.status == "waiting_for_checks", session.status_reason
    assert (session.branch, session.component_name) == (BRANCH, "Stack")
    files = fake.tree_files(REPO, BRANCH)
    assert files["widgets/stack.py"] == STACK_IMPL
    assert files["widgets/__init__.py"] == "from .stack import Stack\n"
    [commit_sha] = commits_on(fake, BRANCH)
    assert fake.repo(REPO).git.commits[commit_sha].message.startswith("Implement Stack (#1)")
    assert session.head_sha == commit_sha

    [pull] = fake.repo(REPO).pulls.values()
    assert pull.draft and pull.head_ref == BRANCH and pull.base_ref == "main"
    assert f"Closes #{issue.number}" in pull.issue.body
    assert reactions_on(fake, "issue", issue.number) == ["eyes"]
    assert_one_of_everything(fake, issue.number)
    [task] = agent.tasks
    assert (task.design_path, task.test_path, task.component_name) == ("docs/stack.md", "tests/test_stack.py", "Stack")

    steps = [(i.step, i.status) for i in await bot.interactions(session.id)]
    assert steps == [("Initialize", "started"), ("Initialize", "succeeded"),
                     ("GenerateImplementation", "started"), ("GenerateImplementation", "succeeded"),
                     ("RunTests", "started"), ("RunTests", "succeeded")]


async def test_implement_command_starts_a_session(bot, fake, agent):
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    comment = fake.add_issue_comment(REPO, issue.number, "/implement please", user="maria")
    await bot.settle()
    session = await bot.session()
    assert session.trigger == "command" and session.triggered_by == "maria"
    assert reactions_on(fake, "issue_comment", comment.id) == ["eyes"]
    assert_one_of_everything(fake, issue.number)


async def test_redelivered_webhooks_and_concurrent_wakes_change_nothing(bot, fake, agent):
    issue = await bot.label_stack_issue()
    assert set(await bot.redeliver_all()) == {200}
    session = await bot.session()
    await asyncio.gather(*(bot.runner.wake(session.id) for _ in range(10)))
    await bot.settle()
    assert_one_of_everything(fake, issue.number)
    assert agent.calls == 1
    assert len(await bot.sessions()) == 1
