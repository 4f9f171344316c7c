"""`report_traceability` in the tool loop: a table is checked when it is reported and again when the
run ends; what is wrong goes back to the model, which is asked again, a bounded number of times."""

from __future__ import annotations

from bot.agent.traceability import MAX_REJECTIONS, TRACEABILITY_NAME
from bot.core.inputs import SpecText
from tests.agent.conftest import DESIGN, FILES, TESTS, make_task

EDITOR = "str_replace_based_edit_tool"
DESIGN_TEXT = "# Stack\n\n## Push and pop\n\nLIFO.\n\n## Non-goals\n\nThread safety.\n"
STACK = "class Stack:\n    def push(self, x): ...\n    def pop(self): ...\n"


def task():
    return make_task(design=SpecText(DESIGN, "1" * 40, DESIGN_TEXT), tests=SpecText(TESTS, "2" * 40, FILES[TESTS]))


def table(test: str = "test_push_pop", functions: tuple[str, ...] = ("Stack.push", "Stack.pop")) -> dict:
    return {"rows": [
        {"heading": "Push and pop", "files": [{"path": "widgets/stack.py", "functions": list(functions)}],
         "tests": [test]},
        {"heading": "Non-goals", "not_applicable": "because it lists what the stack does not do"},
    ]}


def answer(fake, request_index: int) -> dict:
    """The tool result the model got in that request."""
    [result] = fake.message_requests[request_index].tool_results
    return result


def create_stack(fake) -> None:
    fake.tool_use(EDITOR, {"command": "create", "path": "widgets/stack.py", "file_text": STACK})


async def test_a_table_naming_a_test_not_in_the_file_is_rejected_and_the_agent_is_asked_again(fake, agent, workspace):
    create_stack(fake)
    fake.tool_use(TRACEABILITY_NAME, table(test="test_pop_twice"))
    fake.tool_use(TRACEABILITY_NAME, table())
    fake.reply("Implemented Stack.")

    result = await agent.implement(task(), workspace)

    fake.assert_done()
    rejected = answer(fake, 2)
    assert rejected["is_error"] is True
    assert "row 1 ('Push and pop'): test `test_pop_twice` is not defined in tests/test_stack.py" in rejected["content"]
    assert "The tests tests/test_stack.py defines: test_push_pop" in rejected["content"]
    assert f"call `{TRACEABILITY_NAME}` again" in rejected["content"]
    accepted = answer(fake, 3)
    assert "is_error" not in accepted and accepted["content"].startswith("Accepted: 2 sections")
    assert result.traceability_note is None
    assert result.traceability.as_dict() == {"rows": [
        {"heading": "Push and pop", "files": [{"path": "widgets/stack.py", "functions": ["Stack.push", "Stack.pop"]}],
         "tests": ["test_push_pop"]},
        {"heading": "Non-goals", "not_applicable": "it lists what the stack does not do"},
    ]}


async def test_after_the_last_rejection_the_run_ends_without_a_table(fake, agent, workspace):
    create_stack(fake)
    for _ in range(MAX_REJECTIONS + 1):
        fake.tool_use(TRACEABILITY_NAME, table(test="test_pop_twice"))
    fake.reply("Implemented Stack.")

    result = await agent.implement(task(), workspace)

    fake.assert_done()  # no request more: a table rejected for the last time is not asked for again
    last, after = MAX_REJECTIONS + 1, MAX_REJECTIONS + 2  # request k + 1 carries the answer to report k
    assert "That was the last attempt" in answer(fake, last)["content"]
    assert answer(fake, after)["content"].startswith("No more attempts")
    assert result.traceability is None
    assert result.traceability_note.startswith(f"the table Claude reported was rejected {MAX_REJECTIONS} times, "
                                               "the last time because row 1")
    assert "test_pop_twice" in result.traceability_note


async def test_a_model_that_stops_after_a_rejection_is_asked_once_more(fake, agent, workspace):
    create_stack(fake)
    fake.tool_use(TRACEABILITY_NAME, table(test="test_pop_twice"))
    fake.reply("Implemented Stack.")
    fake.tool_use(TRACEABILITY_NAME, table())
    fake.reply("Implemented Stack, table fixed.")

    result = await agent.implement(task(), workspace)

    fake.assert_done()
    [asked] = fake.message_requests[3].messages[-1]["content"]
    assert asked["type"] == "text" and "Before you finish" in asked["text"] and "test_pop_twice" in asked["text"]
    assert result.traceability is not None and result.summary == "Implemented Stack, table fixed."


async def test_a_table_that_later_edits_made_false_is_not_kept(fake, agent, workspace):
    create_stack(fake)
    fake.tool_use(TRACEABILITY_NAME, table())
    fake.tool_use(EDITOR, {"command": "str_replace", "path": "widgets/stack.py", "old_str": "push", "new_str": "add"})
    fake.reply("Renamed push to add.")
    fake.reply("Done.")  # asked again, it does not report

    result = await agent.implement(task(), workspace)

    fake.assert_done()
    [asked] = fake.message_requests[4].messages[-1]["content"]
    assert "`Stack.push` does not appear in `widgets/stack.py`" in asked["text"]
    assert result.traceability is None and "`Stack.push` does not appear" in result.traceability_note


async def test_a_run_that_reports_nothing_is_not_asked_and_says_so(fake, agent, workspace):
    create_stack(fake)
    fake.reply("Implemented Stack.")

    result = await agent.implement(task(), workspace)

    fake.assert_done()
    assert len(fake.message_requests) == 2
    assert result.traceability is None and result.traceability_note == "Claude did not report one"


async def test_the_table_is_checked_against_the_spec_recorded_at_the_base_not_the_branch(fake, agent, workspace):
    """The branch's design has no 'Push and pop'; the recorded one does, and it is the one that counts."""
    create_stack(fake)
    fake.tool_use(TRACEABILITY_NAME, table())
    fake.reply("Implemented Stack.")

    result = await agent.implement(task(), workspace)

    assert "is_error" not in answer(fake, 2) and result.traceability is not None
