"""Prompt caching: each request of a run starts with the previous one, byte for byte, and reads what it
wrote; the prefix up to the context block is the same for every run of a session, so a run reads what
the previous step's run wrote, even after a CI run longer than five minutes."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from bot.agent.claude import ClaudeAgent
from bot.core.inputs import SpecText
from tests.agent.conftest import API_KEY, DESIGN, FILES, TESTS, make_task
from tests.fakes.anthropic import FakeAnthropic, FakeClock, tool_use_block

EDITOR = "str_replace_based_edit_tool"
LONG = {"type": "ephemeral", "ttl": "1h"}
SHORT = {"type": "ephemeral"}


def as_sent(value) -> str:
    """The JSON of `value` in the order sent, without its cache_control markers."""
    def strip(item):
        if isinstance(item, dict):
            return {k: strip(v) for k, v in item.items() if k != "cache_control"}
        return [strip(v) for v in item] if isinstance(item, list) else item
    return json.dumps(strip(value), ensure_ascii=False)


def markers(body: dict) -> list[tuple[str, dict]]:
    """(where, cache_control) for every breakpoint in a request body."""
    found = [(f"tools.{i}", t["cache_control"]) for i, t in enumerate(body.get("tools", [])) if "cache_control" in t]
    found += [(f"system.{i}", b["cache_control"]) for i, b in enumerate(body["system"]) if "cache_control" in b]
    for m, message in enumerate(body["messages"]):
        for b, block in enumerate(message["content"]):
            if isinstance(block, dict) and "cache_control" in block:
                found.append((f"messages.{m}.{b}", block["cache_control"]))
    return found


def last_block(request) -> str:
    return f"messages.{len(request.messages) - 1}.{len(request.messages[-1]['content']) - 1}"


def prompt_tokens(request) -> int:
    usage = request.response_json["usage"]
    return usage["input_tokens"] + usage["cache_creation_input_tokens"] + usage["cache_read_input_tokens"]


def blocks(request) -> list[str]:
    """The request's prompt in cache order (tools, system, message blocks), each as sent."""
    body = request.body
    return ([as_sent(t) for t in body["tools"]] + [as_sent(b) for b in body["system"]]
            + [as_sent({"role": m["role"], "block": b}) for m in body["messages"] for b in m["content"]])


def script_a_run(fake: FakeAnthropic, turns: int = 3) -> None:
    for _ in range(turns):
        fake.tool_use(EDITOR, {"command": "view", "path": DESIGN})
    fake.reply("Done.")


async def test_each_request_starts_with_the_previous_one_and_reads_it_at_a_breakpoint(settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY, min_cacheable_tokens=1)
    script_a_run(fake)
    async with fake.client(api_key=API_KEY) as client:
        result = await ClaudeAgent(settings, client=client).implement(make_task(), workspace)

    requests = fake.message_requests
    assert len(requests) == 4
    for previous, current in pairwise(requests):
        assert blocks(current)[:len(blocks(previous))] == blocks(previous)  # byte for byte, keys in order
        assert current.response_json["usage"]["cache_read_input_tokens"] == prompt_tokens(previous)

    first = requests[0]
    assert markers(first.body) == [("system.0", LONG), ("messages.0.0", LONG), ("messages.0.1", SHORT)]
    for previous, current in pairwise(requests):  # the two moving breakpoints
        assert markers(current.body) == [("system.0", LONG), ("messages.0.0", LONG),
                                         (last_block(previous), SHORT), (last_block(current), SHORT)]

    usages = [r.response_json["usage"] for r in requests]
    assert result.usage.cache_read_tokens == sum(u["cache_read_input_tokens"] for u in usages)
    assert result.usage.cache_write_tokens == sum(u["cache_creation_input_tokens"] for u in usages)
    assert result.usage.input_tokens == sum(u["input_tokens"] for u in usages)
    assert result.usage.output_tokens == sum(u["output_tokens"] for u in usages)


