"""The `component-bot` check run on the bot's head commit: the step timeline and usage where
reviewers look. In progress while the session works, completed (success, neutral or failure)
when it stops — always completed in the end, whatever happened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from githubkit import GitHub

from bot.store.models import Interaction, Session, SessionStatus
from bot.render.timeline import render_timeline

CHECK_NAME = "component-bot"
CONCLUSIONS = {
    SessionStatus.awaiting_review.value: "success",
    SessionStatus.completed.value: "success",
    SessionStatus.needs_human.value: "neutral",
    SessionStatus.cancelled.value: "neutral",
    SessionStatus.failed.value: "failure",
}
MAX_TEXT = 60_000  # GitHub caps output.summary and output.text at 65535 characters


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def find_check_run(gh: GitHub, session: Session, sha: str, app_id: int) -> dict | None:
    response = await gh.rest.checks.async_list_for_ref(session.owner, session.repo, sha, check_name=CHECK_NAME,
                                                       app_id=app_id, per_page=10)
    runs = response.json().get("check_runs") or []
    return max(runs, key=lambda r: r["id"]) if runs else None


async def publish_check_run(gh: GitHub, session: Session, interactions: Sequence[Interaction], *, app_id: int,
                            details_url: str | None, headline: str) -> None:
    if not session.head_sha or not session.pr_number:
        return  # before the first commit, the head is the default branch's: not ours to mark
    conclusion = CONCLUSIONS.get(session.status)
    body: dict = {
        "name": CHECK_NAME,
        "external_id": f"session-{session.id}",
        "output": {"title": headline[:250], "summary": summary_of(session, interactions)[:MAX_TEXT]},
    }
    if details_url:
        body["details_url"] = details_url
    if conclusion is None:
        body["status"] = "in_progress"
    else:
        body.update(status="completed", conclusion=conclusion, completed_at=_now())
    existing = await find_check_run(gh, session, session.head_sha, app_id)
    if existing is None:
        await gh.rest.checks.async_create(session.owner, session.repo,
                                          data={**body, "head_sha": session.head_sha, "started_at": _now()})
    elif not _same(existing, body):
        await gh.rest.checks.async_update(session.owner, session.repo, existing["id"], data=body)


def summary_of(session: Session, interactions: Sequence[Interaction]) -> str:
    """The timeline, after what Finalize verified of the spec (when it has run)."""
    spec = next(((i.result or {}).get("spec") for i in reversed(interactions)
                 if i.step == "Finalize" and i.status == "succeeded"), None)
    timeline = render_timeline(session, interactions)
    return f"{spec}\n\n{timeline}" if spec else timeline


def _same(existing: dict, body: dict) -> bool:
    return (existing.get("status"), existing.get("conclusion"), (existing.get("output") or {}).get("summary")) == (
        body.get("status"), body.get("conclusion"), body["output"]["summary"])


async def complete_superseded(gh: GitHub, session: Session, old_sha: str, new_sha: str, *, app_id: int) -> None:
    """The check run of a commit the session moved past: completed, neutral, pointing to the new one."""
    existing = await find_check_run(gh, session, old_sha, app_id)
    if existing is None or existing.get("status") == "completed":
        return
    await gh.rest.checks.async_update(session.owner, session.repo, existing["id"], data={
        "status": "completed", "conclusion": "neutral", "completed_at": _now(),
        "output": {"title": f"Superseded by {new_sha[:7]}",
                   "summary": f"component-bot continued on {new_sha}."},
    })
