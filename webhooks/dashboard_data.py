"""What the dashboard shows, read from the sessions tables and always scoped to what the viewer
may see (the repositories GitHub says they can access, or everything for the operator's token):
the list, its repository filter, each session's page and its transcripts all start from `scoped`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.attempts import Meaning, Row, meaning_of
from bot.core.budget import recent_months
from bot.core.record import SessionRecord
from bot.core.usage import Usage
from bot.core.orchestrator import Status
from bot.ops.queries import decode_transcript
from bot.store.models import Interaction, Session
from bot.store.spend import monthly_spend
from webhooks.spend_chart import SpendChart, spend_chart
from webhooks.viewer import Viewer

PAGE_SIZE = 50
SPEND_MONTHS = 6
MAX_TRANSCRIPT_CHARS = 400_000
SHA = re.compile(r"[0-9a-f]{7,64}")


def scoped(viewer: Viewer) -> Select[tuple[Session]]:
    query = select(Session)
    if viewer.repository_ids is not None:
        # Inlined (integers only): a person in large organizations can have more repositories than
        # a database accepts bound parameters in one statement.
        ids = bindparam("repository_ids", sorted(viewer.repository_ids), expanding=True, literal_execute=True)
        query = query.where(Session.repository_id.in_(ids))
    return query


# -- the list ------------------------------------------------------------------------------------
@dataclass
class SessionRow:
    session: Session
    current_step: str | None
    current_meaning: Meaning | None  # what the latest step attempt meant: running, tests failed…

    @property
    def tokens(self) -> int:
        return Usage.of(self.session).total


@dataclass
class SessionList:
    rows: list[SessionRow]
    page: int
    has_next: bool
    repositories: list[str]


async def list_sessions(db: AsyncSession, viewer: Viewer, *, status: str | None, repository: str | None,
                        page: int) -> SessionList:
    query = scoped(viewer)
    if status:
        query = query.where(Session.status == status)
    if repository:
        query = query.where(Session.repository_full_name == repository)
    found = list(await db.scalars(query.order_by(Session.id.desc()).offset((page - 1) * PAGE_SIZE)
                                  .limit(PAGE_SIZE + 1)))
    sessions = found[:PAGE_SIZE]
    steps = await current_steps(db, [s.id for s in sessions])
    rows = [SessionRow(s, *steps.get(s.id, (None, None))) for s in sessions]
    return SessionList(rows, page, len(found) > PAGE_SIZE, await repositories(db, viewer))


async def current_steps(db: AsyncSession, session_ids: list[int]) -> dict[int, tuple[str, Meaning]]:
    """Each session's latest step interaction (signals aside), and what it meant."""
    if not session_ids:
        return {}
    latest = (select(Interaction.session_id, func.max(Interaction.seq).label("seq"))
              .where(Interaction.session_id.in_(session_ids), Interaction.status != Status.received.value)
              .group_by(Interaction.session_id).subquery())
    rows = await db.execute(
        select(Interaction.session_id, Interaction.step, Interaction.status, Interaction.result)
        .join(latest, and_(Interaction.session_id == latest.c.session_id, Interaction.seq == latest.c.seq)))
    return {row.session_id: (row.step, Meaning.running if row.status == Status.started.value else meaning_of(row))
            for row in rows}


async def repositories(db: AsyncSession, viewer: Viewer) -> list[str]:
    query = scoped(viewer).with_only_columns(Session.repository_full_name).distinct()
    return sorted(await db.scalars(query))


async def spend_overview(db: AsyncSession, viewer: Viewer, *, repository: str | None,
                         now: datetime) -> SpendChart | None:
    """Spend per repository over the last months, for the repositories the viewer may see."""
    months = recent_months(now, SPEND_MONTHS)
    totals = await monthly_spend(db, months, repository_ids=viewer.repository_ids, repository=repository)
    return spend_chart([label for label, _ in months], totals)


# -- one session ---------------------------------------------------------------------------------
@dataclass
class TimelineRow:
    """One step attempt (its start and end paired) or one signal, coloured by what it meant."""

    row: Row
    result_json: str | None

    @property
    def error(self) -> str | None:
        return self.row.ended.error if self.row.ended is not None else None


@dataclass
class StepUsage:
    step: str
    attempts: int
    usage: Usage


@dataclass
class Commit:
    seq: int
    step: str
    sha: str
    url: str


@dataclass
class CheckRun:
    seq: int
    head_sha: str
    name: str
    conclusion: str | None
    passed: bool
    url: str | None


@dataclass
class Transcript:
    seq: int
    step: str
    text: str


@dataclass
class SessionDetail:
    session: Session
    timeline: list[TimelineRow]
    commits: list[Commit]
    checks: list[CheckRun]
    usage: list[StepUsage]
    transcripts: list[Transcript] = field(default_factory=list)
    token_budget: int | None = None  # the repository's token_budget, as the session read it

    @property
    def tokens(self) -> int:
        return Usage.of(self.session).total


async def session_detail(db: AsyncSession, viewer: Viewer, session_id: int, html_url: str) -> SessionDetail | None:
    session = await db.scalar(scoped(viewer).where(Session.id == session_id))
    if session is None:
        return None
    interactions = list(await db.scalars(select(Interaction).where(Interaction.session_id == session_id)
                                         .order_by(Interaction.seq)))
    repo_url, record = f"{html_url}/{session.repository_full_name}", SessionRecord(interactions)
    return SessionDetail(
        session=session,
        timeline=[TimelineRow(row, result_json(dict(row.entry.result or {})) if row.ended else None)
                  for row in record.attempts()],
        commits=commits_of(interactions, repo_url),
        checks=checks_of(record),
        usage=usage_by_step(record),
        transcripts=[Transcript(i.seq, i.step, readable_transcript(i.transcript))
                     for i in interactions if i.transcript],
        token_budget=record.config.token_budget,
    )


def result_json(result: dict[str, Any] | None) -> str | None:
    return json.dumps(result, indent=2, sort_keys=True, default=str)[:20_000] if result else None


def commits_of(interactions: Sequence[Interaction], repo_url: str) -> list[Commit]:
    return [Commit(i.seq, i.step, i.commit_sha, f"{repo_url}/commit/{i.commit_sha}")
            for i in interactions if i.commit_sha and SHA.fullmatch(i.commit_sha)]


def checks_of(record: SessionRecord) -> list[CheckRun]:
    """The check runs RunTests recorded, newest results last."""
    return [CheckRun(entry.seq, tests.head_sha or "", str(check.get("name", "?")), check.get("conclusion"),
                     bool(check.get("passed")), safe_url(check.get("url")))
            for entry, tests in record.test_runs() for check in tests.checks if isinstance(check, dict)]


def safe_url(url: object) -> str | None:
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def usage_by_step(record: SessionRecord) -> list[StepUsage]:
    return [StepUsage(step, attempts, usage) for step, (attempts, usage) in record.usage_by_step().items()]


def readable_transcript(blob: bytes) -> str:
    """The stored transcript, pretty-printed (the page escapes it); bounded in size."""
    text = json.dumps(decode_transcript(blob), indent=2, ensure_ascii=False, default=str)
    if len(text) > MAX_TRANSCRIPT_CHARS:
        return text[:MAX_TRANSCRIPT_CHARS] + "\n… (cut: the transcript is larger than the page shows)"
    return text
