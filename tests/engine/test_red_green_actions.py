"""Red then green, for real: the fake's GitHub Actions runs the repository's real pytest suite on
every commit the bot pushes; the failure report names the real failing test; the fix turns it green."""

from __future__ import annotations

from tests.fakes.agent import ScriptedAgent
from tests.fakes.github import FakeGitHub
from tests.harness import BotHarness, commits_on, settings_for
from tests.webhook_helpers import FIXTURES

REPO = "octo/stack"
ISSUE = "Component: Stack\nDesign file: docs/stack.md\nTest file: tests/test_stack.py\n"

BUGGY = '''class Stack:
    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)

    def pop(self):
        return self._items.pop()

    def peek(self):
        return self._items[-1]

    def __len__(self):
        return len(self._items)
'''
CORRECT = BUGGY.replace('''    def pop(self):
        return self._items.pop()

    def peek(self):
        return self._items[-1]''', '''    def pop(self):
        if not self._items:
            raise IndexError("empty stack")
        return self._items.pop()

    def peek(self):
        if not self._items:
            raise IndexError("empty stack")
        return self._items[-1]''')


async def test_red_then_green_on_real_pytest_runs(settings):
    fake = FakeGitHub()
    fake.add_repo_from_dir(REPO, FIXTURES / "repos" / "stack", installation_id=42)
    fake.set_permission(REPO, "maria", "write")
    fake.configure_actions(REPO, command=["python", "-m", "pytest", "-q"], branches=["component-bot/**"])
    agent = ScriptedAgent({"stack.py": BUGGY}, {"stack.py": CORRECT})

    async with BotHarness(settings_for(fake, settings), fake, agent) as bot:
        issue = fake.add_issue(REPO, "Implement the stack", ISSUE, user="maria")
        fake.label_issue(REPO, issue.number, "implement-component", by="maria")
        await bot.settle()
        session = (await bot.sessions())[0]

    assert session.status == "awaiting_review", session.status_reason
    ours = commits_on(fake, session.branch, REPO)
    assert [run.conclusion for run in fake.actions_runs if run.head_sha in ours] == ["failure", "success"]
    [fix] = [task for task in agent.tasks if task.kind == "fix"]
    assert "tests/test_stack.py::test_pop_on_empty_stack_raises" in fix.failure_report
    assert "tests/test_stack.py::test_peek_on_empty_stack_raises" in fix.failure_report
    assert "empty stack" in fix.failure_report
    assert len(commits_on(fake, session.branch, REPO)) == 2
    assert fake.tree_files(REPO, session.branch)["stack.py"] == CORRECT
    [pull] = fake.repo(REPO).pulls.values()
    assert not pull.draft
