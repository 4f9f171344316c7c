"""Sessions and deliveries as Procrastinate jobs on PostgreSQL: the same sessions as in-process,
deliveries deferred in the transaction that records them, one job of a session at a time."""

from __future__ import annotations

import pytest

from tests.conftest import POSTGRES_URL
from tests.fakes.agent import ScriptedAgent
from tests.harness import (
    REPO,
    STACK_IMPL,
    BotHarness,
    commit_writes,
    commits_on,
    make_fake,
    settings_for,
    status_comments,
)
from tests.webhook_helpers import FIXTURES

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="Procrastinate runs on PostgreSQL (TEST_DATABASE_URL)")
PASSING_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()


async def test_a_session_runs_as_jobs_from_label_to_ready_pull_request(settings):
    fake = make_fake()
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL}),
                          engine="queue") as bot:
        issue = await bot.label_stack_issue()
        session = await bot.session()
        assert session.status == "waiting_for_checks", session.status_reason
        fake.add_check_run(REPO, session.head_sha, "test", "completed", "success", log=PASSING_LOG)
        await bot.settle()
        session = await bot.session()
    assert session.status == "awaiting_review", session.status_reason
    assert len(commits_on(fake, session.branch)) == 1 and commit_writes(fake) == 1
    assert len(fake.repo(REPO).pulls) == 1 and not fake.repo(REPO).pulls[session.pr_number].draft
    assert len(status_comments(fake, issue.number)) == 1
