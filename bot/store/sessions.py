"""Queries on sessions and interactions.

Everything reached from a webhook is looked up by (installation id, repository id) taken from the
verified payload, so one repository's events can never read or change another's session.
Interactions are only ever appended, redacted as they are written; retention deletes those of
finished sessions once they are old (`prunable_session_ids` and below, used by bot/retention.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telemetry.logs import redact_data
from bot.store.models import FINAL_STATUSES, Interaction, Session, SessionStatus, utcnow

REDACTED_FIELDS = ("input", "result", "error")  # what an interaction holds that came from outside


@dataclass(frozen=True)
class Scope:
    """Where an event came from, as GitHub signed it."""

    installation_id: int
    repository_id: int
    repository_full_name: str


def active_key(repository_id: int, issue_number: int) -> str:
    return f"{repository_id}#{issue_number}"


async def create_session(db: async_sessionmaker[AsyncSession], scope: Scope, issue_number: int, *,
                         trigger: str, triggered_by: str, trigger_key: str | None = None,
                         request: dict[str, Any] | None = None, node_ids: dict[str, str] | None = None
                         ) -> Session | None:
    """A new running session, or None when the issue already has an active one (or this very
    trigger already started one)."""
    session = Session(
        installation_id=scope.installation_id,
        repository_id=scope.repository_id,
        repository_full_name=scope.repository_full_name,
        issue_number=issue_number,
        active_key=active_key(scope.repository_id, issue_number),
        status=SessionStatus.running.value,
        trigger=trigger,
        triggered_by=triggered_by,
        trigger_key=trigger_key,
        request=redact_data(request) if request is not None else None,
        fix_iterations=0, input_tokens=0, output_tokens=0, cache_write_tokens=0, cache_read_tokens=0,
        cost_usd=0.0,
        repository_node_id=(node_ids or {}).get("repository") or None,
        issue_node_id=(node_ids or {}).get("issue") or None,
    )
    async with db() as s:
        s.add(session)
        try:
            await s.commit()
        except IntegrityError:
            return None
    return session


def _scoped(scope: Scope):  # noqa: ANN202 - a SQLAlchemy select
    return select(Session).where(
        Session.installation_id == scope.installation_id, Session.repository_id == scope.repository_id
    )


async def active_for_issue(s: AsyncSession, scope: Scope, issue_number: int) -> Session | None:
    return await s.scalar(_scoped(scope).where(Session.active_key == active_key(scope.repository_id, issue_number)))


async def latest_for_issue(s: AsyncSession, scope: Scope, issue_number: int) -> Session | None:
    return await s.scalar(
        _scoped(scope).where(Session.issue_number == issue_number).order_by(Session.id.desc()).limit(1)
    )


async def trigger_seen(s: AsyncSession, scope: Scope, key: str) -> bool:
    """Whether this trigger (a comment, a labelling) already started or resumed a session here."""
    started = await s.scalar(_scoped(scope).where(Session.trigger_key == key).limit(1))
    if started is not None:
        return True
    resumed = await s.scalar(
        select(Interaction.id).join(Session, Session.id == Interaction.session_id)
        .where(Session.installation_id == scope.installation_id, Session.repository_id == scope.repository_id,
               Interaction.input["key"].as_string() == key).limit(1))
    return resumed is not None


async def update_request(db: async_sessionmaker[AsyncSession], session_id: int, request: dict[str, Any]) -> None:
    await update_session(db, session_id, request=redact_data(request))


async def for_pull_request(s: AsyncSession, scope: Scope, pr_number: int) -> Session | None:
    return await s.scalar(_scoped(scope).where(Session.pr_number == pr_number).order_by(Session.id.desc()).limit(1))


async def waiting_on_sha(s: AsyncSession, scope: Scope, head_sha: str) -> Sequence[Session]:
    rows = await s.scalars(_scoped(scope).where(Session.head_sha == head_sha, Session.active_key.is_not(None)))
    return rows.all()


async def active_in_repository(s: AsyncSession, scope: Scope) -> Sequence[Session]:
    return (await s.scalars(_scoped(scope).where(Session.active_key.is_not(None)).order_by(Session.id))).all()


async def running_on_branch(s: AsyncSession, scope: Scope, branch: str) -> Sequence[Session]:
    rows = await s.scalars(_scoped(scope).where(Session.branch == branch, Session.active_key.is_not(None),
                                                Session.status == SessionStatus.running.value))
    return rows.all()


async def get_session(s: AsyncSession, session_id: int) -> Session | None:
    return await s.get(Session, session_id, populate_existing=True)


async def unfinished_session_ids(s: AsyncSession) -> Sequence[int]:
    rows = await s.scalars(select(Session.id).where(Session.status.not_in(FINAL_STATUSES)).order_by(Session.id))
    return rows.all()


async def sessions_with_status(s: AsyncSession, status: SessionStatus) -> Sequence[Session]:
    return (await s.scalars(select(Session).where(Session.status == status.value).order_by(Session.id))).all()


async def interactions_of(s: AsyncSession, session_id: int, *, before_seq: int | None = None) -> list[Interaction]:
    query = select(Interaction).where(Interaction.session_id == session_id)
    if before_seq is not None:
        query = query.where(Interaction.seq < before_seq)
    return list((await s.scalars(query.order_by(Interaction.seq))).all())


async def append_interaction(db: async_sessionmaker[AsyncSession], session_id: int, step: str, status: str,
                             *, dedupe_key: str | None = None, **fields: Any) -> Interaction | None:
    """Append with the next sequence number; a concurrent append makes us take the one after.

    With `dedupe_key` (a comment's or review's id), nothing is appended when an interaction with
    that key is already recorded: None. The key is looked up after the sequence number is read:
    a concurrent append of the same key either committed before the look-up (found) or takes the
    same number (the unique constraint refuses one, which retries and finds the other).

    `input`, `result` and `error` are stored redacted (bot/logs.py: every registered secret and
    token shape), whatever they carry: CI reports, replies, GitHub's answers."""
    if dedupe_key is not None:
        fields["input"] = {**(fields.get("input") or {}), "key": dedupe_key}
    for name in REDACTED_FIELDS:
        if fields.get(name) is not None:
            fields[name] = redact_data(fields[name])
    for _ in range(20):
        async with db() as s:
            seq = (await s.scalar(
                select(func.coalesce(func.max(Interaction.seq), 0)).where(Interaction.session_id == session_id)
            )) + 1
            if dedupe_key is not None and await _has_key(s, session_id, dedupe_key):  # after the number: see above
                return None
            row = Interaction(session_id=session_id, seq=seq, step=step, status=status, created_at=utcnow(),
                              input_tokens=0, output_tokens=0, cache_write_tokens=0, cache_read_tokens=0,
                              cost_usd=0.0, attempt=1)
            for key, value in fields.items():
                setattr(row, key, value)
            s.add(row)
            try:
                await s.commit()
                return row
            except IntegrityError:
                continue
    raise RuntimeError(f"could not append an interaction to session {session_id}")


