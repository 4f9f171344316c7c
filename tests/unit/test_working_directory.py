"""Monorepos: a session's working directory, from the issue or the config. Initialize reads the
instruction files on the way up from it in the same query as the rest of the spec; the agent's
file list and instructions come from it; the checks that decide are the ones set for it."""

from __future__ import annotations

import pytest

from bot.agent.claude import ClaudeAgent
from bot.core.orchestrator import Step
from bot.core.results import InitializeResult
from bot.steps import StepFailure, generate, initialize, run_tests
from bot.store import sessions as store
from bot.store.sessions import Scope
from tests.fakes.anthropic import FakeAnthropic
from tests.harness import REPO
from tests.unit.test_steps import Row, step_context

API = "services/api"
DESIGN = f"{API}/docs/client.md"
TESTS = f"{API}/tests/test_client.py"
MONOREPO = {
    "AGENTS.md": "Root: run ruff before committing.\n",
    "services/AGENTS.md": "Services: each one has its own Makefile.\n",
    f"{API}/CLAUDE.md": "API: use httpx, never requests.\n",
    f"{API}/api/__init__.py": "",
    DESIGN: "# Client\n\nA tiny HTTP client.\n",
    TESTS: "from api.client import Client\n\n\ndef test_client():\n    assert Client()\n",
    "services/web/AGENTS.md": "Web: use React.\n",
    "services/web/app.js": "export {}\n",
    "libs/core/util.py": "def helper():\n    return 1\n",
}


def issue(directory: str | None = API, design: str = DESIGN) -> str:
    body = f"### Component\n\nApi Client\n\n### Design file\n\n{design}\n\n### Test file\n\n{TESTS}\n"
    return body + (f"\n### Working directory\n\n{directory}\n" if directory is not None else "")


@pytest.fixture
def monorepo(fake):
    fake.push(REPO, "main", dict(MONOREPO), author="maria")
    return fake


async def session_for(db, fake, body: str):
    return await store.create_session(db, Scope(42, fake.repo(REPO).id, REPO), 1, trigger="label",
                                      triggered_by="maria", request={"title": "Implement the client", "body": body})


async def initialized(session, apps, unit_settings) -> list[Row]:
    outcome = await initialize.run(step_context(Step.Initialize, session, [], apps, unit_settings))
    for key, value in outcome.session_updates.items():
        setattr(session, key, value)
    return [Row(1, "Initialize", "started"), Row(2, "Initialize", "succeeded", outcome.result.to_dict())]


async def test_a_working_directory_the_tree_view_and_the_instruction_files_come_from_it(
        db, monorepo, apps, unit_settings):
    session = await session_for(db, monorepo, issue())
    rows = await initialized(session, apps, unit_settings)
    assert [c.path for c in monorepo.calls] == ["/app/installations/42/access_tokens", "/graphql"], "one query"
    result = InitializeResult.from_dict(rows[1].result)
    assert result.component["working_directory"] == API
    assert list(result.inputs["instructions"]) == ["AGENTS.md", "services/AGENTS.md", f"{API}/CLAUDE.md"]

    anthropic = FakeAnthropic(api_key=unit_settings.anthropic_api_key.get_secret_value())
    anthropic.tool_use("str_replace_based_edit_tool", {"command": "create", "path": f"{API}/api/client.py",
                                                       "file_text": "class Client:\n    pass\n"})
    anthropic.reply("Added the client.")
    async with anthropic.client(api_key=unit_settings.anthropic_api_key.get_secret_value()) as client:
        agent = ClaudeAgent(unit_settings, client=client)
        await generate.run(step_context(Step.GenerateImplementation, session, rows, apps, unit_settings, agent))

    context, task = (block["text"] for block in anthropic.message_requests[0].body["messages"][0]["content"])
    assert f"The component lives in `{API}`" in context
    shown = [line.removeprefix('<file path="').removesuffix('">') for line in context.splitlines()
             if line.startswith("<file path=") and line.removeprefix('<file path="').removesuffix('">') not in
             (DESIGN, TESTS)]
    assert shown == ["AGENTS.md", "services/AGENTS.md", f"{API}/CLAUDE.md"], "root first, the nearest last"
    assert "Web: use React." not in context
    under = sorted(p for p in MONOREPO if p.startswith(f"{API}/"))
    heading = f"## Files in `{API}` when the work began ({len(under)} of {len(monorepo.tree_files(REPO, 'main'))} "
    assert context.split(heading)[1].split("\n\n")[1].splitlines() == under
    assert "services/web/app.js" not in context and "libs/core/util.py" not in context
    assert f"files of the repository, outside `{API}`, are not listed" in context
    assert "`libs/`" in context and "`services/`" in context
    assert task.endswith("none added or deleted since.")


