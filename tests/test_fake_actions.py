"""GitHub Actions in the fake GitHub: a push really runs the repository's tests.

The `stack` fixture repository (tests/fixtures/repos/stack) has a design, tests and a workflow but
no `stack.py`. Pushing an implementation runs `python -m pytest -q` on a checkout of the pushed
commit, and the result reaches the bot as it would from GitHub: check runs by the `github-actions`
app, workflow runs, jobs, job logs (302 to the log host) and webhooks. Everything is read
through githubkit, as the bot reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

import githubkit_schemas.latest.models as models
import httpx
import pytest
from githubkit import AppAuthStrategy, GitHub

from tests.fakes.github import ACTIONS_APP_ID, LOGS_HOST, FakeGitHub

REPO = "octo/stack"
BRANCH = "component-bot/7-stack"
FIXTURE = Path(__file__).parent / "fixtures" / "repos" / "stack"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ")
EXIT_1 = "Process completed with exit code 1."

BROKEN = '''class Stack:
    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)

    def pop(self):
        return self._items.pop(0)  # takes from the bottom

    def peek(self):
        if not self._items:
            raise IndexError("empty stack")
        return self._items[-1]

    def __len__(self):
        return len(self._items)
'''
FIXED = BROKEN.replace(
    "        return self._items.pop(0)  # takes from the bottom\n",
    '        if not self._items:\n            raise IndexError("empty stack")\n        return self._items.pop()\n',
)


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo_from_dir(REPO, FIXTURE, installation_id=42)
    fake.configure_actions(REPO, command=["python", "-m", "pytest", "-q"], job_name="test", workflow_name="tests")
    return fake


@pytest.fixture
async def gh(fake: FakeGitHub):
    app_gh = GitHub(
        AppAuthStrategy(fake.app_id, fake.private_key_pem),
        async_transport=httpx.ASGITransport(app=fake.app),
        http_cache=False,
        auto_retry=False,
        timeout=30,
    )
    async with app_gh, app_gh.with_auth(app_gh.auth.as_installation(42)) as inst:
        yield inst


async def commit(gh: GitHub, fake: FakeGitHub, files: dict[str, str], parent: str | None = None) -> str:
    """One commit on top of ``parent`` (main's head by default), made like the bot makes them."""
    parent = parent or fake.repo(REPO).branches["main"]
    base_tree = fake.repo(REPO).commits[parent].tree
    tree = await gh.rest.git.async_create_tree(
        "octo",
        "stack",
        base_tree=base_tree,
        tree=[{"path": p, "mode": "100644", "type": "blob", "content": c} for p, c in files.items()],
    )
    made = await gh.rest.git.async_create_commit(
        "octo", "stack", message="Implement Stack", tree=tree.parsed_data.sha, parents=[parent]
    )
    return made.parsed_data.sha


def run_step_line() -> int:
    """The line of the pytest step in the fixture's workflow (where Actions anchors the annotation)."""
    lines = (FIXTURE / ".github" / "workflows" / "tests.yml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if "run: python -m pytest -q" in line)


def webhook_model(event: str, action: str | None):
    camel = "".join(part.capitalize() for part in (f"{event}_{action}" if action else event).split("_"))
    return getattr(models, f"Webhook{camel}")


async def test_the_fixture_repository_waits_for_its_implementation(fake):
    files = fake.tree_files(REPO, "main")
    assert {"docs/stack.md", "tests/test_stack.py", "pyproject.toml", ".github/workflows/tests.yml"} <= set(files)
    assert "stack.py" not in files
    assert fake.actions_runs == []  # configured after the initial commit


async def test_a_failing_implementation_fails_the_actions_check_with_the_real_pytest_log(fake, gh):
    sha = await commit(gh, fake, {"stack.py": BROKEN})
    await gh.rest.git.async_create_ref("octo", "stack", ref=f"refs/heads/{BRANCH}", sha=sha)

    [ran] = fake.actions_runs
    assert (ran.branch, ran.head_sha, ran.status, ran.conclusion, ran.exit_code) == (
        BRANCH,
        sha,
        "completed",
        "failure",
        1,
    )
    assert "FAILED tests/test_stack.py::test_pop_returns_items_in_reverse_order" in ran.output

    checks = (await gh.rest.checks.async_list_for_ref("octo", "stack", sha)).parsed_data
    [check] = checks.check_runs
    assert (check.name, check.status, check.conclusion, check.head_sha) == ("test", "completed", "failure", sha)
    assert check.app.id == ACTIONS_APP_ID != fake.app_id and check.app.slug == "github-actions"
    assert check.output.title is None and check.output.summary == EXIT_1
    assert check.output.annotations_count == 1
    assert check.details_url.endswith(f"/actions/runs/{ran.workflow_run_id}/job/{check.id}")
    [note] = (await gh.rest.checks.async_list_annotations("octo", "stack", check.id)).parsed_data
    assert (note.path, note.annotation_level, note.message, note.title) == (".github", "failure", EXIT_1, "")
    assert note.start_line == note.end_line == run_step_line()

    runs = (
        await gh.rest.actions.async_list_workflow_runs_for_repo(
            "octo", "stack", head_sha=sha, branch=BRANCH, status="completed"
        )
    ).parsed_data
    [wf] = runs.workflow_runs
    assert (wf.id, wf.name, wf.event, wf.head_branch, wf.conclusion) == (
        ran.workflow_run_id,
        "tests",
        "push",
        BRANCH,
        "failure",
    )
    assert wf.path == ".github/workflows/tests.yml" and wf.check_suite_id == check.check_suite.id
    assert (await gh.rest.actions.async_get_workflow_run("octo", "stack", wf.id)).parsed_data.status == "completed"
    suite = (await gh.rest.checks.async_get_suite("octo", "stack", wf.check_suite_id)).parsed_data
    assert (suite.head_branch, suite.conclusion, suite.app.id) == (BRANCH, "failure", ACTIONS_APP_ID)

    jobs = await gh.rest.actions.async_list_jobs_for_workflow_run("octo", "stack", wf.id, filter_="latest")
    [job] = jobs.parsed_data.jobs
    assert (job.id, job.name, job.conclusion, job.head_sha) == (check.id, "test", "failure", sha)
    assert [(s.name, s.conclusion) for s in job.steps][2] == ("Run python -m pytest -q", "failure")
    assert (await gh.rest.actions.async_get_job_for_workflow_run("octo", "stack", job.id)).parsed_data.name == "test"

    log = (await gh.rest.actions.async_download_job_logs_for_workflow_run("octo", "stack", job.id)).text
    assert fake.calls_to("GET", f"/repos/octo/stack/actions/jobs/{job.id}/logs")[0].status == 302
    assert fake.calls[-1].host == LOGS_HOST
    assert log == ran.log
    lines = log.lstrip("\ufeff").splitlines()
    assert all(LOG_LINE.match(line) for line in lines)
    text = [LOG_LINE.sub("", line) for line in lines]
    start = text.index("##[group]Run python -m pytest -q")
    assert text[start + 1 : start + 4] == ["python -m pytest -q", "shell: /usr/bin/bash -e {0}", "##[endgroup]"]
    assert "FAILED tests/test_stack.py::test_pop_returns_items_in_reverse_order - assert [1, 2, 3] == [3, 2, 1]" in text
    assert any(re.fullmatch(r"tests/test_stack\.py:\d+: AssertionError", t) for t in text)
    assert any(t.startswith("2 failed, 4 passed in ") for t in text)
    assert text.index(f"##[error]{EXIT_1}") > start
    assert text[-1] == "Cleaning up orphan processes"
    assert "/home/runner/work/stack/stack" in log and "fake-actions-" not in log


async def test_a_fixed_implementation_turns_the_check_green(fake, gh):
    main = fake.repo(REPO).branches["main"]
    await gh.rest.git.async_create_ref("octo", "stack", ref=f"refs/heads/{BRANCH}", sha=main)
    before = fake.actions_runs[-1]
    assert before.conclusion == "failure" and before.exit_code == 2  # pytest: error during collection
    assert "ModuleNotFoundError: No module named 'stack'" in before.output

    sha = await commit(gh, fake, {"stack.py": FIXED}, parent=main)
    await gh.rest.git.async_update_ref("octo", "stack", f"heads/{BRANCH}", sha=sha)

    after = fake.actions_runs[-1]
    assert (after.head_sha, after.conclusion, after.exit_code) == (sha, "success", 0)
    [check] = (await gh.rest.checks.async_list_for_ref("octo", "stack", BRANCH)).parsed_data.check_runs
    assert (check.head_sha, check.conclusion, check.app.id) == (sha, "success", ACTIONS_APP_ID)
    assert check.output.title is None and check.output.summary is None and check.output.annotations_count == 0
    runs = (await gh.rest.actions.async_list_workflow_runs_for_repo("octo", "stack", branch=BRANCH)).parsed_data
    assert [(r.run_number, r.conclusion) for r in runs.workflow_runs] == [(2, "success"), (1, "failure")]
    green = (await gh.rest.actions.async_list_workflow_runs_for_repo("octo", "stack", status="success")).parsed_data
    assert [r.head_sha for r in green.workflow_runs] == [sha]
    log = (await gh.rest.actions.async_download_job_logs_for_workflow_run("octo", "stack", check.id)).text
    assert "6 passed in" in log and "##[error]" not in log


async def test_webhooks_arrive_in_order_with_the_new_head(fake, gh):
    received: list[tuple[str, dict]] = []

    async def sink(event: str, payload: dict) -> None:
        received.append((event, payload))

    fake.webhook_sink = sink
    fake.configure_actions(REPO, command=["python", "-c", "import stack"])  # quicker than pytest
    sha = fake.push(REPO, BRANCH, {"stack.py": FIXED}, author="maria")
    await fake.deliver_webhooks()

    assert [(e, p.get("action")) for e, p in received] == [
        ("push", None),
        ("workflow_run", "requested"),
        ("check_run", "created"),
        ("workflow_run", "in_progress"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("workflow_run", "completed"),
    ]
    for event, payload in received:
        webhook_model(event, payload.get("action")).model_validate(payload)
        assert payload["installation"]["id"] == 42 and payload["sender"]["login"] == "maria"
    push, requested, created, in_progress, completed, suite, finished = (p for _, p in received)
    assert push["after"] == sha
    assert requested["workflow_run"]["status"] == "queued" and in_progress["workflow_run"]["status"] == "in_progress"
    assert created["check_run"]["status"] == "queued" and created["check_run"]["head_sha"] == sha
    assert completed["check_run"]["app"]["id"] == ACTIONS_APP_ID and completed["check_run"]["conclusion"] == "success"
    assert completed["check_run"]["head_sha"] == sha and completed["check_run"]["name"] == "test"
    s = suite["check_suite"]
    assert (s["head_sha"], s["head_branch"], s["conclusion"]) == (sha, BRANCH, "success")
    assert s["app"]["id"] == ACTIONS_APP_ID
    w = finished["workflow_run"]
    assert (w["head_sha"], w["head_branch"], w["conclusion"], w["event"]) == (sha, BRANCH, "success", "push")
    assert w["jobs_url"].endswith(f"/actions/runs/{w['id']}/jobs") and w["logs_url"].endswith(f"/runs/{w['id']}/logs")
    assert w["check_suite_id"] == s["id"] and w["check_suite_node_id"] == s["node_id"]
    assert finished["workflow"]["path"] == ".github/workflows/tests.yml"


async def test_a_held_run_stays_in_progress_until_finish_actions(fake, gh):
    fake.configure_actions(REPO, auto=False)  # the same workflow, now held
    received: list[tuple[str, str]] = []

    async def sink(event: str, payload: dict) -> None:
        received.append((event, payload.get("action")))

    fake.webhook_sink = sink
    sha = await commit(gh, fake, {"stack.py": BROKEN})
    await gh.rest.git.async_create_ref("octo", "stack", ref=f"refs/heads/{BRANCH}", sha=sha)

    [held] = fake.actions_runs
    assert (held.status, held.conclusion, held.output) == ("in_progress", None, "")
    [check] = (await gh.rest.checks.async_list_for_ref("octo", "stack", sha)).parsed_data.check_runs
    assert (check.status, check.conclusion, check.completed_at) == ("in_progress", None, None)
    running = await gh.rest.actions.async_list_workflow_runs_for_repo("octo", "stack", status="in_progress")
    assert [r.id for r in running.parsed_data.workflow_runs] == [held.workflow_run_id]
    jobs = await gh.rest.actions.async_list_jobs_for_workflow_run("octo", "stack", held.workflow_run_id)
    [job] = jobs.parsed_data.jobs
    assert job.status == "in_progress" and [s.status for s in job.steps] == [
        "completed",
        "completed",
        "in_progress",
        "queued",
        "queued",
    ]
    assert received == [
        ("push", None),
        ("workflow_run", "requested"),
        ("check_run", "created"),
        ("workflow_run", "in_progress"),
    ]

    assert await fake.finish_actions() == [held]
    assert (held.status, held.conclusion, held.exit_code) == ("completed", "failure", 1)
    done = (await gh.rest.checks.async_get("octo", "stack", check.id)).parsed_data
    assert (done.status, done.conclusion) == ("completed", "failure")
    assert received[4:] == [("check_run", "completed"), ("check_suite", "completed"), ("workflow_run", "completed")]
    assert await fake.finish_actions() == []


async def test_branch_filters_skip_ci_and_shell_commands(fake, gh):
    fake.configure_actions(
        REPO, command="echo checking $GITHUB_REF_NAME && exit 3", branches=["component-bot/**", "!component-bot/wip-*"]
    )
    fake.push(REPO, "main", {"README.md": "changed\n"})
    fake.push(REPO, "component-bot/wip-1", {"stack.py": FIXED})
    fake.push(REPO, BRANCH, {"stack.py": FIXED}, message="Tidy up [skip ci]")
    assert fake.actions_runs == []

    sha = fake.push(REPO, BRANCH, {"stack.py": BROKEN})
    [ran] = fake.actions_runs
    assert (ran.head_sha, ran.exit_code, ran.conclusion, ran.output) == (sha, 3, "failure", f"checking {BRANCH}\n")
    [note] = (await gh.rest.checks.async_list_annotations("octo", "stack", ran.check_run_id)).parsed_data
    assert note.message == "Process completed with exit code 3."
    assert "##[group]Run echo checking $GITHUB_REF_NAME && exit 3" in ran.log


async def test_a_command_that_outlives_its_timeout_is_cancelled(fake, gh):
    sleeper = "print('started', flush=True); import time; time.sleep(30)"
    fake.configure_actions(REPO, command=["python", "-c", sleeper], timeout=0.3)
    fake.push(REPO, BRANCH, {"stack.py": FIXED})
    [ran] = fake.actions_runs
    assert (ran.conclusion, ran.exit_code, ran.timed_out) == ("cancelled", None, True) and ran.duration < 10
    assert "started" in ran.output and "##[error]The operation was canceled." in ran.log
    [check] = (await gh.rest.checks.async_list_for_ref("octo", "stack", ran.head_sha)).parsed_data.check_runs
    assert check.conclusion == "cancelled"
    [note] = (await gh.rest.checks.async_list_annotations("octo", "stack", check.id)).parsed_data
    assert "exceeded the maximum execution time" in note.message
