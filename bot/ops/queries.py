"""What the operator's commands read and change: sessions and deliveries, straight from the database.

`component-bot sessions …` and `deliveries …` (bot/cli/operators.py) call these, then print the result as a
table, as text, or as JSON. Changing a session only ever appends a signal, as a maintainer's
`/retry` or `/stop` would; the running `serve` acts on it (its runner sweeps for such signals).
"""

from __future__ import annotations

import getpass
import json
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from bot.core.orchestrator import Signal, Status
from bot.core.record import SessionRecord
from bot.core.usage import Usage
from bot.store import sessions as store
from bot.store.models import FINAL_STATUSES, Delivery, DeliveryOutcome, Interaction, Session, SessionStatus, utcnow

MAX_TRANSCRIPT_BYTES = 8 * 1024 * 1024  # decompressed; a larger transcript is cut, never inflated whole
ACTIVE = "active"  # every status that is not final


class OpsError(Exception):
    """The operator asked for something that cannot be done; the message is one line."""


# ----- sessions: reading


async def list_sessions(db: async_sessionmaker[AsyncSession], *, status: str | None = None,
                        repository: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest sessions first, each with its current (or last) step."""
    query = select(Session).order_by(Session.id.desc()).limit(limit)
    if status == ACTIVE:
        query = query.where(Session.status.not_in(FINAL_STATUSES))
    elif status:
        query = query.where(Session.status == status)
    if repository:
        query = query.where(func.lower(Session.repository_full_name) == repository.lower())
    async with db() as s:
        sessions = list(await s.scalars(query))
        steps = await last_steps(s, [session.id for session in sessions])
    return [session_summary(session, *steps.get(session.id, (None, None))) for session in sessions]


async def last_steps(s: AsyncSession, session_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Each session's latest step interaction (signals skipped): (step, started|succeeded|failed)."""
    if not session_ids:
        return {}
    latest = (select(Interaction.session_id, func.max(Interaction.seq).label("seq"))
              .where(Interaction.session_id.in_(session_ids), Interaction.status != Status.received.value)
              .group_by(Interaction.session_id).subquery())
    rows = await s.execute(
        select(Interaction.session_id, Interaction.step, Interaction.status)
        .join(latest, and_(Interaction.session_id == latest.c.session_id, Interaction.seq == latest.c.seq)))
    return {session_id: (step, status) for session_id, step, status in rows}


def session_summary(session: Session, step: str | None, step_status: str | None) -> dict[str, Any]:
    return {
        "id": session.id,
        "repository": session.repository_full_name,
        "issue": session.issue_number,
        "component": session.component_name,
        "status": session.status,
        "status_reason": session.status_reason,
        "step": step,
        "step_status": step_status,
        "fix_iterations": session.fix_iterations,
        "tokens": tokens_of(session),
        "cost_usd": round(session.cost_usd or 0.0, 6),
        "pr_number": session.pr_number,
        "branch": session.branch,
        "head_sha": session.head_sha,
        "trigger": session.trigger,
        "triggered_by": session.triggered_by,
        "created_at": session.created_at.isoformat(),
        "updated_at": session.updated_at.isoformat(),
    }


def tokens_of(row: Session | Interaction) -> dict[str, int]:
    usage = Usage.of(row)
    return {**usage.by_kind(), "total": usage.total}


async def load_session(db: async_sessionmaker[AsyncSession], session_id: int, *,
                       transcripts: bool = False) -> tuple[Session, list[Interaction]]:
    async with db() as s:
        session = await store.get_session(s, session_id)
        if session is None:
            raise OpsError(f"no session {session_id}")
        query = select(Interaction).where(Interaction.session_id == session_id).order_by(Interaction.seq)
        if not transcripts:
            query = query.options(defer(Interaction.transcript))
        interactions = list(await s.scalars(query))
    return session, interactions


def session_record(session: Session, interactions: Sequence[Interaction], *,
                   transcripts: bool = False) -> dict[str, Any]:
    """The session's record: what it changed, committed and saw, what it cost, and its timeline."""
    record = SessionRecord(interactions)
    last = record.last_finished()
    summary = session_summary(session, last.step if last else None, last.status if last else None)
    tests = record.tests() if record.test_runs() else None
    return {
        **summary,
        "design_path": session.design_path,
        "test_path": session.test_path,
        "base_sha": session.base_sha,
        "files": record.files_changed(),
        "commits": [{"seq": e.seq, "step": e.step, "sha": e.commit_sha, "at": e.created_at.isoformat()}
                    for e in record.commits()],
        "checks": {key: value for key, value in tests.to_dict().items() if key in CHECK_KEYS} if tests else None,
        "usage": {**summary["tokens"], "cost_usd": summary["cost_usd"]},
        "timeline": [timeline_entry(i, transcripts=transcripts) for i in interactions],
    }


CHECK_KEYS = ("state", "head_sha", "checks", "failed_checks", "failing_tests", "pre_existing", "reason", "note")


def timeline_entry(interaction: Interaction, *, transcripts: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seq": interaction.seq,
        "at": interaction.created_at.isoformat(),
        "step": interaction.step,
        "status": interaction.status,
        "kind": "signal" if interaction.status == Status.received else "step",
    }
    if interaction.status != Status.received:
        entry["attempt"] = interaction.attempt
    for key, value in (("input", interaction.input), ("result", interaction.result),
                       ("commit_sha", interaction.commit_sha), ("error", interaction.error)):
        if value:
            entry[key] = value
    tokens = tokens_of(interaction)
    if tokens["total"]:
        entry["usage"] = {**tokens, "cost_usd": round(interaction.cost_usd or 0.0, 6)}
    if transcripts and interaction.transcript:
        entry["transcript"] = decode_transcript(interaction.transcript)
    return entry


def decode_transcript(blob: bytes) -> list[Any]:
    """A stored transcript (zlib-compressed JSON), inflated up to a bound."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(blob, MAX_TRANSCRIPT_BYTES)
        if inflater.unconsumed_tail:
            return [{"type": "note", "text": f"transcript larger than {MAX_TRANSCRIPT_BYTES} bytes; not shown"}]
        decoded = json.loads(data)
    except (zlib.error, ValueError):
        return [{"type": "note", "text": "transcript unreadable"}]
    return decoded if isinstance(decoded, list) else [decoded]


# ----- sessions: signals


async def retry_session(db: async_sessionmaker[AsyncSession], session_id: int) -> Session:
    """Record a `retry` signal, reopening a failed or cancelled session first (as `/retry` does)."""
    session, _ = await load_session(db, session_id)
    if session.status == SessionStatus.completed.value:
        raise OpsError(f"session {session_id} is completed; there is nothing to retry")
    if SessionStatus(session.status).is_final and session.pruned_at is not None:
        raise OpsError(f"session {session_id} was pruned on {session.pruned_at:%Y-%m-%d} (its history is gone): "
                       "start a new session on the issue")
    if SessionStatus(session.status).is_final and not await store.reopen_session(db, session):
        raise OpsError(f"session {session_id} cannot be reopened: {session.repository_full_name}"
                       f"#{session.issue_number} has another active session")
    await store.append_interaction(db, session_id, Signal.retry.value, Status.received.value, input=signal_origin())
    return session


async def cancel_session(db: async_sessionmaker[AsyncSession], session_id: int) -> Session:
    """Record a `stop` signal (as `/stop` does)."""
    session, _ = await load_session(db, session_id)
    if SessionStatus(session.status).is_final:
        raise OpsError(f"session {session_id} is already {session.status}")
    await store.append_interaction(db, session_id, Signal.stop.value, Status.received.value, input=signal_origin())
    return session


def signal_origin() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment (some containers)
        user = "operator"
    return {"by": user, "via": "cli"}


# ----- deliveries


async def list_deliveries(db: async_sessionmaker[AsyncSession], *, failed: bool = False,
                          since: timedelta | None = None, limit: int = 50,
                          now: datetime | None = None) -> list[dict[str, Any]]:
    """The newest recorded deliveries first (payloads are never read)."""
    query = select(Delivery).options(defer(Delivery.payload)).order_by(Delivery.id.desc()).limit(limit)
    if failed:
        query = query.where(Delivery.outcome == DeliveryOutcome.failed.value)
    if since is not None:
        query = query.where(Delivery.received_at >= (now or utcnow()) - since)
    async with db() as s:
        deliveries = list(await s.scalars(query))
    return [delivery_summary(d) for d in deliveries]


def delivery_summary(delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "action": delivery.action,
        "repository": delivery.repository_full_name,
        "installation_id": delivery.installation_id,
        "sender": delivery.sender_login,
        "received_at": delivery.received_at.isoformat(),
        "processed_at": delivery.processed_at.isoformat() if delivery.processed_at else None,
        "outcome": delivery.outcome,
        "error": delivery.error,
        "model_error": delivery.model_error,
    }
