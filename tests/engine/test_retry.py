"""`/retry` carries on from where the session stopped; `/retry fresh` starts over from the default
branch on a new branch, closing the old pull request with a pointer to the issue."""

from __future__ import annotations

from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, BotHarness, commits_on, make_fake, settings_for
from tests.webhook_helpers import FIXTURES

RED_LOG = (FIXTURES / "logs" / "actions_job_pytest.log").read_text()
BROKEN = "class Stack:\n    pass\n"


async def stuck_after_fixes(bot, fake):
    """A session whose fixes did not make the tests pass: it waits for a person."""
    issue = await bot.label_stack_issue()
    for _ in range(5):
        session = await bot.session()
        if session.status == "needs_human":
            return issue, session
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "failure", log=RED_LOG)
        await bot.settle()
    raise AssertionError("the session did not stop")


def broken_three_times_then_right() -> ScriptedAgent:
    return ScriptedAgent({"widgets/stack.py": BROKEN}, {"widgets/stack.py": BROKEN + "# 1\n"},
                         {"widgets/stack.py": BROKEN + "# 2\n"}, {"widgets/stack.py": BROKEN + "# 3\n"},
                         {"widgets/stack.py": STACK_IMPL})


async def test_retry_carries_on_on_the_same_branch(settings):
    fake = make_fake()
    agent = broken_three_times_then_right()
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        issue, session = await stuck_after_fixes(bot, fake)
        commits = commits_on(fake, session.branch)
        fake.add_issue_comment(REPO, issue.number, "/retry", user="maria")
        await bot.settle()
        [retried] = await bot.sessions()
    assert retried.id == session.id and retried.branch == session.branch
    assert commits_on(fake, session.branch)[1:] == commits, "one more commit on top of the same branch"
    assert agent.tasks[-1].kind == "fix" and agent.tasks[-1].failure_report, "with the last failure report"


async def test_retry_fresh_starts_over_on_a_new_branch_and_closes_the_old_pull_request(settings):
    fake = make_fake()
    agent = broken_three_times_then_right()
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        issue, old = await stuck_after_fixes(bot, fake)
        fake.add_issue_comment(REPO, issue.number, "/retry fresh", user="maria")
        await bot.settle()
        first, fresh = await bot.sessions()
    assert (first.id, first.status) == (old.id, "cancelled")
    assert fresh.trigger == "fresh" and fresh.status == "waiting_for_checks", fresh.status_reason
    assert fresh.branch != old.branch and fresh.branch.startswith("component-bot/1-stack")
    assert fresh.base_sha == fake.repo(REPO).branches["main"]
    assert agent.tasks[-1].kind == "implement", "from the start, not a fix"
    pulls = fake.repo(REPO).pulls
    assert pulls[old.pr_number].state == "closed" and not pulls[old.pr_number].merged
    assert any("/retry fresh" in c.body for c in fake.repo(REPO).comments[old.pr_number])
    assert pulls[fresh.pr_number].state == "open" and fresh.pr_number != old.pr_number
    assert len(commits_on(fake, fresh.branch)) == 1
