"""The default branch moving under a session: the branch is brought up to date through GitHub and
tested again; a conflict in files the agent wrote becomes one resolve commit; one in a locked file
goes to a person; a changed spec is said and used; a lost push is caught before the PR is ready."""

from __future__ import annotations

import pytest

from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, TESTS, BotHarness, make_fake, settings_for, status_comments
from tests.webhook_helpers import FIXTURES

PASSING_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()
RESOLVED = STACK_IMPL + "\n    def peek(self):\n        return self._items[-1]\n"


@pytest.fixture
def fake():
    return make_fake()


async def started(bot, fake):
    issue = await bot.label_stack_issue()
    session = await bot.session()
    assert session.status == "waiting_for_checks", session.status_reason
    return issue, session


async def green(bot, fake):
    session = await bot.session()
    fake.add_check_run(REPO, session.head_sha, "test", "completed", "success", log=PASSING_LOG)
    await bot.settle()
    return await bot.session()


def parents(fake, sha):
    return fake.repo(REPO).git.commits[sha].parents


async def steps_of(bot, session):
    return [(i.step, i.status) for i in await bot.interactions(session.id) if i.status != "started"]


async def test_a_push_to_the_default_branch_while_checks_run_updates_the_branch_and_tests_again(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        _, before = await started(bot, fake)
        main = fake.push(REPO, "main", {"docs/changelog.md": "Unrelated work.\n"}, author="maria")
        await bot.settle()
        session = await bot.session()
        assert session.status == "waiting_for_checks", session.status_reason
        assert parents(fake, session.head_sha) == (before.head_sha, main), "a merge of main into the branch"
        assert session.base_sha == main
        assert fake.tree_files(REPO, session.branch)["docs/changelog.md"] == "Unrelated work.\n"
        assert ("UpdateBranch", "succeeded") in await steps_of(bot, session)
        session = await green(bot, fake)
    assert session.status == "awaiting_review", session.status_reason
    assert not fake.repo(REPO).pulls[session.pr_number].draft


async def test_a_conflict_in_a_file_the_agent_wrote_becomes_one_resolve_commit(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, {"widgets/stack.py": RESOLVED})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        _, before = await started(bot, fake)
        main = fake.push(REPO, "main", {"widgets/stack.py": "class Stack:  # started on main\n    pass\n",
                                        "docs/changelog.md": "Stack begun.\n"}, author="maria")
        await bot.settle()
        session = await bot.session()
        assert session.status == "waiting_for_checks", session.status_reason
        [resolve] = [t for t in agent.tasks if t.kind == "resolve"]
        [conflict] = resolve.conflicts
        assert conflict["path"] == "widgets/stack.py" and conflict["ours"] == STACK_IMPL
        assert conflict["theirs"].startswith("class Stack:  # started on main")
        assert parents(fake, session.head_sha) == (before.head_sha, main)
        files = fake.tree_files(REPO, session.branch)
        assert files["widgets/stack.py"] == RESOLVED and files["docs/changelog.md"] == "Stack begun.\n"
        assert [s for s in await steps_of(bot, session) if s[0] == "ResolveConflicts"] == [
            ("ResolveConflicts", "succeeded")]
    assert len(status_comments(fake, 1)) == 1


async def test_a_conflict_in_the_test_file_waits_for_a_person(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        _, session = await started(bot, fake)
        fake.push(REPO, session.branch, {TESTS: "# a maintainer's edit on the branch\n"}, author="maria")
        await bot.settle()
        fake.push(REPO, "main", {TESTS: "# and another on main\n"}, author="maria")
        await bot.settle()
        session = await bot.session()
    assert session.status == "needs_human"
    assert f"`{TESTS}`" in session.status_reason and "/retry" in session.status_reason


async def test_a_spec_changed_on_the_default_branch_is_said_and_used(settings, fake):
    new_tests = fake.read_file(REPO, "main", TESTS) + "\n\ndef test_len():\n    assert len(Stack()) == 0\n"
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        issue, _ = await started(bot, fake)
        fake.push(REPO, "main", {TESTS: new_tests}, author="maria")
        await bot.settle()
        session = await bot.session()
        [update] = [i.result for i in await bot.interactions(session.id)
                    if i.step == "UpdateBranch" and i.status == "succeeded"]
        assert update["state"] == "merged" and update["spec_changed"] == [TESTS]
        assert update["inputs"]["tests"]["text"] == new_tests
        assert fake.tree_files(REPO, session.branch)[TESTS] == new_tests
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "failure", log="FAILED tests/test_stack.py")
        await bot.settle()
    [fix] = [t for t in agent.tasks if t.kind == "fix"]
    assert fix.tests.text == new_tests, "the fix is given the tests as they are now"
    [comment] = status_comments(fake, issue.number)
    assert TESTS in comment.body


async def test_a_lost_push_is_caught_before_the_pull_request_is_marked_ready(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        _, before = await started(bot, fake)
        sink, fake.webhook_sink = fake.webhook_sink, None
        main = fake.push(REPO, "main", {"docs/changelog.md": "Unheard.\n"}, author="maria")
        fake.pending_webhooks.clear()
        fake.webhook_sink = sink
        session = await green(bot, fake)
        assert session.status == "waiting_for_checks", "tested again on the updated branch first"
        assert parents(fake, session.head_sha) == (before.head_sha, main)
        assert fake.repo(REPO).pulls[session.pr_number].draft
        session = await green(bot, fake)
    assert session.status == "awaiting_review"


async def test_a_branch_under_review_is_left_alone_when_the_spec_did_not_change(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        await started(bot, fake)
        session = await green(bot, fake)
        head = session.head_sha
        fake.push(REPO, "main", {"docs/changelog.md": "Later work.\n"}, author="maria")
        await bot.settle()
        session = await bot.session()
    assert session.status == "awaiting_review" and session.head_sha == head
