"""The `component-bot` command and the package's layering."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

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
    code = (
        "import sys, pkgutil, importlib, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'): importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'starlette', 'uvicorn', 'webhooks'})\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