async def test_a_working_directory_from_the_config_reads_its_instructions_at_the_same_commit(
        db, monorepo, apps, unit_settings):
    monorepo.push(REPO, "main", {".github/component-bot.yml": f"working_directory: {API}\n"}, author="maria")
    session = await session_for(db, monorepo, issue(directory=None))
    rows = await initialized(session, apps, unit_settings)
    queries = [c for c in monorepo.calls if c.path == "/graphql"]
    assert len(queries) == 2, "the config's folder is known only once the config is read"
    assert set(queries[1].json["variables"].values()) >= {f"{session.base_sha}:{API}/CLAUDE.md"}
    result = InitializeResult.from_dict(rows[1].result)
    assert result.component["working_directory"] == API
    assert list(result.inputs["instructions"]) == ["AGENTS.md", "services/AGENTS.md", f"{API}/CLAUDE.md"]


async def test_the_issues_working_directory_wins_over_the_configs_and_the_root_can_be_asked_for(
        db, monorepo, apps, unit_settings):
    monorepo.push(REPO, "main", {".github/component-bot.yml": "working_directory: services/web\n"}, author="maria")
    session = await session_for(db, monorepo, issue(directory="."))
    rows = await initialized(session, apps, unit_settings)
    assert len([c for c in monorepo.calls if c.path == "/graphql"]) == 1
    result = InitializeResult.from_dict(rows[1].result)
    assert result.component["working_directory"] == "" and list(result.inputs["instructions"]) == ["AGENTS.md"]


@pytest.mark.parametrize(("directory", "named_by"), [("services/mobile", "the issue"), (DESIGN, "the issue")])
async def test_a_working_directory_that_is_not_a_folder_waits_for_a_person(db, monorepo, apps, unit_settings,
                                                                          directory, named_by):
    session = await session_for(db, monorepo, issue(directory=directory))
    with pytest.raises(StepFailure) as failure:
        await initialize.run(step_context(Step.Initialize, session, [], apps, unit_settings))
    assert failure.value.kind == "needs_human"
    assert f"The working directory `{directory}` (named by {named_by}) is not a folder" in failure.value.reason


async def test_a_spec_path_given_from_the_working_directory_is_pointed_out(db, monorepo, apps, unit_settings):
    session = await session_for(db, monorepo, issue(design="docs/client.md"))
    with pytest.raises(StepFailure) as failure:
        await initialize.run(step_context(Step.Initialize, session, [], apps, unit_settings))
    assert "the design file `docs/client.md`" in failure.value.reason
    assert f"`{DESIGN}` exists: paths in the issue are from the repository's root" in failure.value.reason


CHECKS = f"required_checks:\n  {API}: [api-tests]\n  .: [lint]\n"


@pytest.mark.parametrize(("directory", "waits_for"), [(API, "api-tests"), ("services/web", "lint")])
async def test_the_checks_that_decide_are_the_working_directorys(db, monorepo, apps, unit_settings, directory,
                                                                 waits_for):
    monorepo.push(REPO, "main", {".github/component-bot.yml": CHECKS}, author="maria")
    session = await session_for(db, monorepo, issue(directory=directory))
    rows = await initialized(session, apps, unit_settings)
    running = monorepo.add_check_run(REPO, session.head_sha, waits_for, "in_progress")
    for other in {"web-tests", "api-tests", "lint"} - {waits_for}:
        monorepo.add_check_run(REPO, session.head_sha, other, "completed", "failure")
    outcome = await run_tests.run(step_context(Step.RunTests, session, rows, apps, unit_settings))
    assert outcome.result.state == "pending" and outcome.result.reason.endswith(f"1 of 1 check(s) on "
                                                                                f"{session.head_sha[:7]}: {waits_for}")
    monorepo.complete_check_run(REPO, running.id, "success")
    outcome = await run_tests.run(step_context(Step.RunTests, session, rows, apps, unit_settings))
    assert outcome.result.state == "passed", "the other checks failed, but they are not this folder's"
    assert [c["name"] for c in outcome.result.checks] == [waits_for]
