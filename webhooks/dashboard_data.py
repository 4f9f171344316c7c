"""What the dashboard shows, read from the sessions tables and always scoped to what the viewer
may see (the repositories GitHub says they can access, or everything for the operator's token):
the list, its repository filter, each session's page and its transcripts all start from `scoped`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.record import SessionRecord
from bot.core.usage import Usage
from bot.ops.queries import decode_transcript, last_steps
from bot.store.models import Interaction, Session
from webhooks.viewer import Viewer

PAGE_SIZE = 50
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
    current_status: str | None

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
    steps = await last_steps(db, [s.id for s in sessions])
    rows = [SessionRow(s, *steps.get(s.id, (None, None))) for s in sessions]
    return SessionList(rows, page, len(found) > PAGE_SIZE, await repositories(db, viewer))


async def repositories(db: AsyncSession, viewer: Viewer) -> list[str]:
    query = scoped(viewer).with_only_columns(Session.repository_full_name).distinct()
    return sorted(await db.scalars(query))


# -- one session ---------------------------------------------------------------------------------
@dataclass
class TimelineRow:
    interaction: Interaction
    summary: str
    result_json: str | None


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


async def session_detail(db: AsyncSession, viewer: Viewer, session_id: int, html_url: str) -> SessionDetail | None:
    session = await db.scalar(scoped(viewer).where(Session.id == session_id))
    if session is None:
        return None
    interactions = list(await db.scalars(select(Interaction).where(Interaction.session_id == session_id)
                                         .order_by(Interaction.seq)))
    repo_url = f"{html_url}/{session.repository_full_name}"
    return SessionDetail(
        session=session,
        timeline=[TimelineRow(i, summarize(i), result_json(i.result)) for i in interactions],
        commits=commits_of(interactions, repo_url),
        checks=checks_of(SessionRecord(interactions)),
        usage=usage_by_step(SessionRecord(interactions)),
        transcripts=[Transcript(i.seq, i.step, readable_transcript(i.transcript))
                     for i in interactions if i.transcript],
    )


def summarize(interaction: Interaction) -> str:
    """One line saying what a step did or what a signal was."""
    result, parts = interaction.result or {}, []
    if "state" in result:
        parts.append(str(result["state"]))
    if result.get("failed_checks"):
        parts.append("failed: " + ", ".join(map(str, result["failed_checks"])))
    elif isinstance(result.get("checks"), list):
        parts.append(f"{len(result['checks'])} check(s)")
    for key in ("reason", "note"):
        if result.get(key):
            parts.append(str(result[key]))
    if result.get("files"):
        parts.append(f"{len(result['files'])} file(s)")
    if result.get("pr_number"):
        parts.append(f"PR #{result['pr_number']}")
    if result.get("merged"):
        parts.append("merged")
    if interaction.commit_sha:
        parts.append(f"commit {interaction.commit_sha[:7]}")
    if not parts and interaction.input:
        parts.extend(f"{k}: {v}" for k, v in interaction.input.items() if k in {"by", "reason", "event", "command"})
    return " · ".join(parts)[:300]


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
