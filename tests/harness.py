"""The whole bot, in-process, against the fake GitHub: webhooks flow both ways.

`BotHarness` starts the app with the fake's transport and a scripted agent, points the fake's
webhook sink at the app's real webhook endpoint (signed deliveries), and `settle()` runs
everything to quiescence: webhooks delivered, deliveries processed, sessions woken.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select, text

from bot.agent import Agent
from bot.config import Settings
from bot.store.models import Delivery, Interaction, Session
from tests.fakes.github import FakeGitHub
from tests.webhook_helpers import post_delivery

REPO = "octo/widgets"
DESIGN = "docs/stack.md"
TESTS = "tests/test_stack.py"
ISSUE_BODY = f"""### Component

Stack

### Design file

{DESIGN}

### Test file

{TESTS}
"""
REPO_FILES = {
    "README.md": "# widgets\n",
    DESIGN: "# Stack\n\nA LIFO stack with push, pop and peek. pop on empty raises IndexError.\n",
    TESTS: "from widgets.stack import Stack\n\n\ndef test_push_pop():\n    s = Stack()\n    s.push(1)\n"
           "    assert s.pop() == 1\n",
    "widgets/__init__.py": "",
}
STACK_IMPL = "class Stack:\n    def __init__(self):\n        self._items = []\n\n    def push(self, x):\n" \
             "        self._items.append(x)\n\n    def pop(self):\n        return self._items.pop()\n"


def make_fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(REPO, files=dict(REPO_FILES), installation_id=42)
    fake.set_permission(REPO, "maria", "write")
    fake.set_permission(REPO, "rick", "read")
    return fake


def settings_for(fake: FakeGitHub, base: Settings) -> Settings:
    return base.model_copy(update={"app_id": fake.app_id,
                                   "private_key": type(base.private_key)(fake.private_key_pem)})


class BotHarness:
    """The whole app in-process over the fake GitHub. `engine="queue"` (PostgreSQL only) runs the
    sessions as Procrastinate jobs, worked by `settle`; the default runs them in-process."""

    def __init__(self, settings: Settings, fake: FakeGitHub, agent: Agent, *, engine: str = "in-process",
                 **runner_options: Any) -> None:
        self.settings, self.fake, self.agent, self.engine = settings, fake, agent, engine
        self.runner_options = {"retry_delay": lambda attempt: 0.0, **runner_options}
        self.sent: list[tuple[str, dict[str, Any], str]] = []  # (event, payload, delivery id) as delivered

    async def __aenter__(self) -> BotHarness:
        from webhooks.app import create_app

        self.app = create_app(self.settings, github_transport=httpx.ASGITransport(app=self.fake.app),
                              agent=self.agent, runner_options=self.runner_options, engine=self.engine,
                              worker=False)
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://bot.test")
        self.fake.webhook_sink = self.deliver
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.fake.webhook_sink = None
        await self.http.aclose()
        await self._lifespan.__aexit__(*exc_info)

    @property
    def db(self):  # noqa: ANN201 - bot.store.db.Database
        return self.app.state.db

    @property
    def apps(self):  # noqa: ANN201 - bot.github.client.GitHubApps
        return self.app.state.apps

    @property
    def runner(self):  # noqa: ANN201
        return self.app.state.runner

    async def deliver(self, event: str, payload: dict[str, Any], delivery_id: str | None = None) -> int:
        delivery_id = delivery_id or str(uuid.uuid4())
        response = await post_delivery(self.http, event, payload, delivery_id=delivery_id)
        self.sent.append((event, payload, delivery_id))
        return response.status_code

    async def redeliver_all(self) -> list[int]:
        """GitHub's redelivery: the same deliveries again, with the same delivery ids."""
        return [await self.deliver(event, payload, delivery_id) for event, payload, delivery_id in list(self.sent)]

    async def label_stack_issue(self):  # noqa: ANN201 - the fake's issue
        """maria opens the stack issue and labels it `implement-component`; everything it causes settles."""
        issue = self.fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
        self.fake.label_issue(REPO, issue.number, "implement-component", by="maria")
        await self.settle()
        return issue

    async def settle(self, rounds: int = 50) -> None:
        if self.engine == "queue":
            await self._settle_queue(rounds)
            return
        for _ in range(rounds):
            await self.fake.deliver_webhooks()
            await self.app.state.intake.drain()
            await self.runner.drain()
            await asyncio.sleep(0)
            if not self.fake.pending_webhooks and not self.runner._tasks and not self.app.state.intake._in_flight:
                return
        raise AssertionError("the bot did not settle")

    async def _settle_queue(self, rounds: int) -> None:
        """Deliver the webhooks and work the jobs that are due, until neither is left."""
        runtime = self.app.state.runtime
        for _ in range(rounds):
            await self.fake.deliver_webhooks()
            await runtime.run_worker(wait=False, concurrency=4)
            if not self.fake.pending_webhooks and not await self.jobs_due():
                return
        raise AssertionError(f"the bot did not settle: {await self.jobs_due()}")

    async def jobs_due(self) -> list[tuple]:
        async with self.db() as s:
            return list((await s.execute(text(
                "SELECT id, task_name, lock, status FROM procrastinate_jobs WHERE status = 'todo' "
                "AND (scheduled_at IS NULL OR scheduled_at <= now())"))).all())

    async def sessions(self) -> list[Session]:
        async with self.db() as s:
            return list(await s.scalars(select(Session).order_by(Session.id)))

    async def session(self) -> Session:
        [session] = await self.sessions()
        return session

    async def interactions(self, session_id: int) -> list[Interaction]:
        async with self.db() as s:
            return list(await s.scalars(select(Interaction).where(Interaction.session_id == session_id)
                                        .order_by(Interaction.seq)))

    async def deliveries(self) -> list[Delivery]:
        async with self.db() as s:
            return list(await s.scalars(select(Delivery).order_by(Delivery.id)))


def comments_on(fake: FakeGitHub, number: int, repo: str = REPO) -> list:
    return list(fake.repo(repo).comments.get(number, []))


def status_comments(fake: FakeGitHub, number: int, repo: str = REPO) -> list:
    return [c for c in comments_on(fake, number, repo) if "component-bot:status" in c.body]


def reactions_on(fake: FakeGitHub, kind: str, key: int, repo: str = REPO) -> list[str]:
    """Reaction contents on ("issue", number) or ("issue_comment", id) …"""
    return [r.content for r in fake.repo(repo).reactions if r.subject == (kind, key)]


def commit_writes(fake: FakeGitHub, repo: str = REPO) -> int:
    """How many commits the bot asked GitHub to make: Git Data API commits and GraphQL
    `createCommitOnBranch` fields (a retried write would show here even if no branch got it)."""
    rest = len(fake.calls_to("POST", f"/repos/{repo}/git/commits"))
    graphql = sum(str((c.json or {}).get("query", "")).count("createCommitOnBranch(")
                  for c in fake.calls_to("POST", "/graphql"))
    return rest + graphql


def commits_on(fake: FakeGitHub, branch: str, repo: str = REPO) -> list[str]:
    """The branch's commits that are not on the default branch, newest first."""
    state = fake.repo(repo)
    base = state.branches[state.default_branch]
    shas, sha = [], state.branches.get(branch)
    while sha and sha != base:
        shas.append(sha)
        parents = state.git.commits[sha].parents
        sha = parents[0] if parents else None
    return shas
