"""The traceability table in the pull request: the draft shows Generate's, each Fix's commit brings the
draft up to date in the same request, Finalize shows the newest with the commit it was checked at;
a commit without a verified table says why instead of showing an older one."""

from __future__ import annotations

import pytest

from bot.agent import AgentResult
from bot.core.orchestrator import Step
from bot.core.traceability import Table, Trace
from bot.core.usage import Usage
from bot.steps import finalize, fix, generate
from bot.steps.pr_body import trace_view
from bot.store import sessions as store
from bot.store.sessions import Scope
from tests.fakes.agent import ScriptedAgent
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL
from tests.unit.test_steps import Row, initialized, step_context

FIXED = STACK_IMPL + "\n    def peek(self):\n        return self._items[-1]\n"


@pytest.fixture
async def session(db, fake):
    return await store.create_session(db, Scope(42, fake.repo(REPO).id, REPO), 1, trigger="label",
                                      triggered_by="maria",
                                      request={"title": "Implement the stack", "body": ISSUE_BODY})


def traced(files: dict[str, str], *functions: str):
    """A scripted run that writes `files` and reports a table (a script, so it is not checked)."""
    async def script(task, workspace):
        for path, content in files.items():
            workspace.write(path, content)
        table = Table.from_dict({"rows": [{"heading": "Stack", "tests": ["test_push_pop"], "files": [
            {"path": "widgets/stack.py", "functions": list(functions)}]}]})
        return AgentResult(summary="scripted", usage=Usage(10, 10), traceability=table)
    return script


def body(fake, number: int) -> str:
    return fake.repo(REPO).pulls[number].issue.body


async def test_the_table_is_in_the_draft_updated_by_each_fix_and_in_the_final_body(session, fake, apps,
                                                                                   unit_settings):
    rows = await initialized(session, apps, unit_settings)
    agent = ScriptedAgent(traced({"widgets/stack.py": STACK_IMPL}, "Stack.push", "Stack.pop"),
                          traced({"widgets/stack.py": FIXED}, "Stack.push", "Stack.pop", "Stack.peek"))
    generated = await generate.run(step_context(Step.GenerateImplementation, session, rows, apps, unit_settings, agent))
    number = generated.result.pr_number
    draft = body(fake, number)
    assert "| Stack | `widgets/stack.py`: `Stack.push`, `Stack.pop` | `test_push_pop` |" in draft
    assert "Checked at this commit: every section of `docs/stack.md` has a row" in draft
    assert generated.result.traceability["rows"][0]["heading"] == "Stack"

    for key, value in generated.session_updates.items():
        setattr(session, key, value)
    session.pr_number = number
    rows += [Row(3, "GenerateImplementation", "started"),
             Row(4, "GenerateImplementation", "succeeded", generated.result.to_dict(), generated.commit_sha)]
    fake.calls.clear()
    fixed = await fix.run(step_context(Step.FixTestFailures, session, rows, apps, unit_settings, agent))
    [request] = [c for c in fake.calls if c.method != "GET"]
    assert "createCommitOnBranch(" in request.json["query"] and "updatePullRequest(" in request.json["query"]
    draft = body(fake, number)
    assert "`Stack.peek`" in draft and "Draft: component-bot is still making the checks pass" in draft

    session.head_sha = fixed.commit_sha
    rows += [Row(5, "FixTestFailures", "started"),
             Row(6, "FixTestFailures", "succeeded", fixed.result.to_dict(), fixed.commit_sha)]
    final = (await finalize.run(step_context(Step.Finalize, session, rows, apps, unit_settings))).result.pr_body
    assert "`Stack.peek`" in final and f"Checked at {fixed.commit_sha[:7]}:" in final
    assert "the branch has changed since" not in final


async def test_a_commit_without_a_verified_table_says_why_and_shows_no_older_one(session, fake, apps,
                                                                                unit_settings):
    rows = await initialized(session, apps, unit_settings)
    generated = await generate.run(step_context(Step.GenerateImplementation, session, rows, apps, unit_settings,
                                                ScriptedAgent({"widgets/stack.py": STACK_IMPL})))
    shown = body(fake, generated.result.pr_number)
    assert "No verified traceability table (the agent did not report one): none is shown" in shown
    assert generated.result.traceability is None
    assert generated.result.traceability_note == "the agent did not report one"


def test_the_model_cannot_break_the_table_or_ping_anyone():
    table = Table.from_dict({"rows": [{"heading": "A | B", "not_applicable": "because @maria said\nso <b>"}]})
    view = trace_view(Trace(table, commit_sha="a" * 40), head_sha="b" * 40)
    assert view["rows"] == [("A \\| B", "*not applicable*, because @\u200bmaria said so &lt;b>", "")]
    assert view["sha"] == "aaaaaaa" and view["moved"]
