"""What a session shows on GitHub: the status comment on its issue, the `component-bot` check run
on its head commit, the issue's state label, and a comment that asks people for attention. All
best effort: a failure to show something is logged and never stops the session."""

from __future__ import annotations

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
        return Repository(self.apps.installation(session.installation_id), session.repository_full_name,
                          self.apps.bot_login)

    async def comments(self, session: Session) -> Comments:
        return await self.repository(session).comments()

    async def status(self, session: Session, record: SessionRecord, current: str | None) -> int | None:
        """Edit the status comment (created the first time) and the check run; the comment's id."""
        body = render_status(session, record, max_fix_iterations=record.config.max_fix_iterations,
                             html_base=self.settings.html_url, current=current)
        comment_id = None
        async with best_effort("update the status comment"):
            comment_id = await (await self.comments(session)).publish(
                session.issue_number, status_marker(session.id), body, session.status_comment_id)
        async with best_effort("update the component-bot check run"):
            await self.check_run(session, record, current, comment_id or session.status_comment_id)
        return comment_id

    async def check_run(self, session: Session, record: SessionRecord, current: str | None,
                        comment_id: int | None) -> None:
        if not session.head_sha or not session.pr_number:
            return  # before the first commit, the head is the default branch's: not ours to mark
        body: dict = {"external_id": f"session-{session.id}",
                      "output": {"title": status_headline(session, current)[:250],
                                 "summary": check_summary(session, record)[:checkrun.MAX_TEXT]}}
        url = status_comment_url(session, self.settings.html_url, comment_id)
        if url:
            body["details_url"] = url
        conclusion = CONCLUSIONS.get(session.status)
        if conclusion is None:
            body["status"] = "in_progress"
        else:
            body.update(status="completed", conclusion=conclusion, completed_at=checkrun.now_iso())
        await checkrun.publish_check_run(self.apps.installation(session.installation_id), session.owner,
                                         session.repo, session.head_sha, self.settings.app_id, body)

    async def complete_superseded(self, session: Session, old_head: str, new_head: str) -> None:
        async with best_effort("complete the previous check run"):
            await checkrun.complete_superseded(self.apps.installation(session.installation_id), session.owner,
                                               session.repo, old_head, new_head, self.settings.app_id)

    async def label(self, session: Session, status: str) -> None:
        """The issue's state label follows the session."""
        async with best_effort("set the issue's state label"):
            await self.repository(session).set_state_label(session.issue_number, STATE_LABEL.get(status))

    async def ask_for_attention(self, session: Session, record: SessionRecord, status: str, reason: str,
                                number: int) -> None:
        """A new comment on the PR, or on the issue before there is one (editing the status comment
        notifies nobody); once per stop."""
        marker = attention_marker(session.id, record.entries[-1].seq if record.entries else 0)
        async with best_effort("ask for attention"):
            await (await self.comments(session)).post_once(number, marker,
                                                           render_attention(session, record, status, reason))


def check_summary(session: Session, record: SessionRecord) -> str:
    """The timeline, after what Finalize verified of the spec (when it has run)."""
    spec = (record.last_result(Step.Finalize) or {}).get("spec")
    timeline = render_timeline(session, record.entries)
    return f"{spec}\n\n{timeline}" if spec else timeline
