"""The `component-bot` command and the package's layering."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
import sys

import pytest

from bot import __version__
from bot.cli import main


def test_version(capsys):
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == f"component-bot {__version__}"


def test_migrate_creates_the_schema(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0, "migrating twice is harmless"
    tables = {row[0] for row in sqlite3.connect(tmp_path / "bot.db").execute("SELECT name FROM sqlite_master")}
    assert {"deliveries", "alembic_version"} <= tables


def test_engine_never_imports_the_web_framework():
    """Every module of bot/ but the CLI (a composition root, which starts the web app) imports
    without FastAPI, Starlette, uvicorn or webhooks/."""
    code = (
        "import sys, importlib, pathlib\n"
        "root = pathlib.Path('bot')\n"
        "for path in sorted(root.rglob('*.py')):\n"
        "    parts = path.with_suffix('').parts\n"
        "    if parts[1:2] != ('cli',): importlib.import_module('.'.join(p for p in parts if p != '__init__'))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'starlette', 'uvicorn', 'webhooks'})\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr


def test_prune_needs_a_window_of_at_least_a_day(capsys):
    for argv, message in ((["prune"], "required: --older-than"),
                          (["prune", "--older-than", "30m"], "'30m' is too short: prune keeps at least 1d"),
                          (["prune", "--older-than", "a month"], "invalid duration 'a month'")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and message in err and err.count("\n") == 1, err


def test_the_pruned_marker_migrates_up_and_down(tmp_path):
    from alembic import command

    from bot.store.db import alembic_config, migrate

    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"

    def session_columns() -> set[str]:
        return {row[1] for row in sqlite3.connect(tmp_path / "bot.db").execute("PRAGMA table_info(sessions)")}

    migrate(url)
    assert "pruned_at" in session_columns()
    command.downgrade(alembic_config(url), "0003")
    assert "pruned_at" not in session_columns() and "request" in session_columns()
    migrate(url)
    assert "pruned_at" in session_columns()


@pytest.mark.parametrize("argv", [["worker"], ["serve", "--no-worker"]])
def test_workers_and_web_only_processes_need_postgresql(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    assert main(argv) == 2
    assert "needs DATABASE_URL on PostgreSQL" in capsys.readouterr().err


def test_a_worker_refuses_a_queue_that_does_not_exist(monkeypatch, capsys, private_key_pem):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("APP_ID", "1")
    monkeypatch.setenv("PRIVATE_KEY", private_key_pem)
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-for-the-cli-test")
    assert main(["worker", "--queues", "sessions,chores"]) == 2
    assert "unknown queue 'chores'" in capsys.readouterr().err
