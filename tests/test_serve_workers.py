"""`component-bot serve --workers N`: several web processes on PostgreSQL, refused where one
process has to do everything; and the event loop and HTTP parser `serve` runs on."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from bot.cli import main
from bot.cli.serve import event_loop_and_parser
from tests.conftest import POSTGRES_URL
from tests.webhook_helpers import WEBHOOK_PATH, WEBHOOK_SECRET, delivery_headers, load_payload


def test_serve_runs_on_uvloop_and_httptools():
    assert event_loop_and_parser() == {"loop": "uvloop", "http": "httptools"}


@pytest.mark.parametrize("argv, message", [
    (["serve", "--workers", "2"], "--workers needs DATABASE_URL on PostgreSQL"),
    (["serve", "--workers", "0"], "--workers must be at least 1"),
])
def test_several_web_processes_need_postgresql(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_several_web_processes_need_the_app_registered_and_no_redelivery(tmp_path, monkeypatch, capsys,
                                                                          private_key_pem):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/never-reached")
    for name in ("APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert "needs the GitHub App registered" in capsys.readouterr().err
    monkeypatch.setenv("APP_ID", "1")
    monkeypatch.setenv("PRIVATE_KEY", private_key_pem)
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-for-the-cli-test")
    assert main(["serve", "--workers", "2", "--redeliver-failed"]) == 2
    assert "--redeliver-failed runs in one process" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(POSTGRES_URL is None, reason="several web processes run on PostgreSQL (TEST_DATABASE_URL)")
def test_two_web_processes_record_and_queue_every_delivery(database_url, tmp_path, private_key_pem):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ID": "1", "PRIVATE_KEY": private_key_pem,
           "WEBHOOK_SECRET": WEBHOOK_SECRET, "GITHUB_API_URL": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--no-worker", "--workers", "2", "--host",
                                "127.0.0.1", "--port", str(port)], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (len(children_of(process.pid)) >= 2 and _healthy(url)):
            assert process.poll() is None, process.communicate()[0].decode()[-4000:]
            time.sleep(0.2)
        assert len(children_of(process.pid)) >= 2, "two worker processes"
        body = json.dumps(load_payload("issues.labeled")).encode()

        async def deliver_all() -> list[int]:
            async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_keepalive_connections=0)) as http:
                answers = await asyncio.gather(*(http.post(WEBHOOK_PATH, content=body,
                                                           headers=delivery_headers("issues", body, f"w-{i}"))
                                                 for i in range(40)))
                again = await http.post(WEBHOOK_PATH, content=body, headers=delivery_headers("issues", body, "w-0"))
            return [a.status_code for a in answers] + [again.status_code]

        statuses = asyncio.run(deliver_all())
        assert statuses == [202] * 40 + [200]
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output[-4000:]
    with psycopg.connect("postgresql://" + database_url.split("://", 1)[1]) as conn:
        rows = {r[0] for r in conn.execute("SELECT delivery_id FROM deliveries")}
        jobs = [r[0] for r in conn.execute("SELECT args->>'delivery_id' FROM procrastinate_jobs "
                                           "WHERE task_name = 'process_delivery'")]
    assert rows == {f"w-{i}" for i in range(40)}
    assert sorted(jobs) == sorted(rows)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
