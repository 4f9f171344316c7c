"""`component-bot worker`: works the sessions' and deliveries' jobs (PostgreSQL), beside any number
of `serve --no-worker` processes and other workers."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from bot import __version__
from bot.cli.common import prepare
from bot.config import ConfigError, load_settings
from bot.jobs.queue import QUEUES, is_postgres
from bot.jobs.runtime import Runtime
from bot.store.db import migrate

log = logging.getLogger("bot")


def add_commands(commands: Any) -> None:
    worker = commands.add_parser("worker", help="work sessions and deliveries queued on PostgreSQL")
    worker.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="jobs at once (default WORKER_CONCURRENCY, 10); a session's step is one job")
    worker.add_argument("--queues", default=",".join(QUEUES), metavar="Q1,Q2",
                        help=f"which queues to work (default all: {','.join(QUEUES)})")
    worker.set_defaults(handler=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not is_postgres(settings.database_url):
        raise ConfigError("`component-bot worker` needs DATABASE_URL on PostgreSQL: on SQLite, `serve` runs the "
                          "sessions itself")
    settings.require_github_app()
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        raise ConfigError(f"unknown queue {unknown[0]!r} (the queues are {', '.join(QUEUES)})")
    prepare(settings)
    migrate(settings.database_url)
    concurrency = args.concurrency or settings.worker_concurrency
    try:
        asyncio.run(work(settings, concurrency, queues))
    except KeyboardInterrupt:
        pass
    return 0


async def work(settings: Any, concurrency: int, queues: list[str]) -> None:  # noqa: ANN401 - Settings
    async with Runtime.open(settings) as runtime:
        log.info("component-bot %s worker: %d job(s) at once, queues %s", __version__, concurrency, ",".join(queues))
        await runtime.run_worker(concurrency=concurrency, queues=queues, install_signal_handlers=True)
