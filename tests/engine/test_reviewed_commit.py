"""Merge only the reviewed commit: an approval or a `/merge` counts for the head it was given at."""

from __future__ import annotations

import pytest

from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, BotHarness, comments_on, make_fake, settings_for
from tests.engine.test_conversation import RED_LOG, FIXED, ci, pull, start, use_config


@pytest.fixture
def fake():
    return make_fake()


def red_then_green_agent():
    return ScriptedAgent({"widgets/stack.py": STACK_IMPL}, {"widgets/stack.py": FIXED})


async def test_an_approval_of_an_earlier_commit_does_not_merge_a_later_one(settings, fake):
    use_config(fake, "merge: on_approval\n")
    fake.set_permission(REPO, "sam", "maintain")
    async with BotHarness(settings_for(fake, settings), fake, red_then_green_agent()) as bot:
        await start(bot, fake)
        first = (await bot.session()).head_sha
        fake.add_review(REPO, pull(fake).number, "maria", "APPROVED")  # approves the failing commit A
        await bot.settle()
        await ci(bot, fake, "failure", RED_LOG)
        session = await ci(bot, fake, "success")
        second = session.head_sha
        assert second != first
        assert session.status == "awaiting_review"
        assert not pull(fake).merged
        fake.add_review(REPO, pull(fake).number, "sam", "APPROVED")  # approves B
        await bot.settle()
        session = await bot.session()
    assert pull(fake).merged
    assert pull(fake).merge_commit_sha and fake.repo(REPO).git.commits[pull(fake).merge_commit_sha]
    assert session.status == "completed"
    [merge] = [c for c in fake.calls if c.method == "PUT" and c.path.endswith("/merge")]
    assert merge.json["sha"] == second


async def test_a_merge_command_given_before_a_fix_asks_again_once(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, red_then_green_agent()) as bot:
        await start(bot, fake)
        first = (await bot.session()).head_sha
        fake.add_pr_comment(REPO, pull(fake).number, "/merge", user="maria")  # at the failing commit A
        await bot.settle()
        await ci(bot, fake, "failure", RED_LOG)
        session = await ci(bot, fake, "success")
        await bot.settle()
        session = await bot.session()
        assert not pull(fake).merged
        asks = [c for c in comments_on(fake, pull(fake).number) if "/merge" in c.body and first[:7] in c.body]
        assert len(asks) == 1 and session.head_sha[:7] in asks[0].body
        assert session.status == "awaiting_review"
        fake.add_pr_comment(REPO, pull(fake).number, "/merge", user="maria")  # confirmed at B
        await bot.settle()
    assert pull(fake).merged
    assert not [c for c in fake.calls if c.method == "PUT" and c.path.endswith("/merge")
                and c.json.get("sha") == first]


async def test_an_approver_who_left_is_not_a_writer(settings, fake):
    use_config(fake, "merge: on_approval\n")
    fake.set_permission(REPO, "ex", "write")
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        await start(bot, fake)
        await ci(bot, fake, "success")
        fake.add_review(REPO, pull(fake).number, "ex", "APPROVED")
        del fake.users["ex"]  # left the organization: GitHub answers 404 for their permission
        await bot.settle()
        fake.add_review(REPO, pull(fake).number, "maria", "APPROVED")
        await bot.settle()
        session = await bot.session()
    assert pull(fake).merged
    assert session.status == "completed"


async def test_a_green_pull_request_says_the_spec_is_unchanged_with_its_blobs(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        await start(bot, fake)
        session = await ci(bot, fake, "success")
    git = fake.repo(REPO).git
    tree = git.flatten(git.commits[session.head_sha].tree)
    expected = (f"Spec unchanged: `tests/test_stack.py` (blob {tree['tests/test_stack.py'].sha[:7]}), "
                f"`docs/stack.md` (blob {tree['docs/stack.md'].sha[:7]})")
    assert expected in pull(fake).issue.body
    [run] = [r for r in fake.repo(REPO).check_runs.values() if r.name == "component-bot"
             and r.head_sha == session.head_sha]
    assert expected in run.output["summary"]


async def test_a_spec_changed_on_the_branch_is_said_with_who_and_where(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        await start(bot, fake)
        session = await bot.session()
        pushed = fake.push(REPO, session.branch, {"tests/test_stack.py": "def test_nothing():\n    pass\n"},
                           author="maria")
        await bot.settle()
        await ci(bot, fake, "success")
    body = pull(fake).issue.body
    assert f"`tests/test_stack.py` changed by @maria in {pushed[:7]}" in body
    assert "`docs/stack.md` unchanged" in body
