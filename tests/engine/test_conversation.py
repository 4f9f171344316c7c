"""Finalize, conversation, reviews and merging, on the fake GitHub with a scripted agent."""

from __future__ import annotations

import pytest

from tests.fakes.agent import ScriptedAgent, answer, raising
from tests.harness import (
    REPO,
    STACK_IMPL,
    BotHarness,
    comments_on,
    commits_on,
    make_fake,
    reactions_on,
    settings_for,
    status_comments,
)
from tests.webhook_helpers import FIXTURES

RED_LOG = (FIXTURES / "logs" / "actions_job_pytest.log").read_text()
FIXED = STACK_IMPL + "\n    def peek(self):\n        return self._items[-1]\n"


@pytest.fixture
def fake():
    return make_fake()


def use_config(fake, text):
    fake.push(REPO, "main", {".github/component-bot.yml": text}, author="maria")


async def start(bot, fake):
    issue = await bot.label_stack_issue()
    return issue


async def ci(bot, fake, conclusion, log=""):
    session = await bot.session()
    fake.add_check_run(REPO, session.head_sha, "test", "completed", conclusion, log=log,
                       output={"title": "pytest", "summary": conclusion})
    await bot.settle()
    return await bot.session()


async def green(bot, fake):
    await start(bot, fake)
    return await ci(bot, fake, "success")


def pull(fake):
    [pr] = fake.repo(REPO).pulls.values()
    return pr


def bot_check_runs(fake):
    return [r for r in fake.repo(REPO).check_runs.values() if r.name == "component-bot"]


async def test_full_loop_from_label_to_merged(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, {"widgets/stack.py": FIXED})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        issue = await start(bot, fake)
        assert pull(fake).draft
        await ci(bot, fake, "failure", RED_LOG)
        session = await ci(bot, fake, "success")
        assert session.status == "awaiting_review"
        pr = pull(fake)
        assert not pr.draft
        body = pr.issue.body
        assert "widgets/stack.py" in body and "docs/stack.md" in body and "tests/test_stack.py" in body
        assert "fix iterations: 1" in body and "estimated cost" in body and f"Closes #{issue.number}" in body
        assert len(commits_on(fake, session.branch)) == 2
        command = fake.add_pr_comment(REPO, pr.number, "/merge", user="maria")
        await bot.settle()
        session = await bot.session()
        assert reactions_on(fake, "issue_comment", command.id) == ["eyes"]
    assert pull(fake).merged
    assert session.status == "completed"
    labels = fake.repo(REPO).issues[issue.number].labels
    assert "component:implemented" in labels and "component:ready" not in labels
    assert len(status_comments(fake, issue.number)) == 1
    assert all(r.status == "completed" for r in bot_check_runs(fake))


@pytest.mark.parametrize("policy", ["auto", "on_approval"])
async def test_merge_policies(settings, fake, policy):
    use_config(fake, f"merge: {policy}\n")
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        session = await green(bot, fake)
        if policy == "on_approval":
            assert session.status == "awaiting_review" and not pull(fake).merged
            fake.add_review(REPO, pull(fake).number, "rick", "APPROVED")  # a reader's approval does not count
            await bot.settle()
            assert not pull(fake).merged
            fake.add_review(REPO, pull(fake).number, "maria", "APPROVED")
            await bot.settle()
        session = await bot.session()
    assert pull(fake).merged
    assert session.status == "completed"


async def test_a_merge_refused_by_branch_protection_is_reported_once(settings, fake):
    use_config(fake, "merge: auto\n")
    fake.protect(REPO, "main", required_checks=("test",), required_approving_reviews=1)
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        await green(bot, fake)
        fake.add_pr_comment(REPO, pull(fake).number, "/merge", user="maria")
        await bot.settle()
        session = await bot.session()
    assert not pull(fake).merged
    assert session.status == "awaiting_review"
    refusals = [c for c in comments_on(fake, pull(fake).number) if "I did not merge" in c.body]
    assert len(refusals) == 1


