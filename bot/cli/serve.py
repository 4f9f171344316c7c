"""`component-bot serve`, `migrate` and `version`."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from githubkit.exception import RequestError, RequestFailed

from bot import __version__
from bot.cli.arguments import redelivery_window
from bot.cli.common import github_error, prepare
from bot.config import ConfigError, Settings, load_settings
from bot.jobs.queue import is_postgres
from bot.ops.redeliver import RedeliveryReport, redeliver_failed
from bot.store.db import migrate
from webhooks.app import create_app

log = logging.getLogger("bot")


def add_commands(commands: Any) -> None:
    serve_command = commands.add_parser("serve", help="apply migrations, then serve the webhook endpoint")
    serve_command.add_argument("--host", default="0.0.0.0")
    serve_command.add_argument("--port", type=int, default=3000)
    serve_command.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve_command.add_argument("--no-worker", action="store_true",
                               help="PostgreSQL: only record deliveries and queue their jobs; `component-bot worker` "
                                    "processes run them")
    serve_command.add_argument("--workers", type=int, default=1, metavar="N",
                               help="PostgreSQL: N web processes sharing the port (default 1); on SQLite one "
                                    "process records, processes and runs everything")
    serve_command.add_argument("--redeliver-failed", action="store_true",
                               help="once up, ask GitHub to redeliver the webhooks that failed to reach us (an outage)")
    serve_command.add_argument("--since", type=redelivery_window, default=timedelta(hours=1), metavar="DURATION",
                               help="with --redeliver-failed: how far back to look (default 1h, at most 3d)")
    serve_command.set_defaults(handler=cmd_serve)
    commands.add_parser("migrate", help="apply database migrations and exit").set_defaults(handler=cmd_migrate)
    commands.add_parser("version", help="print the version").set_defaults(handler=cmd_version)


def cmd_version(args: argparse.Namespace) -> int:
    print(f"component-bot {__version__}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    prepare(settings)
    migrate(settings.database_url)
    log.info("database is at the latest migration")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.github_app_partly_configured:
        settings.require_github_app()  # some App settings but not all: say which is missing
    if args.no_worker and not is_postgres(settings.database_url):
        raise ConfigError("--no-worker needs DATABASE_URL on PostgreSQL: on SQLite, this process runs the sessions")
    check_workers(args, settings)
    prepare(settings)
    migrate(settings.database_url)
    if not settings.github_app_configured:
        log.warning("the GitHub App is not registered yet (no APP_ID, PRIVATE_KEY, WEBHOOK_SECRET): setup mode; "
                    "the link to register it, with its one-time token, follows in this log")
    if not settings.model_provider_configured:
        log.warning("ANTHROPIC_API_KEY is not set: sessions will fail at the first step that needs Claude")
    options = {"host": args.host, "port": args.port, "access_log": args.access_log, "log_config": None,
               "proxy_headers": True, "server_header": False, **event_loop_and_parser()}
    if args.workers > 1:
        # uvicorn's supervisor: it binds the port, then starts N processes that each build the app
        # from the environment (`web_app` or `full_app` below) and restarts any that dies.
        uvicorn.run(f"{__name__}:{'web_app' if args.no_worker else 'full_app'}", factory=True,
                    workers=args.workers, **options)
        return 0
    if not args.redeliver_failed:
        uvicorn.run(create_app(settings, worker=not args.no_worker, freeze_gc=True), **options)
        return 0
    # As uvicorn.run does, with the redelivery started beside the server once it is up.
    config = uvicorn.Config(create_app(settings, worker=not args.no_worker, freeze_gc=True), **options)
    server = uvicorn.Server(config)
    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as loop:
            loop.run(serve(server, config.app, args.since))
    except KeyboardInterrupt:
        pass
    return 0 if server.started else 3  # uvicorn's exit status when the app failed to start


def check_workers(args: argparse.Namespace, settings: Settings) -> None:
    """`--workers N` needs PostgreSQL (see README.md: on SQLite a second process would recover and
    process the first one's deliveries, and wait for SQLite's one writer), a registered App (the
    setup page registers it in the one process that served it) and no `--redeliver-failed`."""
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.workers == 1:
        return
    if not is_postgres(settings.database_url):
        raise ConfigError("--workers needs DATABASE_URL on PostgreSQL: on SQLite one process records, processes "
                          "and runs everything")
    if not settings.github_app_configured:
        raise ConfigError("--workers needs the GitHub App registered (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET): "
                          "register it with one process first")
    if args.redeliver_failed:
        raise ConfigError("--redeliver-failed runs in one process: run `component-bot redeliver` once the "
                          "server is up instead")


def event_loop_and_parser() -> dict[str, str]:
    """uvloop and httptools (uvicorn[standard] installs both on Linux): ~20% more throughput than
    asyncio and h11. uvicorn's "auto" picks the same; naming them makes the choice visible."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    if (loop, http) != ("uvloop", "httptools"):
        log.warning("serving with %s and %s: install uvicorn[standard] for uvloop and httptools", loop, http)
    return {"loop": loop, "http": http}


def worker_process_app(*, worker: bool) -> FastAPI:
    """The app of one of `serve --workers N`'s processes, from the same environment as the parent."""
    settings = load_settings()
    prepare(settings)
    return create_app(settings, worker=worker, freeze_gc=True)


def full_app() -> FastAPI:
    """`serve --workers N`: a web process that also works the queue's jobs."""
    return worker_process_app(worker=True)


def web_app() -> FastAPI:
    """`serve --workers N --no-worker`: a web process that only records deliveries and queues their jobs."""
    return worker_process_app(worker=False)


async def serve(server: Any, app: Any, redeliver_since: timedelta | None) -> None:
    """Run the uvicorn server; with `redeliver_since`, redeliver failed webhooks once it is up."""
    serving = asyncio.create_task(server.serve())
    redelivery = asyncio.create_task(redeliver_when_up(server, app, redeliver_since)) if redeliver_since else None
    try:
        await serving
    finally:
        if redelivery is not None:
            redelivery.cancel()
            await asyncio.gather(redelivery, return_exceptions=True)


async def redeliver_when_up(server: Any, app: Any, window: timedelta, poll: float = 0.1) -> RedeliveryReport | None:
    """Once the server accepts requests (so redeliveries land), ask GitHub to redeliver what failed."""
    while not server.started:
        if server.should_exit:
            return None
        await asyncio.sleep(poll)
    apps = getattr(app.state, "apps", None)
    if apps is None:
        log.warning("not redelivering failed webhooks: the GitHub App is not registered yet")
        return None
    try:
        report = await redeliver_failed(apps.app, window)
    except (RequestFailed, RequestError, httpx.HTTPError) as exc:
        log.warning("could not redeliver failed webhooks: %s", github_error(exc))
        return None
    log.info("redelivery on start: %d of %d deliveries since %s had failed; %d redelivered, %d refused",
             len(report.failed), report.scanned, report.since.isoformat(timespec="seconds"),
             len(report.redelivered), len(report.errors))
    return report
