"""Steps, one at a time: a StepContext over the fake GitHub and a scripted agent, no runner."""

from __future__ import annotations

import pytest

from bot.core.orchestrator import Step
from bot.core.record import SessionRecord
from bot.core.results import InitializeResult
from bot.steps import StepContext, StepFailure
from bot.steps import finalize, generate, initialize, run_tests
from bot.store import sessions as store
from bot.store.models import utcnow
from bot.store.sessions import Scope
from tests.fakes.state import node_id
from tests.fakes.agent import ScriptedAgent
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL


@pytest.fixture
async def session(db, fake):
    repo = fake.repo(REPO)
    return await store.create_session(db, Scope(42, repo.id, REPO), 1, trigger="label", triggered_by="maria",
                                      request={"title": "Implement the stack", "body": ISSUE_BODY})


def step_context(step, session, record, apps, unit_settings, agent=None) -> StepContext:
    async def save(**values):
        for key, value in values.items():
            setattr(session, key, value)

    return StepContext(session=session, record=SessionRecord(record), step=step, attempt=1,
                       repository=apps.repository(42, REPO), settings=unit_settings,
                       agent=agent or ScriptedAgent(), save=save, now=utcnow)


class Row:
    """An interaction row, as the record reads it."""

    def __init__(self, seq, step, status, result=None, commit_sha=None):
        self.seq, self.step, self.status, self.result, self.commit_sha = seq, step, status, result, commit_sha
        self.input, self.error, self.attempt, self.created_at = {}, None, 1, utcnow()


async def initialized(session, apps, unit_settings) -> list[Row]:
    outcome = await initialize.run(step_context(Step.Initialize, session, [], apps, unit_settings))
    for key, value in outcome.session_updates.items():
        setattr(session, key, value)
    return [Row(1, "Initialize", "started"), Row(2, "Initialize", "succeeded", outcome.result.to_dict())]


async def test_initialize_records_the_spec_at_the_base_and_names_the_branch_in_one_query(session, fake, apps,
                                                                                         unit_settings):
    [_, row] = await initialized(session, apps, unit_settings)
    result = InitializeResult.from_dict(row.result)
    assert result.branch == "component-bot/1-stack" == session.branch
    assert "component-bot/1-stack" not in fake.repo(REPO).branches, "made by the first commit"
    assert (session.head_sha, session.base_sha) == (fake.repo(REPO).branches["main"],) * 2
    assert result.inputs["tests"]["text"] == fake.read_file(REPO, "main", "tests/test_stack.py")
    assert [c.path for c in fake.calls] == ["/app/installations/42/access_tokens", "/graphql"]


async def test_initialize_reuses_the_branch_an_earlier_session_left(session, fake, apps, unit_settings):
    left = fake.push(REPO, "component-bot/1-stack", {"widgets/stack.py": "class Stack: ...\n"}, author="maria")
    await initialized(session, apps, unit_settings)
    assert session.head_sha == left and session.head_tree_sha == fake.repo(REPO).git.commits[left].tree


async def test_initialize_without_the_design_file_waits_for_a_person(session, fake, apps, unit_settings):
    fake.push(REPO, "main", {"docs/stack.md": None}, author="maria")
    with pytest.raises(StepFailure) as failure:
        await initialize.run(step_context(Step.Initialize, session, [], apps, unit_settings))
    assert failure.value.kind == "needs_human" and "docs/stack.md" in failure.value.reason


async def test_generate_commits_once_and_opens_a_draft_pull_request(session, fake, apps, unit_settings):
    rows = await initialized(session, apps, unit_settings)
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    fake.calls.clear()
    outcome = await generate.run(step_context(Step.GenerateImplementation, session, rows, apps, unit_settings, agent))
    [pull] = fake.repo(REPO).pulls.values()
    assert pull.draft and outcome.result.pr_number == pull.number
    assert outcome.session_updates["pr_node_id"] == node_id("PR", pull.id)
    assert fake.read_file(REPO, session.branch, "widgets/stack.py") == STACK_IMPL
    [request] = [c for c in fake.calls if c.method != "GET"]
    assert request.path == "/graphql", "the commit and the draft PR in one request"
    assert [f in request.json["query"] for f in ("createRef(", "createCommitOnBranch(", "createPullRequest(")] == [True] * 3


async def test_generate_opens_the_pull_request_through_rest_when_github_refuses_it_with_the_commit(
        session, fake, apps, unit_settings):
    rows = await initialized(session, apps, unit_settings)
    fake.inject_field_error("createPullRequest")
    outcome = await generate.run(step_context(Step.GenerateImplementation, session, rows, apps, unit_settings,
                                              ScriptedAgent({"widgets/stack.py": STACK_IMPL})))
    [pull] = fake.repo(REPO).pulls.values()
    assert pull.draft and outcome.result.pr_number == pull.number
    assert len(fake.calls_to("POST", f"/repos/{REPO}/pulls")) == 1
    assert fake.read_file(REPO, session.branch, "widgets/stack.py") == STACK_IMPL


async def test_run_tests_waits_while_no_check_has_appeared(session, apps, unit_settings):
    rows = await initialized(session, apps, unit_settings)
    outcome = await run_tests.run(step_context(Step.RunTests, session, rows, apps, unit_settings))
    assert outcome.result.state == "pending" and "waiting for check runs" in outcome.result.reason


async def test_run_tests_right_after_our_commit_waits_without_asking_github(session, fake, apps, unit_settings):
    rows = await initialized(session, apps, unit_settings)
    generated = await generate.run(step_context(Step.GenerateImplementation, session, rows, apps, unit_settings,
                                                ScriptedAgent({"widgets/stack.py": STACK_IMPL})))
    session.head_sha = generated.commit_sha
    rows += [Row(3, "GenerateImplementation", "started"),
             Row(4, "GenerateImplementation", "succeeded", generated.result.to_dict(), generated.commit_sha)]
    fake.calls.clear()
    outcome = await run_tests.run(step_context(Step.RunTests, session, rows, apps, unit_settings))
    assert outcome.result.state == "pending" and "to start" in outcome.result.reason
    assert fake.calls == []

    rows.insert(3, Row(3, "checks", "received"))  # a check reported while the commit was being made
    outcome = await run_tests.run(step_context(Step.RunTests, session, rows, apps, unit_settings))
    assert len(fake.calls_to("GET", f"/repos/{REPO}/commits/{generated.commit_sha}/check-runs")) == 1


async def test_finalize_under_the_manual_policy_verifies_and_leaves_the_pr_to_the_settling(session, fake, apps,
                                                                                           unit_settings):
    rows = await initialized(session, apps, unit_settings)
    generated = await generate.run(step_context(Step.GenerateImplementation, session, rows, apps, unit_settings,
                                                ScriptedAgent({"widgets/stack.py": STACK_IMPL})))
    session.head_sha, session.pr_number = generated.commit_sha, generated.result.pr_number
    fake.calls.clear()
    outcome = await finalize.run(step_context(Step.Finalize, session, rows, apps, unit_settings))
    assert not outcome.result.merged and "maintainer" in outcome.result.waiting_for
    assert outcome.result.spec_unchanged
    assert outcome.result.draft and "widgets/stack.py" in outcome.result.pr_body
    assert fake.repo(REPO).pulls[session.pr_number].draft, "made ready when the session settles, with the rest"
    [query] = fake.calls
    assert query.path == "/graphql" and query.json["query"].lstrip().startswith("query")
