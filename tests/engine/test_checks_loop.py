"""RunTests ⇄ FixTestFailures on check runs: red then green, the cap, stalls, stray events,
pre-existing failures and checks that never come. Logs are real pytest output."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.engine.reconcile import Reconciler, due
from bot.store.models import utcnow
from tests.fakes.agent import ScriptedAgent
from tests.harness import (
    REPO,
    STACK_IMPL,
    BotHarness,
    comments_on,
    commits_on,
    make_fake,
    settings_for,
)
from tests.webhook_helpers import FIXTURES

RED_LOG = (FIXTURES / "logs" / "actions_job_pytest.log").read_text()
OTHER_RED_LOG = (FIXTURES / "logs" / "pytest_short_summary.log").read_text()
PASSING_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()
FAILING_TEST = "tests/test_stack.py::test_pop_empty_raises_index_error"


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset


@pytest.fixture
def fake():
    return make_fake()


@pytest.fixture
def clock():
    return Clock()


def agent_fixing_twice():
    return ScriptedAgent({"widgets/stack.py": "class Stack:\n    pass\n"},
                         {"widgets/stack.py": STACK_IMPL},
                         {"widgets/stack.py": STACK_IMPL + "\n# again\n"},
                         {"widgets/stack.py": STACK_IMPL + "\n# and again\n"})


async def start(bot, fake):
    issue = await bot.label_stack_issue()
    return issue


async def ci(bot, fake, conclusion, log="", name="test"):
    session = await bot.session()
    fake.add_check_run(REPO, session.head_sha, name, "completed", conclusion, log=log,
                       output={"title": "pytest", "summary": "Process completed with exit code 1."}
                       if conclusion == "failure" else {"title": "pytest", "summary": "all passed"})
    await bot.settle()
    return await bot.session()


def use_config(fake, text):
    fake.push(REPO, "main", {".github/component-bot.yml": text}, author="maria")


async def test_red_then_green_reaches_finalize_with_two_commits(settings, fake):
    agent = agent_fixing_twice()
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        issue = await start(bot, fake)
        session = await ci(bot, fake, "failure", RED_LOG)
        assert session.fix_iterations == 1
        assert session.status == "waiting_for_checks"
        fix_task = agent.tasks[1]
        assert fix_task.kind == "fix"
        assert FAILING_TEST in fix_task.failure_report
        assert "assert 2 == 1" in fix_task.failure_report or "IndexError" in fix_task.failure_report
        assert "widgets/stack.py" in fix_task.diff
        session = await ci(bot, fake, "success")
        assert session.status == "awaiting_review", session.status_reason

    assert len(commits_on(fake, session.branch)) == 2
    messages = [fake.repo(REPO).git.commits[sha].message for sha in commits_on(fake, session.branch)]
    assert messages[0].startswith("Fix failing tests (attempt 1/3)")
    [pull] = fake.repo(REPO).pulls.values()
    assert not pull.draft
    assert "test" in pull.issue.body and f"Closes #{issue.number}" in pull.issue.body
    assert "component:ready" in fake.repo(REPO).issues[issue.number].labels


async def test_the_fix_cap_ends_in_needs_human_with_what_fails_and_what_was_tried(settings, fake):
    use_config(fake, "max_fix_iterations: 1\n")
    async with BotHarness(settings_for(fake, settings), fake, agent_fixing_twice()) as bot:
        await start(bot, fake)
        await ci(bot, fake, "failure", RED_LOG)
        session = await ci(bot, fake, "failure", OTHER_RED_LOG)
    assert session.status == "needs_human"
    assert "after 1 fix attempts" in session.status_reason
    [attention] = [c for c in comments_on(fake, session.pr_number) if "component-bot:attention" in c.body]
    assert FAILING_TEST in attention.body
    assert "fix attempt 1" in attention.body
    assert len(commits_on(fake, session.branch)) == 2


async def test_the_same_failures_twice_is_a_stall(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, agent_fixing_twice()) as bot:
        await start(bot, fake)
        await ci(bot, fake, "failure", RED_LOG)
        session = await ci(bot, fake, "failure", RED_LOG)
    assert session.status == "needs_human"
    assert "same tests failed again" in session.status_reason
    assert session.fix_iterations == 1
    assert any("component-bot:attention" in c.body for c in comments_on(fake, session.pr_number))


async def test_stray_check_events_change_nothing(settings, fake):
    fake.add_repo("octo/gadgets", files={"README.md": "x"}, installation_id=42)
    async with BotHarness(settings_for(fake, settings), fake, agent_fixing_twice()) as bot:
        await start(bot, fake)
        session = await bot.session()
        before = len(await bot.interactions(session.id))
        base_sha = fake.repo(REPO).branches["main"]
        fake.add_check_run(REPO, base_sha, "test", "completed", "failure", log=RED_LOG)  # an older commit
        fake.add_check_run("octo/gadgets", fake.repo("octo/gadgets").branches["main"], "test", "completed", "success")
        await bot.settle()
        assert len(await bot.interactions(session.id)) == before
        session = await ci(bot, fake, "success")
        assert session.status == "awaiting_review"
        after = len(await bot.interactions(session.id))
        assert set(await bot.redeliver_all()) == {200}
        await bot.settle()
        assert len(await bot.interactions(session.id)) == after
        assert (await bot.session()).status == "awaiting_review"


async def test_a_failure_that_is_also_on_the_default_branch_is_not_ours(settings, fake):
    base_log = (FIXTURES / "logs" / "pytest_rA_base_failure.log").read_text()
    fake.add_check_run(REPO, fake.repo(REPO).branches["main"], "db", "completed", "failure", log=base_log,
                       output={"title": "pytest", "summary": "1 failed"})
    agent = agent_fixing_twice()
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        await start(bot, fake)
        session = await bot.session()
        fake.add_check_run(REPO, session.head_sha, "db", "completed", "failure", log=base_log,
                           output={"title": "pytest", "summary": "1 failed"})
        session = await ci(bot, fake, "success", log=PASSING_LOG)
        assert session.status == "awaiting_review", session.status_reason
        assert agent.calls == 1
        [tests] = [i.result for i in await bot.interactions(session.id)
                   if i.step == "RunTests" and i.status == "succeeded" and i.result["state"] == "passed"]
        assert tests["pre_existing"] == ["db"]
        assert tests["tests_confirmed"] is True
        [verdict] = tests["verdicts"]
        assert not verdict["counted"] and "fail on the base commit" in verdict["why"]
    [pull] = fake.repo(REPO).pulls.values()
    assert "db" in pull.issue.body and "default branch" in pull.issue.body


async def test_no_checks_at_all_times_out_once_with_a_pointer_to_the_workflow_template(settings, fake, clock):
    async with BotHarness(settings_for(fake, settings), fake, agent_fixing_twice(), now=clock) as bot:
        await start(bot, fake)
        reconciler = Reconciler(bot.db, bot.apps, bot.runner, bot.runner.now)
        assert await reconciler.tick() == 0
        clock.offset = timedelta(minutes=3)
        assert await reconciler.tick() == 0, "nothing yet, and not listed again for a while"
        calls = len(fake.calls)
        clock.offset = timedelta(minutes=4)
        assert await reconciler.tick() == 0 and len(fake.calls) == calls
        clock.offset = timedelta(minutes=11)
        assert await reconciler.tick() == 1
        await bot.settle()
        session = await bot.session()
        assert session.status == "needs_human"
        assert "no check run appeared" in session.status_reason
        assert await reconciler.tick() == 0, "not waiting any more: no loop"
        steps = [(i.step, i.status) for i in await bot.interactions(session.id)]
    assert steps.count(("RunTests", "succeeded")) == 2
    [attention] = [c for c in comments_on(fake, session.pr_number) if "component-bot:attention" in c.body]
    assert "templates/workflows/component-tests.yml" in attention.body


async def test_a_lost_webhook_is_recovered_by_reconciliation(settings, fake, clock):
    async with BotHarness(settings_for(fake, settings), fake, agent_fixing_twice(), now=clock) as bot:
        await start(bot, fake)
        session = await bot.session()
        fake.webhook_sink = None  # GitHub's delivery is lost
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "success")
        fake.pending_webhooks.clear()
        fake.webhook_sink = bot.deliver
        reconciler = Reconciler(bot.db, bot.apps, bot.runner, bot.runner.now)
        fake.calls.clear()
        assert await reconciler.tick() == 0, "webhooks come first: nothing is listed in the first minutes"
        assert fake.calls == []
        clock.offset = timedelta(minutes=3)
        assert await reconciler.tick() == 1
        await bot.settle()
        assert (await bot.session()).status == "awaiting_review"


def test_a_waiting_session_is_looked_at_less_often_the_longer_it_waits():
    since = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    looks, last = [], None
    for minute in range(0, 120):
        now = since + timedelta(minutes=minute)
        if due(now, since, last):
            looks.append(minute)
            last = now
    assert looks == [2, 4, 8, 16, 31, 46, 61, 76, 91, 106]


async def test_every_step_is_shown_the_base_files_as_generate_listed_them(settings, fake):
    """The same list in every step's prompt, so it is read from the prompt cache (benchmarks/tokens)."""
    agent = agent_fixing_twice()
    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        await start(bot, fake)
        await ci(bot, fake, "failure", RED_LOG)
    generate, fix = agent.tasks[:2]
    assert generate.base_paths == tuple(sorted(fake.tree_files(REPO, "main")))
    assert fix.kind == "fix" and fix.base_paths == generate.base_paths
