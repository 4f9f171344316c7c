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


# What each call is for, by the operation (REST operation id, or the GraphQL root fields).
PURPOSES = [
    (r"apps/create-installation-access-token", "the installation token (reused until a minute before it expires)"),
    (r"repos/get-collaborator-permission-level", "may the sender steer: write access (REST only)"),
    (r"reactions/create-for", "👀 on the trigger, at once"),
    (r"apps/get-authenticated", "the App's login, once per process (to tell our push from a person's)"),
    (r"graphql query repository\(id\+defaultBranchRef", "Initialize: default branch, config, design, tests, "
     "instructions, state labels and the branch, in one query"),
    (r"graphql query repository\((defaultBranchRef\+)?pullRequest", "Finalize: the PR, its files, the spec's blobs at base and head, the default branch's head"),
    (r"git/get-tree", "the branch's file list for the agent (once per writing step)"),
    (r"createRef\+createCommitOnBranch\+createPullRequest", "branch, commit and draft PR in one request"),
    (r"createCommitOnBranch", "the step's commit (signed by GitHub)"),
    (r"createLabel", "the status comment, and the state labels (first session in the repository)"),
    (r"addComment", "the status comment created (and the state label)"),
    (r"updateIssueComment", "status comment, check run, state label (and the PR when ready): one request"),
    (r"checks/list-for-ref", "the check runs of the head (once per wake), or of the base to attribute a failure"),
    (r"actions/download-job-logs", "a job's log: which tests ran, what failed"),
    (r"repos/compare-commits", "the change so far, as a diff for the agent"),
]


def purpose(operation: str) -> str:
    return next((text for pattern, text in PURPOSES if re.search(pattern, operation)), "")


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
        kind = "mutation" if query.lstrip().startswith("mutation") else "query"
        return f"graphql {kind} {'+'.join(root_fields(query, kind))}"
    matched = fake.spec.match(method, path)
    return matched[0].operation_id if matched else f"{method} {path}"


def root_fields(query: str, kind: str) -> list[str]:
    """The document's root fields; for a query, the repository's first fields too."""
    from graphql import parse

    operation = parse(query).definitions[0]
    names = [f.name.value for f in operation.selection_set.selections]
    if kind == "query" and names == ["repository"]:
        inner = operation.selection_set.selections[0].selection_set.selections
        return [f"repository({'+'.join(f.name.value for f in inner[:2])}…)"]
    return names


async def session(settings: Settings, *, fix: bool, second: bool = False) -> tuple[list[Call], int]:
    fake = make_fake()
    scripts = [{"widgets/stack.py": "class Stack:\n    pass\n"}, {"widgets/stack.py": STACK_IMPL}] if fix \
        else [{"widgets/stack.py": STACK_IMPL}]
    recorder = Recorder()
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.addHandler(recorder)
    httpx_logger.setLevel(logging.INFO)
    try:
        async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent(*scripts, *scripts)) as bot:
            if second:  # an earlier session in the same repository and process: labels exist, token cached
                await run_one(bot, fake, fix=False, issue_title="Implement the queue")
                recorder.lines.clear()
                fake.calls.clear()
                fake.graphql_points = 0
            await run_one(bot, fake, fix=fix)
    finally:
        httpx_logger.removeHandler(recorder)
    bodies = [c.json.get("query", "") for c in fake.calls if c.path == "/graphql" and isinstance(c.json, dict)]
    calls = [Call(phase, method, operation_of(fake, method, url, bodies), status)
             for phase, method, url, status in recorder.lines
             if API_HOST in url or "/graphql" in url]
    return calls, fake.graphql_points


async def run_one(bot: BotHarness, fake: FakeGitHub, *, fix: bool, issue_title: str = "Implement the stack") -> None:
    issue = fake.add_issue(REPO, issue_title, ISSUE_BODY, user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await bot.settle()
    if fix:
        await checks(bot, fake, "failure", RED_LOG)
    session = await checks(bot, fake, "success", GREEN_LOG)
    assert session.status == "awaiting_review", session.status_reason


async def checks(bot: BotHarness, fake: FakeGitHub, conclusion: str, log: str):  # noqa: ANN201 - a Session
    session = (await bot.sessions())[-1]
    fake.add_check_run(REPO, session.head_sha, "test", "completed", conclusion, log=log)
    await bot.settle()
    return (await bot.sessions())[-1]


def table(calls: list[Call]) -> list[str]:
    by_operation = Counter(c.operation for c in calls)
    lines = ["| operation | calls |", "|---|--:|"]
    lines += [f"| `{op}` | {n} |" for op, n in by_operation.most_common()]
    return lines


def timeline(calls: list[Call]) -> list[str]:
    lines = ["| # | while | call | for | status |", "|--:|---|---|---|--:|"]
    lines += [f"| {i} | {c.phase} | `{c.operation}` | {purpose(c.operation)} | {c.status} |"
              for i, c in enumerate(calls, 1)]
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
    scenarios = (("Happy path (green at the first commit), the repository's first session", False, False),
                 ("Happy path, a later session (labels exist, token cached)", False, True),
                 ("One fix iteration, the repository's first session", True, False))
    for name, fix, second in scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
            await asyncio.to_thread(migrate, url)
            settings = Settings(_env_file=None, app_id=1, private_key=key, webhook_secret=WEBHOOK_SECRET,
                                database_url=url, anthropic_api_key="sk-ant-bench-0000000000")
            calls, points = await session(settings, fix=fix, second=second)
        out += [f"## {name}: {len(calls)} calls, {points} GraphQL points", "", *table(calls), "",
                "Every call, in order:", "", *timeline(calls), ""]
    text = "\n".join(out)
    print(text)
    (HERE / "results.md").write_text(text)


if __name__ == "__main__":
    asyncio.run(main())