async def test_a_head_that_moved_since_the_checks_is_not_merged(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        session = await green(bot, fake)
        fake.webhook_sink = None  # the push's webhook arrives late
        fake.push(REPO, session.branch, {"widgets/extra.py": "X = 1\n"}, author="maria")
        fake.webhook_sink = bot.deliver
        fake.pending_webhooks.clear()
        fake.add_pr_comment(REPO, pull(fake).number, "/merge", user="maria")
        await bot.settle()
    assert not pull(fake).merged
    assert any("I did not merge" in c.body for c in comments_on(fake, pull(fake).number))


async def test_a_question_gets_an_answer_and_no_commit(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, answer("pop raises IndexError on an empty stack."))
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        session = await green(bot, fake)
        question = fake.add_pr_comment(REPO, pull(fake).number, "@component-bot-test why IndexError?", user="maria")
        await bot.settle()
        after = await bot.session()
    assert reactions_on(fake, "issue_comment", question.id) == ["eyes"]
    assert after.head_sha == session.head_sha
    assert len(commits_on(fake, session.branch)) == 1
    replies = [c for c in comments_on(fake, pull(fake).number) if c.user.login == fake.bot.login
               and "pop raises IndexError" in c.body]
    assert len(replies) == 1 and "@maria" in replies[0].body
    assert after.status == "awaiting_review"
    assert agent.tasks[-1].kind == "revise"
    assert agent.tasks[-1].conversation[0]["body"] == "@component-bot-test why IndexError?"


async def test_an_instruction_gets_a_commit_and_a_reply_then_the_tests_again(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, {"widgets/stack.py": FIXED})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        await green(bot, fake)
        fake.add_pr_comment(REPO, pull(fake).number, "@component-bot-test please add peek()", user="maria")
        await bot.settle()
        session = await bot.session()
        assert session.status == "waiting_for_checks"
        assert len(commits_on(fake, session.branch)) == 2
        [reply] = [c for c in comments_on(fake, pull(fake).number) if "Changed in" in c.body]
        assert session.head_sha in reply.body
        session = await ci(bot, fake, "success")
        assert session.status == "awaiting_review"


async def test_comments_during_a_running_step_are_handled_together(settings, fake):
    harness = []

    async def fix_while_people_talk(task, workspace):
        for n in range(3):
            fake.add_pr_comment(REPO, pull(fake).number, f"@component-bot-test note {n}", user="maria")
        await fake.deliver_webhooks()
        await harness[0].app.state.intake.drain()  # all three are recorded before this step ends
        workspace.write("widgets/stack.py", FIXED)

    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, fix_while_people_talk, {"widgets/stack.py": FIXED + "#\n"})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        harness.append(bot)
        await start(bot, fake)
        await ci(bot, fake, "failure", RED_LOG)
        session = await bot.session()
        revises = [i for i in await bot.interactions(session.id) if i.step == "Revise" and i.status == "succeeded"]
    assert len(revises) == 1
    assert len(revises[0].result["answered"]) == 3
    [revise_task] = [t for t in agent.tasks if t.kind == "revise"]
    assert [c["body"] for c in revise_task.conversation if c.get("kind") == "comment"] == [
        "@component-bot-test note 0", "@component-bot-test note 1", "@component-bot-test note 2"]


