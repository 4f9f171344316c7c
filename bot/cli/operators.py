"""The operator's commands: `sessions`, `deliveries`, `redeliver` and `prune`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.arguments import duration, positive_int, redelivery_window, retention_window, session_id
from bot.cli.common import as_json, emit, operator_settings, prepare
from bot.config import Settings, load_settings
from bot.github.client import GitHubApps
from bot.ops import queries as ops
from bot.ops import views as opsview
from bot.ops.queries import ACTIVE
from bot.ops.redeliver import RedeliveryReport, redeliver_failed
from bot.store.db import create_engine, session_factory
from bot.store.models import SessionStatus
from bot.store.retention import PruneReport, prune


def add_commands(commands: Any) -> None:
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


def run_with_db(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        engine = create_engine(settings.database_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


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
