"""The prompts of a session with a working directory: the file lists start there, the rest of the
repository is counted and its top level named; the context block stays the same for every step."""

from __future__ import annotations

from bot.agent.claude import ClaudeAgent
from tests.agent.conftest import API_KEY, FILES, make_task
from tests.fakes.anthropic import FakeAnthropic

UNDER = sorted(p for p in FILES if p.startswith("widgets/"))
OUTSIDE = len(FILES) - len(UNDER)


def first_message(request) -> tuple[str, str]:
    context, task = (block["text"] for block in request.body["messages"][0]["content"])
    return context, task


async def test_without_the_bases_list_the_task_lists_the_files_under_the_working_directory(settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY)
    fake.reply("Implemented.")
    async with fake.client(api_key=API_KEY) as client:
        await ClaudeAgent(settings, client=client).implement(make_task(working_directory="widgets"), workspace)
    context, task = first_message(fake.last_request)
    assert "The component lives in `widgets`" in context
    assert task.endswith(
        f"## Files under `widgets` on the branch ({len(UNDER)} of {len(FILES)})\n\n" + "\n".join(UNDER) + "\n\n"
        f"The other {OUTSIDE} files of the repository, outside `widgets`, are not listed. Its top level: `.github/`, "
        "`README.md`, `docs/`, `tests/`, `widgets/`. `view` a folder or use `search` when the component needs "
        "something from there.")


async def test_with_the_bases_list_the_context_lists_the_working_directory_the_same_for_every_step(
        settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY, min_cacheable_tokens=1)
    fake.reply("Implemented.").reply("Fixed.")
    common = {"base_paths": tuple(sorted(FILES)), "working_directory": "widgets",
              "instructions": {"widgets/AGENTS.md": "Near.\n", "AGENTS.md": "Root.\n"}}
    async with fake.client(api_key=API_KEY) as client:
        agent = ClaudeAgent(settings, client=client)
        await agent.implement(make_task(**common), workspace)
        workspace.write("docs/notes.md", "outside the working directory\n")
        await agent.implement(make_task(kind="fix", failure_report="FAILED test_push_pop", **common), workspace)
    (context, _), (fix_context, fix_task) = (first_message(r) for r in fake.message_requests)
    assert fix_context == context
    assert context.index('<file path="AGENTS.md">') < context.index('<file path="widgets/AGENTS.md">')
    assert f"## Files in `widgets` when the work began ({len(UNDER)} of {len(FILES)} in the repository)\n\n" \
           + "\n".join(UNDER) + "\n\n" in context
    assert "README.md\n" not in context
    assert "Added on the branch:\ndocs/notes.md" in fix_task, "the branch's changes are listed wherever they are"
