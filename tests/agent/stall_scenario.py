"""The scenario of `test_search_does_not_stall.py`, run in a child process (see that test for why).

The whole bot runs in-process on the fake GitHub, as in tests/harness.py; the scripted agent
searches the branch through the real `Toolbox` with patterns that backtrack for ever on Python's
`re`, and a signed `ping` delivery is posted to the app while those searches run. The outcome
is printed as one JSON line: the ping's status and latency, and what each search answered.

    python -m tests.agent.stall_scenario DIRECTORY    (DIRECTORY holds the scenario's SQLite database)
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bot.agent import search
from bot.agent.tools import Toolbox
from bot.config import Settings
from bot.store.db import migrate
from tests.fakes.agent import ScriptedAgent
from tests.fakes.github import FakeGitHub
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL, BotHarness, make_fake, settings_for
from tests.webhook_helpers import WEBHOOK_SECRET, load_payload, post_delivery

EVIL_PATH = "data/" + "a" * 40 + ".txt"
EVIL_LINE = "a" * 40 + "!"
SEARCHES = {
    "regex": {"pattern": "(a+)+$", "regex": True},
    "glob": {"pattern": "a", "path": "*a" * 20 + "*b"},
}
HOLD_SECONDS = 5
SEARCH_START_TIMEOUT_SECONDS = 60


def settings(database_url: str, private_key_pem: str) -> Settings:
    return Settings(_env_file=None, app_id=1, private_key=private_key_pem, webhook_secret=WEBHOOK_SECRET,
                    database_url=database_url, anthropic_api_key="sk-ant-test-key-0123456789")


def hold_scans_until(answered: threading.Event) -> None:
    """Keep each scan in its worker thread until the ping is answered, so that the ping certainly
    arrives while a search is running. Code without `search.scan` searches on the event loop, and
    there is nothing to hold: the ping is never answered."""
    scan = getattr(search, "scan", None)
    if scan is None:
        return

    def held_scan(*args: Any, **kwargs: Any) -> Any:
        try:
            return scan(*args, **kwargs)
        finally:
            answered.wait(HOLD_SECONDS)

    search.scan = held_scan


async def scenario(database_url: str) -> dict[str, Any]:
    fake = make_fake()
    fake.push(REPO, "main", {EVIL_PATH: f"{EVIL_LINE}\n" * 50})
    searching, answered = asyncio.Event(), threading.Event()
    hold_scans_until(answered)
    outcome: dict[str, Any] = {}

    async def search_then_implement(task, workspace):  # noqa: ANN001, ANN202
        toolbox = Toolbox(workspace)
        searching.set()
        for name, query in SEARCHES.items():
            outcome[name] = (await toolbox.run("search", query)).text
        workspace.write("widgets/stack.py", STACK_IMPL)

    base = settings(database_url, fake.private_key_pem)
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL}, search_then_implement)
    async with BotHarness(settings_for(fake, base), fake, agent) as bot:
        await warm_up(bot, fake)
        label_an_issue(fake)
        settling = asyncio.create_task(bot.settle())
        await asyncio.wait_for(searching.wait(), timeout=SEARCH_START_TIMEOUT_SECONDS)
        started = time.monotonic()
        response = await post_delivery(bot.http, "ping", load_payload("ping"))
        outcome["ping_seconds"] = time.monotonic() - started
        outcome["ping_status"] = response.status_code
        answered.set()
        await settling
    return outcome


async def warm_up(bot: BotHarness, fake: FakeGitHub) -> None:
    """One session and one ping before the measured one: the first delivery of each event imports
    and builds its webhook models (seconds, on a loaded machine) on the event loop, which would
    otherwise be counted in the ping's time."""
    await post_delivery(bot.http, "ping", load_payload("ping"))
    label_an_issue(fake)
    await bot.settle()


def label_an_issue(fake: FakeGitHub) -> None:
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")


def main(directory: str) -> None:
    database_url = f"sqlite+aiosqlite:///{Path(directory) / 'bot.sqlite3'}"
    migrate(database_url)
    print(json.dumps(asyncio.run(scenario(database_url))))


if __name__ == "__main__":
    main(sys.argv[1])
