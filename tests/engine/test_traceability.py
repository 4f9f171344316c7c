"""The whole path, with Claude's runs scripted through the real agent: a traceability table that names a
test the test file does not define is rejected, Claude reports it again, and the pull request shows
the table that passed, with the commit it was checked at."""

from __future__ import annotations

from bot.agent.claude import ClaudeAgent
from tests.fakes.anthropic import FakeAnthropic
from tests.harness import REPO, STACK_IMPL, BotHarness, make_fake, settings_for


def table(test: str) -> dict:
    return {"rows": [{"heading": "Stack", "files": [{"path": "widgets/stack.py", "functions": ["Stack.push"]}],
                      "tests": [test]}]}


async def test_a_rejected_table_is_reported_again_and_the_pull_request_shows_the_verified_one(settings):
    fake = make_fake()
    claude = FakeAnthropic()
    claude.tool_use("str_replace_based_edit_tool",
                    {"command": "create", "path": "widgets/stack.py", "file_text": STACK_IMPL})
    claude.tool_use("report_traceability", table("test_pop_twice"))
    claude.tool_use("report_traceability", table("test_push_pop"))
    claude.reply("Implemented the stack.")
    async with claude.client(max_retries=0) as client, \
            BotHarness(settings_for(fake, settings), fake, ClaudeAgent(settings, client=client)) as bot:
        await bot.label_stack_issue()
        [pull] = fake.repo(REPO).pulls.values()
        assert "| Stack | `widgets/stack.py`: `Stack.push` | `test_push_pop` |" in pull.issue.body
        session = await bot.session()
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "success",
                           output={"title": "pytest", "summary": "passed"})
        await bot.settle()
        session = await bot.session()
    claude.assert_done()
    [rejected] = claude.message_requests[2].tool_results
    assert rejected["is_error"] and "test `test_pop_twice` is not defined in tests/test_stack.py" in rejected["content"]
    assert session.status == "awaiting_review"
    [pull] = fake.repo(REPO).pulls.values()
    assert not pull.draft
    assert "| Stack | `widgets/stack.py`: `Stack.push` | `test_push_pop` |" in pull.issue.body
    assert f"Checked at {session.head_sha[:7]}: every section of `docs/stack.md` has a row" in pull.issue.body
    assert "test_pop_twice" not in pull.issue.body
