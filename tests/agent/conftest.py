"""The Claude agent through the real SDK against the fake Anthropic API, on a workspace opened on
the fake GitHub."""

from __future__ import annotations

import httpx
import pytest
from githubkit import GitHub

from bot.agent import AgentTask
from bot.agent.claude import ClaudeAgent
from bot.config import Settings
from bot.github.workspace import Workspace
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.github import FakeGitHub

REPO = "octo/widgets"
BRANCH = "component-bot/7-stack"
DESIGN = "docs/stack.md"
TESTS = "tests/test_stack.py"
API_KEY = "sk-ant-api03-agent-tests-secret-0123456789"
MODEL = "claude-sonnet-5-5"
FILES = {
    "README.md": "# widgets\n",
    DESIGN: "# Stack\n\nA LIFO stack with push, pop and peek.\npop on an empty stack raises IndexError.\n",
    TESTS: "from widgets.stack import Stack\n\n\ndef test_push_pop():\n    s = Stack()\n    s.push(1)\n"
           "    assert s.pop() == 1\n",
    "widgets/__init__.py": "VERSION = 1\n",
    "widgets/util.py": "def helper():\n    return 1\n\n\ndef other():\n    return 1\n",
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
}


@pytest.fixture
def github() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(REPO, files=dict(FILES), installation_id=42)
    state = fake.repo(REPO)
    state.refs[f"refs/heads/{BRANCH}"] = state.branches["main"]
    return fake


@pytest.fixture
async def gh(github):
    client = GitHub("token", base_url="https://api.github.com/", http_cache=False, auto_retry=False,
                    async_transport=httpx.ASGITransport(app=github.app))
    async with client:
        yield client


@pytest.fixture
async def workspace(gh) -> Workspace:
    return await Workspace(gh, "octo", "widgets", BRANCH).open()


@pytest.fixture
def fake() -> FakeAnthropic:
    return FakeAnthropic(api_key=API_KEY)


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, anthropic_api_key=API_KEY, bot_model=MODEL)


@pytest.fixture
async def agent(fake, settings):
    async with fake.client(api_key=API_KEY, max_retries=2) as client:
        yield ClaudeAgent(settings, client=client)


def make_task(**overrides) -> AgentTask:
    values = dict(
        kind="implement", repository=REPO, issue_number=7, issue_title="Implement Stack",
        issue_body="### Component\n\nStack\n", component_name="Stack", design_path=DESIGN, test_path=TESTS,
    )
    values.update(overrides)
    return AgentTask(**values)
