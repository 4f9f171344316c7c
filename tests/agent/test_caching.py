"""Prompt caching: a byte-identical prefix on every request of a run, and across the runs of a session."""

from __future__ import annotations

import json

from bot.agent.claude import ClaudeAgent
from tests.agent.conftest import API_KEY, DESIGN, make_task
from tests.fakes.anthropic import FakeAnthropic

EDITOR = "str_replace_based_edit_tool"


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def markers(body: dict) -> list[tuple[str, dict]]:
    """(where, cache_control) for every breakpoint in a request body."""
    found = [(f"tools.{i}", t["cache_control"]) for i, t in enumerate(body.get("tools", [])) if "cache_control" in t]
    found += [(f"system.{i}", b["cache_control"]) for i, b in enumerate(body["system"]) if "cache_control" in b]
    for m, message in enumerate(body["messages"]):
        for b, block in enumerate(message["content"]):
            if isinstance(block, dict) and "cache_control" in block:
                found.append((f"messages.{m}.{b}", block["cache_control"]))
    return found


def script_a_run(fake: FakeAnthropic, turns: int = 3) -> None:
    for _ in range(turns):
        fake.tool_use(EDITOR, {"command": "view", "path": DESIGN})
    fake.reply("Done.")


async def test_every_request_carries_the_same_prefix_with_its_breakpoints(settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY, min_cacheable_tokens=1)
    script_a_run(fake)
    async with fake.client(api_key=API_KEY) as client:
        result = await ClaudeAgent(settings, client=client).implement(make_task(), workspace)

    first, *later = fake.message_requests
    assert len(later) == 3
    for request in later:
        assert canonical(request.body["tools"]) == canonical(first.body["tools"])
        assert canonical(request.body["system"]) == canonical(first.body["system"])
        assert canonical(request.body["messages"][0]) == canonical(first.body["messages"][0])

    assert markers(first.body) == [
        ("system.0", {"type": "ephemeral", "ttl": "1h"}),
        ("messages.0.0", {"type": "ephemeral", "ttl": "1h"}),
        ("messages.0.1", {"type": "ephemeral"}),
    ]
    for request in later:
        last = f"messages.{len(request.messages) - 1}.{len(request.messages[-1]['content']) - 1}"
        assert markers(request.body) == [*markers(first.body), (last, {"type": "ephemeral"})]

    usages = [r.response_json["usage"] for r in fake.message_requests]
    for previous, current in zip(usages, usages[1:]):
        previous_prompt = sum(previous[k] for k in ("input_tokens", "cache_creation_input_tokens",
                                                    "cache_read_input_tokens"))
        assert current["cache_read_input_tokens"] >= previous_prompt
    assert result.usage.cache_read_tokens == sum(u["cache_read_input_tokens"] for u in usages)
    assert result.usage.cache_write_tokens == sum(u["cache_creation_input_tokens"] for u in usages)
    assert result.usage.input_tokens == sum(u["input_tokens"] for u in usages)
    assert result.usage.output_tokens == sum(u["output_tokens"] for u in usages)


async def test_the_next_step_reads_the_context_the_previous_step_wrote(settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY, min_cacheable_tokens=1)
    script_a_run(fake, turns=1)
    fake.reply("Fixed.")
    async with fake.client(api_key=API_KEY) as client:
        agent = ClaudeAgent(settings, client=client)
        await agent.implement(make_task(), workspace)
        workspace.write("widgets/stack.py", "class Stack: ...\n")  # the tree differs, the context does not
        await agent.implement(make_task(kind="fix", failure_report="FAILED test_push_pop"), workspace)

    generate, fix = fake.message_requests[0], fake.message_requests[-1]
    assert canonical(fix.body["messages"][0]["content"][0]) == canonical(generate.body["messages"][0]["content"][0])
    assert fix.body["messages"][0]["content"][1] != generate.body["messages"][0]["content"][1]
    written_for_an_hour = generate.response_json["usage"]["cache_creation"]["ephemeral_1h_input_tokens"]
    assert written_for_an_hour > 0
    assert fix.response_json["usage"]["cache_read_input_tokens"] == written_for_an_hour  # tools, system, context


async def test_the_system_prompt_has_no_per_task_text(settings, workspace):
    fake = FakeAnthropic(api_key=API_KEY)
    fake.reply("a").reply("b")
    async with fake.client(api_key=API_KEY) as client:
        agent = ClaudeAgent(settings, client=client)
        await agent.implement(make_task(component_name="Stack"), workspace)
        await agent.implement(make_task(kind="revise", component_name="Queue", issue_number=99,
                                        conversation=({"author": "a", "body": "why?"},)), workspace)
    one, two = fake.message_requests
    assert canonical(one.body["system"]) == canonical(two.body["system"])
    assert canonical(one.body["tools"]) == canonical(two.body["tools"])
