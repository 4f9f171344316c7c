"""The documented contract, as a black box: `component-bot serve` in its own process, configured
only through its environment, against a fake GitHub and a fake Claude served over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from githubkit.webhooks import sign

from tests.fakes.anthropic import FakeAnthropic
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL, make_fake

SECRET = "blackbox-webhook-secret-31f"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL") is not None, reason="runs once, on SQLite")
def test_serve_from_environment_to_draft_pull_request(tmp_path):
    github = make_fake()
    claude = FakeAnthropic()
    claude.tool_use("str_replace_based_edit_tool",
                    {"command": "create", "path": "widgets/stack.py", "file_text": STACK_IMPL}, text="Writing it.")
    claude.reply("Implemented Stack in widgets/stack.py.")
    port = free_port()
    bot_url = f"http://127.0.0.1:{port}"

    async def deliver(event: str, payload: dict) -> int:
        body = json.dumps(payload).encode()
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()), "Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(SECRET, body, "sha256")}
        async with httpx.AsyncClient() as http:
            return (await http.post(f"{bot_url}/api/github/webhooks", content=body, headers=headers)).status_code

    with serve(github.app) as github_url, claude.serve() as claude_url:
        env = {**os.environ, "APP_ID": str(github.app_id), "PRIVATE_KEY": github.private_key_pem.replace("\n", "\\n"),
               "WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": github_url, "ANTHROPIC_API_KEY": "sk-ant-blackbox-key-000",
               "ANTHROPIC_BASE_URL": claude_url, "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "LOG_FORMAT": "json"}
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port",
                                    str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: _healthy(bot_url), what="/healthz")
            github.webhook_sink = deliver
            issue = github.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
            github.label_issue(REPO, issue.number, "implement-component", by="maria")
            pending = list(github.pending_webhooks)
            github.pending_webhooks.clear()
            for delivery in pending:
                body = json.dumps(delivery.payload).encode()
                response = httpx.post(f"{bot_url}/api/github/webhooks", content=body, headers={
                    "X-GitHub-Event": delivery.event, "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": sign(SECRET, body, "sha256"), "Content-Type": "application/json"})
                assert response.status_code == 202
            try:
                wait_for(lambda: len(github.repo(REPO).pulls) == 1, what="the draft pull request")
            except AssertionError:
                process.terminate()
                raise AssertionError(process.communicate(timeout=20)[1].decode()[-6000:]) from None
        finally:
            if process.poll() is None:
                process.terminate()
            _, stderr = process.communicate(timeout=20)

    [pull] = github.repo(REPO).pulls.values()
    assert pull.draft
    assert github.tree_files(REPO, pull.head_ref)["widgets/stack.py"] == STACK_IMPL
    assert claude.requests, "the bot asked Claude"
    logs = stderr.decode()
    for secret in (SECRET, "sk-ant-blackbox-key-000", github.private_key_pem.splitlines()[1]):
        assert secret not in logs
    assert "ghs_" not in logs
    assert all(json.loads(line) for line in logs.splitlines() if line.startswith("{"))


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
