"""What a session shows on GitHub: the status comment on its issue, the `component-bot` check run
on its head commit, the issue's state label, and a comment that asks people for attention. All
best effort: a failure to show something is logged and never stops the session. The session
remembers what it last showed (hashed), so nothing is sent that GitHub shows already."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.config import Settings
from bot.core.orchestrator import Step
from bot.core.record import SessionRecord
from bot.github import checkrun
from bot.github.client import GitHubApps
from bot.github.comments import Comments
from bot.github.errors import best_effort
from bot.github.repository import Repository
from bot.render.status import (
    attention_marker,
    render_attention,
    render_status,
    status_comment_url,
    status_headline,
    status_marker,
)
from bot.render.timeline import render_timeline
from bot.store.models import Session, SessionStatus

Save = Callable[..., Awaitable[None]]
CREATING = "creating"  # the status comment is about to be created: it may exist after a crash
STATE_LABEL = {
    SessionStatus.running.value: "component:in-progress",
    SessionStatus.waiting_for_checks.value: "component:in-progress",
    SessionStatus.paused.value: "component:in-progress",
    SessionStatus.needs_human.value: "component:needs-human",
    SessionStatus.awaiting_review.value: "component:ready",
    SessionStatus.completed.value: "component:implemented",
}
CONCLUSIONS = {
    SessionStatus.awaiting_review.value: "success",
    SessionStatus.completed.value: "success",
    SessionStatus.needs_human.value: "neutral",
    SessionStatus.cancelled.value: "neutral",
    SessionStatus.failed.value: "failure",
}


class Publisher:
    def __init__(self, apps: GitHubApps, settings: Settings) -> None:
        self.apps, self.settings = apps, settings

    def repository(self, session: Session) -> Repository:
        return self.apps.repository(session.installation_id, session.repository_full_name)

    async def comments(self, session: Session) -> Comments:
        return await self.repository(session).comments()

    async def status(self, session: Session, record: SessionRecord, current: str | None, save: Save) -> None:
        """Show the session's state: the status comment (created the first time) and the check run,
        each sent only when what it shows changed; `save` remembers what was shown on the session."""
        body = render_status(session, record, max_fix_iterations=record.config.max_fix_iterations,
                             html_base=self.settings.html_url, current=current)
        if digest(body) != session.status_digest:
            async with best_effort("update the status comment"):
                may_exist = session.status_digest == CREATING  # an earlier attempt may have posted it
                if session.status_comment_id is None and session.status_digest is None:
                    await save(status_digest=CREATING)
                comment_id = await (await self.comments(session)).publish(
                    session.issue_number, status_marker(session.id), body, session.status_comment_id,
                    may_exist=may_exist)
                await save(status_comment_id=comment_id, status_digest=digest(body))
        async with best_effort("update the component-bot check run"):
            await self.check_run(session, record, current, save)

    async def check_run(self, session: Session, record: SessionRecord, current: str | None, save: Save) -> None:
        """Our check run on the head: created once per head commit, updated when it changed."""
        if not session.head_sha or not session.pr_number:
            return  # before the first commit, the head is the default branch's: not ours to mark
        body: dict = {"external_id": f"session-{session.id}",
                      "output": {"title": status_headline(session, current)[:250],
                                 "summary": check_summary(session, record)[:checkrun.MAX_TEXT]}}
        url = status_comment_url(session, self.settings.html_url)
        if url:
            body["details_url"] = url
        conclusion = CONCLUSIONS.get(session.status)
        body.update(status="completed", conclusion=conclusion) if conclusion else body.update(status="in_progress")
        shown = digest(json.dumps(body, sort_keys=True))
        same_head = session.check_run_sha == session.head_sha
        if same_head and shown == session.check_run_digest:
            return
        if conclusion:
            body["completed_at"] = checkrun.now_iso()
        gh, head = self.apps.installation(session.installation_id), session.head_sha
        if same_head and session.check_run_id:
            await checkrun.update_check_run(gh, session.owner, session.repo, session.check_run_id, body)
            await save(check_run_digest=shown)
            return
        if not same_head:  # remembered before it is created, so a retry looks for it instead of making another
            await save(check_run_sha=head, check_run_id=None, check_run_digest=None)
        run_id = await checkrun.create_check_run(gh, session.owner, session.repo, head, self.settings.app_id, body,
                                                 may_exist=same_head)
        await save(check_run_id=run_id, check_run_digest=shown)

    async def complete_superseded(self, session: Session, new_head: str) -> None:
        """The check run of the head the session moved past: completed, neutral, pointing to the new one."""
        if not session.check_run_id or session.check_run_sha == new_head:
            return
        async with best_effort("complete the previous check run"):
            await checkrun.complete_superseded(self.apps.installation(session.installation_id), session.owner,
                                               session.repo, session.check_run_id, new_head)

    async def label(self, session: Session, status: str) -> dict[str, Any]:
        """The issue's state label follows the session; set only when it changes."""
        wanted = STATE_LABEL.get(status)
        if wanted == session.state_label:
            return {}
        async with best_effort("set the issue's state label"):
            await self.repository(session).set_state_label(session.issue_number, wanted)
            return {"state_label": wanted}
        return {}

    async def ask_for_attention(self, session: Session, record: SessionRecord, status: str, reason: str,
                                number: int) -> None:
        """A new comment on the PR, or on the issue before there is one (editing the status comment
        notifies nobody); once per stop."""
        marker = attention_marker(session.id, record.entries[-1].seq if record.entries else 0)
        async with best_effort("ask for attention"):
            await (await self.comments(session)).post_once(number, marker,
                                                           render_attention(session, record, status, reason))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_summary(session: Session, record: SessionRecord) -> str:
    """The timeline, after what Finalize verified of the spec (when it has run)."""
    spec = (record.last_result(Step.Finalize) or {}).get("spec")
    timeline = render_timeline(session, record.entries)
    return f"{spec}\n\n{timeline}" if spec else timeline