async def test_a_turn_of_many_parallel_tool_calls_does_not_make_the_next_request_write_the_run_again(
        settings, workspace):
    """Twelve calls and their results are 24 blocks, beyond the API's 20-block lookback from the last one:
    the breakpoint left where the previous request ended is what the next request reads."""
    fake = FakeAnthropic(api_key=API_KEY, min_cacheable_tokens=1)
    fake.tool_use(EDITOR, {"command": "view", "path": DESIGN})
    fake.turn([tool_use_block(EDITOR, {"command": "view", "path": path}) for path in [*FILES, *FILES][:12]],
              stop_reason="tool_use")
    fake.tool_use(EDITOR, {"command": "view", "path": TESTS})
    fake.reply("Done.")
    async with fake.client(api_key=API_KEY) as client:
        await ClaudeAgent(settings, client=client).implement(make_task(), workspace)

    requests = fake.message_requests
    assert len(blocks(requests[2])) - len(blocks(requests[1])) == 24
    for previous, current in pairwise(requests):
        usage = current.response_json["usage"]
        assert usage["cache_read_input_tokens"] == prompt_tokens(previous)
        assert usage["cache_creation_input_tokens"] == prompt_tokens(current) - prompt_tokens(previous)


def spec(path: str) -> SpecText:
    return SpecText(path, sha="0" * 40, text=FILES[path])


async def test_nothing_before_the_task_depends_on_the_step(settings, workspace):
    """Tools, system prompt and context block are byte-identical for a generate, a fix and a revise run,
    whatever the attempt, the budget, the tokens already used, the diff or the branch's files."""
    fake = FakeAnthropic(api_key=API_KEY)
    fake.reply("a").reply("b").reply("c")
    common = {"design": spec(DESIGN), "tests": spec(TESTS), "rules": ("No new dependencies.",),
              "instructions": {"AGENTS.md": "Tabs.\n", "CLAUDE.md": "Go.\n"}}
    async with fake.client(api_key=API_KEY) as client:
        agent = ClaudeAgent(settings, client=client)
        await agent.implement(make_task(**common), workspace)
        workspace.write("widgets/stack.py", "class Stack: ...\n")
        await agent.implement(make_task(kind="fix", failure_report="FAILED test_push_pop", diff="+class Stack: ...",
                                        attempt=2, max_attempts=3, token_budget=900_000, tokens_used_before=123_456,
                                        max_turns=12, **common), workspace)
        workspace.write("widgets/extra.py", "X = 1\n")
        await agent.implement(make_task(kind="revise", conversation=({"author": "maria", "body": "Rename it."},),
                                        diff="+X = 1", **{**common, "instructions": {"CLAUDE.md": "Go.\n",
                                                                                     "AGENTS.md": "Tabs.\n"}}),
                              workspace)
    generate, fix, revise = fake.message_requests
    for later in (fix, revise):
        assert blocks(later)[:6] == blocks(generate)[:6]  # four tools, the system prompt, the context
        assert blocks(later)[6] != blocks(generate)[6]    # the task


