"""Who can start a session, and what a missing file or a broken config gets: one clear comment."""

from __future__ import annotations

import pytest

from tests.fakes.agent import ScriptedAgent
from tests.harness import (
    ISSUE_BODY,
    REPO,
    STACK_IMPL,
    BotHarness,
    comments_on,
    make_fake,
    reactions_on,
    settings_for,
    status_comments,
)


@pytest.fixture
def fake():
    return make_fake()


@pytest.fixture
def agent():
    return ScriptedAgent({"widgets/stack.py": STACK_IMPL})


@pytest.fixture
async def bot(settings, fake, agent):
    async with BotHarness(settings_for(fake, settings), fake, agent) as harness:
        yield harness


def branches(fake, repo=REPO):
    return [b for b in fake.repo(repo).branches if b.startswith("component-bot/")]


def bot_comments(fake, issue_number):
    return [c for c in comments_on(fake, issue_number) if c.user.login == fake.bot.login]


async def assert_nothing_started(bot, fake, issue_number):
    assert await bot.sessions() == []
    assert bot_comments(fake, issue_number) == []
    assert reactions_on(fake, "issue", issue_number) == []
    assert branches(fake) == []


async def test_a_reader_cannot_start_a_session(bot, fake):
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="rick")
    fake.label_issue(REPO, issue.number, "implement-component", by="rick")
    fake.add_issue_comment(REPO, issue.number, "/implement", user="rick")
    await bot.settle()
    await assert_nothing_started(bot, fake, issue.number)


async def test_a_stranger_cannot_start_a_session(bot, fake):
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="mallory")
    fake.add_issue_comment(REPO, issue.number, "/implement", user="mallory")
    await bot.settle()
    assert await bot.sessions() == []


async def test_a_bot_cannot_start_a_session(bot, fake):
    fake.set_permission(REPO, "renovate[bot]", "admin")
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="renovate[bot]")
    await bot.settle()
    await assert_nothing_started(bot, fake, issue.number)


async def test_the_apps_own_comment_starts_nothing(bot, fake):
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    fake.add_issue_comment(REPO, issue.number, "/implement", user=fake.bot.login)
    await bot.settle()
    assert await bot.sessions() == []
    assert branches(fake) == []


async def test_other_labels_start_nothing(bot, fake):
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    fake.label_issue(REPO, issue.number, "bug", by="maria")
    await bot.settle()
    await assert_nothing_started(bot, fake, issue.number)


async def test_a_second_trigger_points_to_the_running_session(bot, fake):
    issue = await bot.label_stack_issue()
    fake.add_issue_comment(REPO, issue.number, "/implement", user="maria")
    await bot.settle()
    assert len(await bot.sessions()) == 1
    posted = bot_comments(fake, issue.number)
    assert len(posted) == 2
    assert "already working on this issue" in posted[-1].body


async def test_another_repositorys_events_cannot_touch_a_session(bot, fake):
    fake.add_repo("octo/gadgets", files={"README.md": "x"}, installation_id=42)
    fake.set_permission("octo/gadgets", "maria", "admin")
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    other = fake.add_issue("octo/gadgets", "Same number", "", user="maria")
    assert other.number == issue.number
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await bot.settle()
    fake.add_issue_comment("octo/gadgets", other.number, "/stop", user="maria")
    await bot.settle()
    session = await bot.session()
    assert session.status == "waiting_for_checks"
    assert [i.step for i in await bot.interactions(session.id) if i.status == "received"] == []


MISSING = {
    "design file": ISSUE_BODY.replace("docs/stack.md", "docs/queue.md"),
    "test file": ISSUE_BODY.replace("tests/test_stack.py", "tests/test_queue.py"),
}


@pytest.mark.parametrize("what", MISSING)
async def test_a_missing_file_gets_one_clear_comment_and_no_branch(bot, fake, agent, what):
    issue = fake.add_issue(REPO, "Implement the stack", MISSING[what], user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await bot.settle()
    session = await bot.session()
    assert session.status == "needs_human"
    [comment] = comments_on(fake, issue.number)
    missing_path = "docs/queue.md" if what == "design file" else "tests/test_queue.py"
    assert f"the {what} `{missing_path}`" in comment.body
    assert "/retry" in comment.body
    assert branches(fake) == []
    assert agent.calls == 0


async def test_retry_after_fixing_the_issue_carries_on(bot, fake, agent):
    issue = fake.add_issue(REPO, "Implement the stack", MISSING["design file"], user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await bot.settle()
    fake.push(REPO, "main", {"docs/queue.md": "# Queue\n"}, author="maria")
    fake.add_issue_comment(REPO, issue.number, "/retry", user="maria")
    await bot.settle()
    session = await bot.session()
    assert session.status == "waiting_for_checks", session.status_reason
    assert len(status_comments(fake, issue.number)) == 1
    assert len(branches(fake)) == 1


async def test_relabelling_a_session_that_needs_a_human_retries_it(bot, fake, agent):
    issue = fake.add_issue(REPO, "Implement the stack", MISSING["test file"], user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await bot.settle()
    fake.push(REPO, "main", {"tests/test_queue.py": "def test_q(): pass\n"}, author="maria")
    state = fake.repo(REPO)
    fake.remove_label(state, state.issues[issue.number], "implement-component", fake.user("maria"))
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await bot.settle()
    assert (await bot.session()).status == "waiting_for_checks"


async def test_a_malformed_config_gets_one_comment_quoting_the_yaml_error(bot, fake, agent):
    fake.push(REPO, "main", {".github/component-bot.yml": "max_fix_iterations: [3\nrules: x\n"}, author="maria")
    issue = await bot.label_stack_issue()
    session = await bot.session()
    assert session.status == "failed"
    [comment] = comments_on(fake, issue.number)
    assert "is not valid YAML" in comment.body
    assert "line" in comment.body
    assert branches(fake) == []


async def test_an_invalid_config_value_is_named(bot, fake, agent):
    fake.push(REPO, "main", {".github/component-bot.yml": "merge: sometimes\n"}, author="maria")
    issue = await bot.label_stack_issue()
    [comment] = comments_on(fake, issue.number)
    assert "`merge`" in comment.body
    assert (await bot.session()).status == "failed"


async def test_an_issue_that_names_no_component_says_what_to_add(bot, fake, agent):
    issue = fake.add_issue(REPO, "Implement something", "Please build it.", user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await bot.settle()
    [comment] = comments_on(fake, issue.number)
    assert "### Design file" in comment.body
    assert (await bot.session()).status == "needs_human"
