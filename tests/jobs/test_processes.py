"""Scaled out, as a black box: `serve --no-worker` and `worker` processes on one PostgreSQL database,
against the fake GitHub and a fake Claude over real HTTP; one worker killed (SIGKILL) mid-step."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager

import httpx
import pytest
from githubkit.webhooks import sign

from tests.conftest import POSTGRES_URL
from tests.fakes.anthropic import FakeAnthropic, ScriptedError
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL, commits_on, make_fake, status_comments
from tests.test_serve_blackbox import free_port, serve, wait_for
from tests.webhook_helpers import FIXTURES

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="workers run on PostgreSQL (TEST_DATABASE_URL)")
SECRET = "processes-webhook-secret-7d2"
PASSING_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()


def script_generate(claude: FakeAnthropic) -> None:
    claude.tool_use("str_replace_based_edit_tool",
                    {"command": "create", "path": "widgets/stack.py", "file_text": STACK_IMPL}, text="Writing it.")
    claude.reply("Implemented Stack in widgets/stack.py.")


class Cluster:
    """The processes, their environment, and the web processes' URLs in turn."""

    def __init__(self, github_url: str, claude_url: str, github, tmp_path, database_url: str) -> None:
        self.env = {**os.environ, "APP_ID": str(github.app_id),
                    "PRIVATE_KEY": github.private_key_pem.replace("\n", "\\n"), "WEBHOOK_SECRET": SECRET,
                    "GITHUB_API_URL": github_url, "ANTHROPIC_API_KEY": "sk-ant-processes-key-000",
                    "ANTHROPIC_BASE_URL": claude_url, "DATABASE_URL": database_url, "LOG_FORMAT": "json",
                    "WORKER_CONCURRENCY": "4"}
        self.tmp_path = tmp_path
        self.processes: dict[str, subprocess.Popen] = {}
        self.web_urls: list[str] = []
        self._next_web = None

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], env=self.env, cwd=self.tmp_path,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def web(self, name: str) -> None:
        port = free_port()
        self.start(name, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: healthy(url), what=f"{name} /healthz")
        self.web_urls.append(url)
        self._next_web = itertools.cycle(self.web_urls)

    async def deliver(self, event: str, payload: dict) -> int:
        body = json.dumps(payload).encode()
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                   "Content-Type": "application/json", "X-Hub-Signature-256": sign(SECRET, body, "sha256")}
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{next(self._next_web)}/api/github/webhooks", content=body, headers=headers)
        assert response.status_code in (200, 202), response.text
        return response.status_code

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n" + (self.tmp_path / f"{name}.log").read_text()[-4000:]
                         for name in self.processes)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def cluster(tmp_path, database_url):
    github, claude = make_fake(), FakeAnthropic()
    with ExitStack() as stack:
        github_url = stack.enter_context(serve(github.app))
        github.logs_base_url = github_url
        claude_url = stack.enter_context(claude.serve())
        processes = Cluster(github_url, claude_url, github, tmp_path, database_url)
        github.webhook_sink = processes.deliver
        try:
            yield processes, github, claude
        except BaseException:
            print(processes.logs())
            raise
        finally:
            processes.stop()


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def deliver_pending(github) -> None:
    """The fake GitHub queues its webhooks; hand them to the web processes."""
    import asyncio

    asyncio.run(github.deliver_webhooks())


def label(github) -> int:
    issue = github.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    github.label_issue(REPO, issue.number, "implement-component", by="maria")
    deliver_pending(github)
    return issue.number


def finish_checks(github) -> None:
    [pull] = github.repo(REPO).pulls.values()
    github.add_check_run(REPO, github.repo(REPO).branches[pull.head_ref], "test", "completed", "success",
                         log=PASSING_LOG)
    deliver_pending(github)


def ready(github) -> bool:
    pulls = list(github.repo(REPO).pulls.values())
    return len(pulls) == 1 and not pulls[0].draft


def test_two_web_processes_and_two_workers_take_a_session_to_a_ready_pull_request(tmp_path, database_url):
    with cluster(tmp_path, database_url) as (processes, github, claude):
        script_generate(claude)
        processes.web("web-1")
        processes.web("web-2")
        processes.start("worker-1", "worker")
        processes.start("worker-2", "worker")
        number = label(github)
        wait_for(lambda: len(github.repo(REPO).pulls) == 1, timeout=60, what="the draft pull request")
        finish_checks(github)
        wait_for(lambda: ready(github), timeout=60, what="the pull request ready for review")
    [pull] = github.repo(REPO).pulls.values()
    assert len(commits_on(github, pull.head_ref)) == 1
    assert len(status_comments(github, number)) == 1
    assert all(p.returncode in (0, -signal.SIGTERM) for p in processes.processes.values()), processes.logs()


def test_a_worker_killed_mid_step_loses_nothing_and_duplicates_nothing(tmp_path, database_url):
    with cluster(tmp_path, database_url) as (processes, github, claude):
        processes.web("web-1")
        processes.web("web-2")
        victim = processes.start("worker-1", "worker")
        killed_at: list[float] = []

        def kill_the_worker_mid_step(request):
            os.kill(victim.pid, signal.SIGKILL)  # the step is waiting for Claude: it dies right here
            killed_at.append(time.monotonic())
            return ScriptedError.build(529, "the worker is gone")

        claude.turn_fn(kill_the_worker_mid_step)
        script_generate(claude)
        number = label(github)
        wait_for(lambda: killed_at, timeout=60, what="the generate step on worker-1")
        processes.start("worker-2", "worker")
        wait_for(lambda: len(github.repo(REPO).pulls) == 1, timeout=90, what="the session resumed on worker-2")
        resumed_after = time.monotonic() - killed_at[0]
        finish_checks(github)
        wait_for(lambda: ready(github), timeout=60, what="the pull request ready for review")
    [pull] = github.repo(REPO).pulls.values()
    assert len(commits_on(github, pull.head_ref)) == 1
    assert len(status_comments(github, number)) == 1
    print(f"resumed {resumed_after:.1f} s after the kill")
    assert resumed_after < 60, f"resumed {resumed_after:.0f} s after the kill"
