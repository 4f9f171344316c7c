"""What a session shows on GitHub (status comment, check run, state label, the PR's readiness and
summary): each change sent once, all of it in one GraphQL request per publication, and the same
through REST on a GitHub without those mutations."""

from __future__ import annotations

import pytest

from bot.github.labels import STATE_LABELS
from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, BotHarness, make_fake, settings_for, status_comments
from tests.webhook_helpers import FIXTURES

PASSING_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()
PUBLISHING_REST = ("/comments", "/check-runs", "/labels")  # REST paths a publication would use


@pytest.fixture
def fake():
    return make_fake()


async def ready_session(bot, fake):
    issue = await bot.label_stack_issue()
    session = await bot.session()
    fake.add_check_run(REPO, session.head_sha, "test", "completed", "success", log=PASSING_LOG,
                       output={"title": "pytest", "summary": "all passed"})
    await bot.settle()
    return issue, await bot.session()


def shown_as_a_ready_session(fake, issue, session) -> None:
    repo = fake.repo(REPO)
    assert session.status == "awaiting_review", session.status_reason
    [comment] = status_comments(fake, issue.number)
    assert "Ready for review" in comment.body
    assert [n for n in repo.issues[issue.number].labels if n.startswith("component:")] == ["component:ready"]
    assert {(n, repo.labels[n].color) for n in STATE_LABELS if n in repo.labels} <= \
        {(n, color) for n, (color, _) in STATE_LABELS.items()}
    [run] = [r for r in repo.check_runs.values() if r.name == "component-bot"]
    assert (run.head_sha, run.status, run.conclusion) == (session.head_sha, "completed", "success")
    pull = repo.pulls[session.pr_number]
    assert not pull.draft and "What green means" in pull.issue.body


async def test_each_publication_is_one_graphql_request(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        issue, session = await ready_session(bot, fake)
    shown_as_a_ready_session(fake, issue, session)
    writes = [c for c in fake.calls if c.method in ("POST", "PATCH", "DELETE")]
    assert not [c for c in writes if c.path.endswith(PUBLISHING_REST)], "nothing shown through REST"
    shows = [c for c in writes if c.path == "/graphql" and "updateIssueComment(" in c.json["query"]]
    assert len(shows) == 2, "waiting for checks, then ready: one request each"
    final = shows[-1].json["query"]
    for field in ("updateCheckRun(", "addLabelsToLabelable(", "removeLabelsFromLabelable(",
                  "markPullRequestReadyForReview(", "updatePullRequest("):
        assert field in final


async def test_an_older_github_without_the_mutations_is_shown_the_same_through_rest(settings, fake):
    fake.graphql_missing = {"createCommitOnBranch", "createPullRequest", "createRef", "addComment",
                            "updateIssueComment", "createCheckRun", "updateCheckRun", "createLabel",
                            "addLabelsToLabelable", "removeLabelsFromLabelable", "updatePullRequest"}
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        issue, session = await ready_session(bot, fake)
    shown_as_a_ready_session(fake, issue, session)
    assert fake.calls_to("POST", f"/repos/{REPO}/git/commits")


async def test_a_status_comment_deleted_by_someone_is_posted_again_once(settings, fake):
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        issue = await bot.label_stack_issue()
        fake.repo(REPO).comments[issue.number].clear()  # a maintainer deleted it
        session = await bot.session()
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "success", log=PASSING_LOG,
                           output={"title": "pytest", "summary": "all passed"})
        await bot.settle()
        session = await bot.session()
    [comment] = status_comments(fake, issue.number)
    assert "Ready for review" in comment.body and session.status_comment_id == comment.id


async def test_the_first_session_in_a_repository_creates_the_labels_and_a_waiting_one_shows_its_label_at_once(
        settings, fake):
    fake.push(REPO, "main", {"docs/stack.md": None}, author="maria")  # Initialize will wait for a person
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent()) as bot:
        issue = await bot.label_stack_issue()
        session = await bot.session()
    repo = fake.repo(REPO)
    assert session.status == "needs_human"
    assert [n for n in repo.issues[issue.number].labels if n.startswith("component:")] == ["component:needs-human"]
    assert {n: (repo.labels[n].color, repo.labels[n].description) for n in STATE_LABELS} == STATE_LABELS