@pytest.mark.parametrize(("prefix_ttl", "context_read"), [(None, True), ("5m", False)])
async def test_after_a_ci_run_of_eight_minutes_the_fix_run_reads_the_context_only_if_cached_for_an_hour(
        settings, workspace, prefix_ttl, context_read):
    clock = FakeClock()
    fake = FakeAnthropic(api_key=API_KEY, min_cacheable_tokens=1, clock=clock)
    script_a_run(fake, turns=1)
    fake.reply("Fixed.")
    async with fake.client(api_key=API_KEY) as client:
        agent = ClaudeAgent(settings, client=client, prefix_ttl=prefix_ttl)
        await agent.implement(make_task(), workspace)
        clock.advance(8 * 60)
        workspace.write("widgets/stack.py", "class Stack: ...\n")  # the tree differs, the context does not
        await agent.implement(make_task(kind="fix", failure_report="FAILED test_push_pop"), workspace)

    generate, fix = fake.message_requests[0], fake.message_requests[-1]
    assert as_sent(fix.body["messages"][0]["content"][0]) == as_sent(generate.body["messages"][0]["content"][0])
    written = generate.response_json["usage"]["cache_creation"]
    fix_usage = fix.response_json["usage"]
    if context_read:  # tools, system prompt and context, as the generate run wrote them for an hour
        assert written["ephemeral_1h_input_tokens"] > 0
        assert fix_usage["cache_read_input_tokens"] == written["ephemeral_1h_input_tokens"]
        assert fix_usage["cache_creation"]["ephemeral_1h_input_tokens"] == 0
    else:
        assert written["ephemeral_1h_input_tokens"] == 0
        assert fix_usage["cache_read_input_tokens"] == 0


async def test_the_system_prompt_has_no_per_task_text(settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY)
    fake.reply("a").reply("b")
    async with fake.client(api_key=API_KEY) as client:
        agent = ClaudeAgent(settings, client=client)
        await agent.implement(make_task(component_name="Stack"), workspace)
        await agent.implement(make_task(kind="revise", component_name="Queue", issue_number=99,
                                        conversation=({"author": "a", "body": "why?"},)), workspace)
    one, two = fake.message_requests
    assert as_sent(one.body["system"]) == as_sent(two.body["system"])
    assert as_sent(one.body["tools"]) == as_sent(two.body["tools"])


async def test_with_the_bases_file_list_the_context_stays_the_same_and_the_task_lists_the_changes(
        settings, workspace):
    """The file list is the part of the first message that grows with the repository. Given the base's
    (AgentTask.base_paths), it moves into the context block, and the task lists only the branch's changes."""
    fake = FakeAnthropic(api_key=API_KEY, min_cacheable_tokens=1)
    fake.reply("Implemented.").reply("Fixed.")
    base = tuple(sorted(FILES))
    async with fake.client(api_key=API_KEY) as client:
        agent = ClaudeAgent(settings, client=client)
        await agent.implement(make_task(base_paths=base), workspace)
        workspace.write("widgets/stack.py", "class Stack: ...\n")
        workspace.delete("widgets/util.py")
        await agent.implement(make_task(kind="fix", failure_report="FAILED test_push_pop", base_paths=base), workspace)

    generate, fix = fake.message_requests
    (context, generate_task), (fix_context, fix_task) = (
        [b["text"] for b in r.body["messages"][0]["content"]] for r in (generate, fix))
    assert fix_context == context and "widgets/util.py" in context.splitlines()
    written_for_an_hour = generate.response_json["usage"]["cache_creation"]["ephemeral_1h_input_tokens"]
    assert fix.response_json["usage"]["cache_read_input_tokens"] == written_for_an_hour  # tools, system, context
    assert generate_task.endswith("## Files on the branch (6)\n\nThe files listed above as they were when the work "
                                  "began: none added or deleted since.")
    assert fix_task.endswith("## Files on the branch (6)\n\nThe files listed above as they were when the work began, "
                             "with these changes:\n\nAdded on the branch:\nwidgets/stack.py\n\n"
                             "Deleted on the branch:\nwidgets/util.py")
    assert "widgets/__init__.py" not in fix_task


async def test_without_the_bases_file_list_the_task_lists_every_file_on_the_branch(settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY)
    fake.reply("Implemented.")
    workspace.write("widgets/stack.py", "class Stack: ...\n")
    async with fake.client(api_key=API_KEY) as client:
        await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    context, task = (b["text"] for b in fake.last_request.body["messages"][0]["content"])
    assert "## Files in the repository when the work began" not in context
    assert task.endswith("## Files on the branch (7)\n\n" + "\n".join(sorted([*FILES, "widgets/stack.py"])))
