"""The `component-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
from githubkit.exception import RequestError, RequestFailed
from sqlalchemy.exc import DBAPIError

from bot import __version__
from bot.ops import queries as ops
from bot.ops import views as opsview
from bot.config import ConfigError, Settings, load_settings
from bot.telemetry.logs import configure_logging, redact, register_secret
from bot.ops.queries import ACTIVE, OpsError
from bot.ops.redeliver import MAX_WINDOW, DurationError, RedeliveryReport, parse_duration, redeliver_failed
from bot.store.models import SessionStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.store.retention import PruneReport

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="component-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="apply migrations, then serve the webhook endpoint")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.add_argument("--redeliver-failed", action="store_true",
                       help="once up, ask GitHub to redeliver the webhooks that failed to reach us (an outage)")
    serve.add_argument("--since", type=redelivery_window, default=timedelta(hours=1), metavar="DURATION",
                       help="with --redeliver-failed: how far back to look (default 1h, at most 3d)")
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.set_defaults(handler=cmd_migrate)

    version = commands.add_parser("version", help="print the version")
    version.set_defaults(handler=cmd_version)
    add_operator_commands(commands)
    return parser


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def add_operator_commands(commands: Any) -> None:
    sessions = commands.add_parser("sessions", help="list, show, retry or cancel sessions")
    actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the newest sessions, one per line")
    listing.add_argument("--status", choices=[*(s.value for s in SessionStatus), ACTIVE],
                         help=f"only this status ({ACTIVE}: every unfinished one)")
    listing.add_argument("--repository", metavar="OWNER/REPO")
    listing.add_argument("--limit", type=positive_int, default=50)
    listing.add_argument("--json", action="store_true", help="a JSON array, for scripts")
    listing.set_defaults(handler=cmd_sessions_list)
    show = actions.add_parser("show", help="one session's record and timeline")
    show.add_argument("id", type=session_id, metavar="ID")
    show.add_argument("--json", action="store_true", help="a JSON object, for scripts")
    show.add_argument("--transcript", action="store_true", help="also each step's agent transcript")
    show.set_defaults(handler=cmd_sessions_show)
    for name, help_text in (("retry", "carry on from the failed or waiting step (reopens a failed session)"),
                            ("cancel", "stop the session, as /stop does")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("id", type=session_id, metavar="ID")
        action.set_defaults(handler=cmd_sessions_signal, signal=name)

    deliveries = commands.add_parser("deliveries", help="the webhook deliveries we recorded")
    delivery_actions = deliveries.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = delivery_actions.add_parser("list", help="the newest deliveries, one per line")
    listing.add_argument("--failed", action="store_true", help="only those whose handler failed")
    listing.add_argument("--since", type=duration, metavar="DURATION",
                         help="only those received in the last 30m, 1h, 2d…")
    listing.add_argument("--limit", type=positive_int, default=50)
    listing.add_argument("--json", action="store_true", help="a JSON array, for scripts")
    listing.set_defaults(handler=cmd_deliveries_list)

    redeliver = commands.add_parser("redeliver", help="ask GitHub to redeliver the webhooks that failed to reach us")
    redeliver.add_argument("--since", type=redelivery_window, default=timedelta(hours=1), metavar="DURATION",
                           help="how far back to look (default 1h, at most 3d)")
    redeliver.add_argument("--dry-run", action="store_true", help="only list what would be redelivered")
    redeliver.add_argument("--json", action="store_true", help="a JSON object, for scripts")
    redeliver.set_defaults(handler=cmd_redeliver)

    prune = commands.add_parser("prune", help="delete old processed deliveries and finished sessions' history")
    prune.add_argument("--older-than", type=retention_window, required=True, metavar="DURATION",
                       help="what was last active longer ago than this (e.g. 30d, 12w; at least 1d) is removed")
    prune.add_argument("--dry-run", action="store_true", help="only count what would be removed")
    prune.add_argument("--json", action="store_true", help="a JSON object, for scripts")
    prune.set_defaults(handler=cmd_prune)


# ----- argument types (their errors become one line through Parser.error)


def duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def redelivery_window(text: str) -> timedelta:
    window = duration(text)
    if window > MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"{text!r} is too far back: GitHub redelivers the past 3 days only")
    return window


MIN_RETENTION = timedelta(days=1)


def retention_window(text: str) -> timedelta:
    """At least a day: `30m` is 30 minutes, and a window that short would empty nearly everything."""
    window = duration(text)
    if window < MIN_RETENTION:
        raise argparse.ArgumentTypeError(f"{text!r} is too short: prune keeps at least 1d (30m means minutes)")
    return window


def session_id(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a session id: {text!r}")
    return int(text)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return int(text)


def prepare(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)
    for secret in (settings.private_key, settings.webhook_secret, settings.anthropic_api_key,
                   settings.github_client_secret, settings.dashboard_token):
        if secret is not None:
            register_secret(secret.get_secret_value())


def cmd_version(args: argparse.Namespace) -> int:
    print(f"component-bot {__version__}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.store.db import migrate

    settings = load_settings()
    prepare(settings)
    migrate(settings.database_url)
    log.info("database is at the latest migration")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.store.db import migrate
    from webhooks.app import create_app

    settings = load_settings()
    if settings.github_app_partly_configured:
        settings.require_github_app()  # some App settings but not all: say which is missing
    prepare(settings)
    migrate(settings.database_url)
    if not settings.github_app_configured:
        log.warning("the GitHub App is not registered yet (no APP_ID, PRIVATE_KEY, WEBHOOK_SECRET): setup mode; "
                    "the link to register it, with its one-time token, follows in this log")
    if settings.anthropic_api_key is None:
        log.warning("ANTHROPIC_API_KEY is not set: sessions will fail at the first step that needs Claude")
    options = {"host": args.host, "port": args.port, "access_log": args.access_log, "log_config": None,
               "proxy_headers": True, "server_header": False}
    if not args.redeliver_failed:
        uvicorn.run(create_app(settings), **options)
        return 0
    # As uvicorn.run does, with the redelivery started beside the server once it is up.
    config = uvicorn.Config(create_app(settings), **options)
    server = uvicorn.Server(config)
    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as loop:
            loop.run(serve(server, config.app, args.since))
    except KeyboardInterrupt:
        pass
    return 0 if server.started else 3  # uvicorn's exit status when the app failed to start


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


# ----- sessions and deliveries


def run_with_db(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[Any]]) -> Any:
    from bot.store.db import create_engine, session_factory

    async def run() -> Any:
        engine = create_engine(settings.database_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def operator_settings() -> Settings:
    settings = load_settings()
    prepare(settings)
    return settings


def emit(text: str) -> None:
    print(redact(text))


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def cmd_sessions_list(args: argparse.Namespace) -> int:
    rows = run_with_db(operator_settings(), lambda db: ops.list_sessions(
        db, status=args.status, repository=args.repository, limit=args.limit))
    emit(as_json(rows) if args.json else opsview.sessions_table(rows))
    return 0


def cmd_sessions_show(args: argparse.Namespace) -> int:
    session, interactions = run_with_db(operator_settings(),
                                        lambda db: ops.load_session(db, args.id, transcripts=args.transcript))
    record = ops.session_record(session, interactions, transcripts=args.transcript)
    if args.json:
        emit(as_json(record))
    else:
        emit(opsview.session_text(record) + ("\n\n" + opsview.transcripts_text(record) if args.transcript else ""))
    return 0


def cmd_sessions_signal(args: argparse.Namespace) -> int:
    change = ops.retry_session if args.signal == "retry" else ops.cancel_session
    session = run_with_db(operator_settings(), lambda db: change(db, args.id))
    what = "retry" if args.signal == "retry" else "stop"
    emit(f"session {session.id} ({session.repository_full_name}#{session.issue_number}): {what} recorded; "
         "a running `component-bot serve` acts on it within a minute, otherwise at its next start")
    return 0


def cmd_deliveries_list(args: argparse.Namespace) -> int:
    rows = run_with_db(operator_settings(), lambda db: ops.list_deliveries(
        db, failed=args.failed, since=args.since, limit=args.limit))
    emit(as_json(rows) if args.json else opsview.deliveries_table(rows))
    return 0


# ----- redeliver


def cmd_redeliver(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require_github_app()
    prepare(settings)
    report = asyncio.run(redeliver(settings, args.since, args.dry_run, getattr(args, "github_transport", None)))
    emit(as_json(redelivery_json(report, args.dry_run)) if args.json else redelivery_text(report, args.dry_run))
    return 1 if report.errors else 0


async def redeliver(settings: Settings, window: timedelta, dry_run: bool,
                    transport: httpx.AsyncBaseTransport | None = None) -> RedeliveryReport:
    from bot.github.client import GitHubApps

    apps = GitHubApps(settings, transport=transport)
    async with apps.app:
        return await redeliver_failed(apps.app, window, dry_run=dry_run)


def redelivery_text(report: RedeliveryReport, dry_run: bool) -> str:
    since = report.since.isoformat(timespec="seconds")
    if not report.failed:
        return f"nothing to redeliver: none of the {report.scanned} deliveries since {since} is still failing"
    verb = "would redeliver" if dry_run else "redelivering"
    lines = [f"{verb} {len(report.failed)} failed delivery(ies) of {report.scanned} since {since}:"]
    errors = {d.guid: reason for d, reason in report.errors}
    for d in report.failed:
        outcome = f"  -> not redelivered: {errors[d.guid]}" if d.guid in errors else ""
        lines.append(f"  {d.guid}  {d.key}  {d.status_code or 'no response'} at "
                     f"{d.delivered_at.isoformat(timespec='seconds')} (attempt {d.id}){outcome}")
    if not dry_run:
        lines.append(f"redelivered {len(report.redelivered)}, refused {len(report.errors)}")
    return "\n".join(lines)


def redelivery_json(report: RedeliveryReport, dry_run: bool) -> dict[str, Any]:
    def item(d: Any) -> dict[str, Any]:
        return {"id": d.id, "guid": d.guid, "event": d.event, "action": d.action, "status_code": d.status_code,
                "delivered_at": d.delivered_at.isoformat()}

    return {"since": report.since.isoformat(), "dry_run": dry_run, "scanned": report.scanned,
            "failed": [item(d) for d in report.failed], "redelivered": [d.guid for d in report.redelivered],
            "errors": [{"guid": d.guid, "reason": reason} for d, reason in report.errors]}


# ----- prune


def cmd_prune(args: argparse.Namespace) -> int:
    from bot.store.retention import prune

    report = run_with_db(operator_settings(), lambda db: prune(db, args.older_than, dry_run=args.dry_run))
    emit(as_json(report.as_json()) if args.json else prune_text(report))
    return 0


def prune_text(report: PruneReport) -> str:
    """What was (or would be) removed, and what it means for the pruned sessions."""
    lines = [report.summary()]
    if report.sessions:
        lines.append("Their session rows stay (status, cost, PR), but a pruned session can no longer be retried "
                     "(/retry, `sessions retry`): start a new session on the issue instead.")
    if report.dry_run:
        lines.append("Nothing was deleted (--dry-run).")
    return "\n".join(lines)


def github_error(exc: BaseException) -> str:
    if isinstance(exc, RequestFailed):
        return f"GitHub answered {exc.response.status_code} to {exc.request.method} {exc.request.url.path}"
    return f"cannot reach GitHub ({type(exc).__name__})"


def database_error(exc: DBAPIError) -> str:
    detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    hint = " (has `component-bot migrate` run?)" if "no such table" in detail or "does not exist" in detail else ""
    return f"cannot read the database: {redact(detail)}{hint}"


def main(argv: Sequence[str] | None = None, *, github_transport: httpx.AsyncBaseTransport | None = None) -> int:
    """`github_transport` replaces the network to GitHub (tests pass the fake GitHub's)."""
    args = build_parser().parse_args(argv)
    args.github_transport = github_transport
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"component-bot: {exc}", file=sys.stderr)
        return 2
    except (OpsError, DurationError) as exc:
        print(f"component-bot: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"component-bot: {database_error(exc)}", file=sys.stderr)
        return 1
    except (RequestFailed, RequestError, httpx.HTTPError) as exc:
        print(f"component-bot: {github_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