async def test_changes_requested_with_two_line_comments(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, {"widgets/stack.py": FIXED})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        session = await green(bot, fake)
        fake.add_review(REPO, pull(fake).number, "maria", "CHANGES_REQUESTED", "Needs peek", comments=[
            {"path": "widgets/stack.py", "line": 1, "body": "add peek"},
            {"path": "widgets/stack.py", "line": 3, "body": "docstring please"},
        ])
        await bot.settle()
        session = await bot.session()
    assert len(commits_on(fake, session.branch)) == 2
    review_comments = fake.repo(REPO).review_comments[pull(fake).number]
    replies = [c for c in review_comments if c.in_reply_to_id is not None]
    assert sorted(r.in_reply_to_id for r in replies) == sorted(c.id for c in review_comments if c.in_reply_to_id is None)
    assert all(session.head_sha in r.body for r in replies)
    [task] = [t for t in agent.tasks if t.kind == "revise"]
    [review] = [c for c in task.conversation if c.get("kind") == "review"]
    assert {c["body"] for c in review["comments"]} == {"add peek", "docstring please"}
    assert all(c["diff_hunk"] for c in review["comments"])


@pytest.mark.parametrize("who", ["rick", "renovate[bot]", "bot-itself"])
async def test_commands_from_readers_bots_and_the_app_do_nothing(settings, fake, who):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        session = await green(bot, fake)
        before = len(await bot.interactions(session.id))
        login = fake.bot.login if who == "bot-itself" else who
        comments = [fake.add_pr_comment(REPO, pull(fake).number, text, user=login)
                    for text in ("/merge", "/stop", "@component-bot-test rewrite it all")]
        await bot.settle()
        assert len(await bot.interactions(session.id)) == before
    assert not pull(fake).merged
    assert all(reactions_on(fake, "issue_comment", c.id) == [] for c in comments)


async def test_a_human_push_is_never_overwritten_and_is_tested(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, {"widgets/stack.py": FIXED})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        session = await start(bot, fake) and await bot.session()
        human = fake.push(REPO, session.branch, {"widgets/human.py": "HUMAN = True\n"}, author="maria")
        await bot.settle()
        session = await bot.session()
        assert session.head_sha == human
        await ci(bot, fake, "failure", RED_LOG)
        session = await bot.session()
    files = fake.tree_files(REPO, session.branch)
    assert files["widgets/human.py"] == "HUMAN = True\n"
    assert files["widgets/stack.py"] == FIXED
    assert list(fake.repo(REPO).git.commits[session.head_sha].parents) == [human]


async def test_stop_cancels_and_completes_the_check_run(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        issue = await start(bot, fake)
        assert [r.status for r in bot_check_runs(fake)] == ["in_progress"]
        fake.add_issue_comment(REPO, issue.number, "/stop", user="maria")
        await bot.settle()
        session = await bot.session()
    assert session.status == "cancelled"
    assert [(r.status, r.conclusion) for r in bot_check_runs(fake)] == [("completed", "neutral")]
    assert len(status_comments(fake, issue.number)) == 1
    assert "Stopped" in status_comments(fake, issue.number)[0].body


async def test_a_failed_session_completes_its_check_run_as_failure(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, raising(RuntimeError("the model went away")))
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        await start(bot, fake)
        session = await ci(bot, fake, "failure", RED_LOG)
    assert session.status == "failed"
    assert "FixTestFailures failed 3 times" in session.status_reason
    assert [(r.status, r.conclusion) for r in bot_check_runs(fake)] == [("completed", "failure")]


async def test_closing_the_pull_request_cancels_the_session(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        session = await green(bot, fake)
        state = fake.repo(REPO)
        fake.set_issue_state(state, state.issues[pull(fake).number], "closed", None, fake.user("maria"))
        await bot.settle()
        session = await bot.session()
    assert session.status == "cancelled"


async def test_an_ended_session_takes_no_instructions(settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        await green(bot, fake)
        fake.add_pr_comment(REPO, pull(fake).number, "/merge", user="maria")
        await bot.settle()
        session = await bot.session()
        assert session.status == "completed"
        before = len(await bot.interactions(session.id))
        late = fake.add_pr_comment(REPO, pull(fake).number, "@component-bot-test one more thing", user="maria")
        await bot.settle()
        assert len(await bot.interactions(session.id)) == before
    assert reactions_on(fake, "issue_comment", late.id) == []
    assert agent.calls == 1