async def _has_key(s: AsyncSession, session_id: int, key: str) -> bool:
    found = await s.scalar(select(Interaction.id).where(
        Interaction.session_id == session_id, Interaction.input["key"].as_string() == key).limit(1))
    return found is not None


async def claim_lease(db: async_sessionmaker[AsyncSession], session_id: int, owner: str, ttl: timedelta) -> bool:
    """Take the session's lease if nobody holds a live one: the per-session lock of the runner.

    One conditional UPDATE, atomic on SQLite and PostgreSQL alike.
    """
    now = utcnow()
    async with db() as s, s.begin():
        result = await s.execute(
            update(Session)
            .where(Session.id == session_id,
                   or_(Session.lease_owner.is_(None), Session.lease_until < now))
            .values(lease_owner=owner, lease_until=now + ttl, version=Session.version + 1)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


async def renew_lease(db: async_sessionmaker[AsyncSession], session_id: int, owner: str, ttl: timedelta) -> bool:
    async with db() as s, s.begin():
        result = await s.execute(
            update(Session).where(Session.id == session_id, Session.lease_owner == owner)
            .values(lease_until=utcnow() + ttl).execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


async def release_lease(db: async_sessionmaker[AsyncSession], session_id: int, owner: str) -> None:
    async with db() as s, s.begin():
        await s.execute(
            update(Session).where(Session.id == session_id, Session.lease_owner == owner)
            .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False)
        )


async def leases_held_by(s: AsyncSession, prefix: str) -> list[tuple[int, str]]:
    """(session id, holder) of the leases whose holder starts with `prefix`."""
    rows = await s.execute(select(Session.id, Session.lease_owner).where(Session.lease_owner.startswith(prefix)))
    return [(row[0], row[1]) for row in rows]


async def lease_of(s: AsyncSession, session_id: int) -> tuple[str | None, datetime | None]:
    row = (await s.execute(select(Session.lease_owner, Session.lease_until).where(Session.id == session_id))).first()
    return (row[0], row[1]) if row else (None, None)


async def update_session(db: async_sessionmaker[AsyncSession], session_id: int, **values: Any) -> None:
    """Set columns of a session (the runner's bookkeeping); a final status also frees its issue."""
    status = values.get("status")
    if status is not None and SessionStatus(status).is_final:
        values["active_key"] = None
    async with db() as s, s.begin():
        await s.execute(
            update(Session).where(Session.id == session_id)
            .values(**values, updated_at=utcnow(), version=Session.version + 1)
            .execution_options(synchronize_session=False)
        )


async def reopen_session(db: async_sessionmaker[AsyncSession], session: Session) -> bool:
    """Make a failed or cancelled session active again; False if another session holds the issue,
    or if retention pruned it: its interactions, the orchestrator's only input, are gone.

    One conditional UPDATE, as `mark_pruned`'s: of a reopening and a pruning, the first to commit wins.
    """
    try:
        async with db() as s, s.begin():
            result = await s.execute(
                update(Session).where(Session.id == session.id, Session.pruned_at.is_(None))
                .values(status=SessionStatus.running.value, status_reason=None,
                        active_key=active_key(session.repository_id, session.issue_number),
                        updated_at=utcnow(), version=Session.version + 1)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        return False
    return result.rowcount == 1


# ----- retention (bot/retention.py)


def _idle_since(cutoff: datetime):  # noqa: ANN202 - a SQL condition on Session
    """Finished, and nothing happened to it since `cutoff`: no change to the row, no interaction."""
    recent = exists().where(Interaction.session_id == Session.id, Interaction.created_at >= cutoff)
    return and_(Session.status.in_(FINAL_STATUSES), Session.updated_at < cutoff, ~recent)


def _prunable(cutoff: datetime):  # noqa: ANN202 - a SQL condition on Session
    return and_(_idle_since(cutoff), exists().where(Interaction.session_id == Session.id))


async def prunable_session_ids(s: AsyncSession, cutoff: datetime, *, after: int = 0,
                               limit: int = 500) -> Sequence[int]:
    """Finished sessions idle since `cutoff` that still have interactions; ids above `after`, in order."""
    rows = await s.scalars(select(Session.id).where(_prunable(cutoff), Session.id > after)
                           .order_by(Session.id).limit(limit))
    return rows.all()


async def count_prunable(s: AsyncSession, cutoff: datetime) -> tuple[int, int]:
    """How many sessions `prunable_session_ids` would give, and how many interactions they hold."""
    ids = select(Session.id).where(_prunable(cutoff))
    sessions = await s.scalar(select(func.count()).select_from(ids.subquery()))
    interactions = await s.scalar(select(func.count(Interaction.id)).where(Interaction.session_id.in_(ids)))
    return sessions or 0, interactions or 0


async def mark_pruned(db: async_sessionmaker[AsyncSession], session_ids: Sequence[int],
                      cutoff: datetime) -> list[int]:
    """Mark those of `session_ids` still finished and idle since `cutoff` as pruned; the ids marked.

    From then on `reopen_session` refuses them, so their interactions can be deleted safely.
    `updated_at` keeps the time of the session's last activity."""
    async with db() as s, s.begin():
        marked = await s.scalars(
            update(Session).where(Session.id.in_(session_ids), _idle_since(cutoff))
            .values(pruned_at=utcnow(), updated_at=Session.updated_at, version=Session.version + 1)
            .returning(Session.id).execution_options(synchronize_session=False)
        )
        return sorted(marked.all())


async def delete_interactions_of(db: async_sessionmaker[AsyncSession], session_ids: Sequence[int], *,
                                 batch_size: int = 1000) -> int:
    """Delete every interaction of these (pruned) sessions, `batch_size` rows per transaction."""
    batch = (select(Interaction.id).where(Interaction.session_id.in_(session_ids))
             .order_by(Interaction.id).limit(batch_size))
    return await delete_in_batches(db, delete(Interaction).where(Interaction.id.in_(batch)), batch_size)


async def delete_in_batches(db: async_sessionmaker[AsyncSession], statement: Any, batch_size: int) -> int:
    """Run a DELETE whose WHERE picks at most `batch_size` rows until it deletes fewer; how many it deleted.

    Each batch is its own short transaction: a large backlog never holds the write lock for long."""
    deleted = 0
    while True:
        async with db() as s, s.begin():
            count = (await s.execute(statement.execution_options(synchronize_session=False))).rowcount
        deleted += count
        if count < batch_size:
            return deleted


async def count_by_status(db: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Sessions by status, every status present (zero when none)."""
    async with db() as s:
        rows = (await s.execute(select(Session.status, func.count()).group_by(Session.status))).all()
    counts = {status.value: 0 for status in SessionStatus}
    counts.update({status: count for status, count in rows})
    return counts
