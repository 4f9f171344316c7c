"""GitHub calls per session: the happy path (label → ready PR, green at the first commit) and a
session with one fix, against the fake GitHub, with the agent scripted (no model calls).

Every request the bot sends to the fake GitHub is attributed to what the bot was doing when it
sent it (the webhook handler, or the step of the session, from the bot's own log context) and
named by its REST operation or GraphQL root field. GraphQL points are the fake's, computed as
GitHub documents. Prints the tables and writes them to results.md. See README.md.

    /work/venv/bin/python benchmarks/github_calls/bench.py
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bot.config import Settings  # noqa: E402
from bot.telemetry.logs import ContextFilter  # noqa: E402
from tests.fakes.agent import ScriptedAgent  # noqa: E402
from tests.fakes.github import API_HOST, FakeGitHub  # noqa: E402
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL, BotHarness, make_fake, settings_for  # noqa: E402
from tests.webhook_helpers import FIXTURES, WEBHOOK_SECRET  # noqa: E402

RED_LOG = (FIXTURES / "logs" / "actions_job_pytest.log").read_text()
GREEN_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()
REQUEST_LINE = re.compile(r'HTTP Request: (?P<method>[A-Z]+) (?P<url>\S+) "HTTP/[\d.]+ (?P<status>\d+)')


@dataclass(frozen=True)
class Call:
    phase: str
    method: str
    operation: str
    status: int


class Recorder(logging.Handler):
    """Collects httpx's request log lines with the bot's log context (session step or delivery)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str, str, int]] = []
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        match = REQUEST_LINE.search(record.getMessage())
        if match is None:
            return
        step = getattr(record, "step", None)
        phase = step or ("webhook" if getattr(record, "delivery_id", None) else
                         "runner" if getattr(record, "session_id", None) else "other")
        self.lines.append((phase, match["method"], match["url"], int(match["status"])))


def operation_of(fake: FakeGitHub, method: str, url: str, graphql_bodies: list[str]) -> str:
    path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
    if path == "/graphql":
        query = graphql_bodies.pop(0) if graphql_bodies else ""
        fields = re.findall(r"\b(\w+)\s*(?:\(|\{)", re.sub(r"^\s*(query|mutation)[^{]*\{", "", query))
        kind = "mutation" if query.lstrip().startswith("mutation") else "query"
        return f"graphql {kind} {fields[0] if fields else '?'}"
    matched = fake.spec.match(method, path)
    return matched[0].operation_id if matched else f"{method} {path}"


async def session(settings: Settings, *, fix: bool) -> tuple[list[Call], int]:
    fake = make_fake()
    scripts = [{"widgets/stack.py": "class Stack:\n    pass\n"}, {"widgets/stack.py": STACK_IMPL}] if fix \
        else [{"widgets/stack.py": STACK_IMPL}]
    recorder = Recorder()
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.addHandler(recorder)
    httpx_logger.setLevel(logging.INFO)
    try:
        async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent(*scripts)) as bot:
            issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
            fake.label_issue(REPO, issue.number, "implement-component", by="maria")
            await bot.settle()
            if fix:
                fake.add_check_run(REPO, (await bot.session()).head_sha, "test", "completed", "failure", log=RED_LOG)
                await bot.settle()
            fake.add_check_run(REPO, (await bot.session()).head_sha, "test", "completed", "success", log=GREEN_LOG)
            await bot.settle()
            assert (await bot.session()).status == "awaiting_review", (await bot.session()).status_reason
    finally:
        httpx_logger.removeHandler(recorder)
    bodies = [c.json.get("query", "") for c in fake.calls if c.path == "/graphql" and isinstance(c.json, dict)]
    calls = [Call(phase, method, operation_of(fake, method, url, bodies), status)
             for phase, method, url, status in recorder.lines
             if API_HOST in url or "/graphql" in url]
    return calls, fake.graphql_points


def table(calls: list[Call]) -> list[str]:
    by_operation = Counter(c.operation for c in calls)
    lines = ["| operation | calls |", "|---|--:|"]
    lines += [f"| `{op}` | {n} |" for op, n in by_operation.most_common()]
    return lines


def timeline(calls: list[Call]) -> list[str]:
    lines = ["| # | while | call | status |", "|--:|---|---|--:|"]
    lines += [f"| {i} | {c.phase} | `{c.operation}` | {c.status} |" for i, c in enumerate(calls, 1)]
    return lines


async def main() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    import tempfile

    from bot.store.db import migrate

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    out = ["# GitHub calls per session", "",
           "Measured by `benchmarks/github_calls/bench.py` against the fake GitHub, the agent scripted. "
           "Every REST request and GraphQL document counts as one call (the redirect to a job log's "
           "storage host is not a GitHub API call and is not counted).", ""]
    for name, fix in (("Happy path (green at the first commit)", False), ("One fix iteration", True)):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
            await asyncio.to_thread(migrate, url)
            settings = Settings(_env_file=None, app_id=1, private_key=key, webhook_secret=WEBHOOK_SECRET,
                                database_url=url, anthropic_api_key="sk-ant-bench-0000000000")
            calls, points = await session(settings, fix=fix)
        out += [f"## {name}: {len(calls)} calls, {points} GraphQL points", "", *table(calls), "",
                "<details><summary>Every call, in order</summary>", "", *timeline(calls), "", "</details>", ""]
    text = "\n".join(out)
    print(text)
    (HERE / "results.md").write_text(text)


if __name__ == "__main__":
    asyncio.run(main())
