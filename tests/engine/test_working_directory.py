"""A monorepo session end to end: the issue names a working directory, the repository's config
scopes `required_checks` per folder, and only that folder's checks decide, for the runner and for
the reconciliation that stands in for a lost webhook."""

from __future__ import annotations

from datetime import timedelta

from bot.engine.reconcile import Reconciler
from bot.store.models import utcnow
from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, BotHarness, make_fake, settings_for

API = "services/api"
BODY = (f"### Component\n\nApi Client\n\n### Design file\n\n{API}/docs/client.md\n\n### Test file\n\n"
        f"{API}/tests/test_client.py\n\n### Working directory\n\n{API}\n")
CONFIG = f"required_checks:\n  {API}: [api-tests]\n  .: [lint]\n"


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset


async def test_only_the_working_directorys_checks_decide(settings):
    fake, clock = make_fake(), Clock()
    fake.push(REPO, "main", {f"{API}/docs/client.md": "# Client\n", f"{API}/tests/test_client.py": "def test_x():\n"
                             "    pass\n", f"{API}/AGENTS.md": "Use httpx.\n", ".github/component-bot.yml": CONFIG},
              author="maria")
    agent = ScriptedAgent({f"{API}/api/client.py": "class Client: ...\n"})
    async with BotHarness(settings_for(fake, settings), fake, agent, now=clock) as bot:
        issue = fake.add_issue(REPO, "Implement the client", BODY, user="maria")
        fake.label_issue(REPO, issue.number, "implement-component", by="maria")
        await bot.settle()
        [task] = agent.tasks
        assert task.working_directory == API and list(task.instructions) == [f"{API}/AGENTS.md"]
        session = await bot.session()
        fake.add_check_run(REPO, session.head_sha, "lint", "completed", "failure")  # not this folder's
        running = fake.add_check_run(REPO, session.head_sha, "api-tests", "in_progress")
        await bot.settle()
        session = await bot.session()
        assert session.status == "waiting_for_checks" and "api-tests" in session.status_reason

        reconciler = Reconciler(bot.db, bot.apps, bot.runner, bot.runner.now)
        clock.offset = timedelta(minutes=3)
        assert await reconciler.tick() == 0, "lint has finished, but api-tests decides and has not"
        fake.webhook_sink = None  # GitHub's delivery of api-tests' completion is lost
        fake.complete_check_run(REPO, running.id, "success")
        fake.pending_webhooks.clear()
        fake.webhook_sink = bot.deliver
        clock.offset = timedelta(minutes=10)
        assert await reconciler.tick() == 1
        await bot.settle()
        session = await bot.session()
    assert session.status == "awaiting_review", session.status_reason
    assert f"Implements **Api Client** in `{API}` as specified in" in fake.repo(REPO).pulls[session.pr_number].issue.body
