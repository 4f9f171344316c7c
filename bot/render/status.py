"""The one status comment of a session: created once, then edited in place after every step.

Found again by a hidden marker, so a retried or restarted step never posts a second one.
"""

from __future__ import annotations

import logging
import re
from bot.core.orchestrator import SESSION_STEPS, Status, Step
from bot.core.record import Entry, SessionRecord
from bot.core.usage import Usage
from bot.render.templating import render
from bot.store.models import Session, SessionStatus

log = logging.getLogger(__name__)

HEADLINES = {
    SessionStatus.running: "Working",
    SessionStatus.waiting_for_checks: "Waiting for the checks",
    SessionStatus.paused: "Paused",
    SessionStatus.awaiting_review: "Ready for review",
    SessionStatus.needs_human: "Needs a maintainer",
    SessionStatus.completed: "Done",
    SessionStatus.failed: "Failed",
    SessionStatus.cancelled: "Stopped",
}
HELP = {
    SessionStatus.needs_human: "Once the problem is fixed (edit the issue, or push the missing file), comment "
                               "`/retry` or add the label again, and I will carry on from this step.",
    SessionStatus.failed: "Comment `/retry` to try again from the failed step.",
}


def status_marker(session_id: int) -> str:
    return f"<!-- component-bot:status session={session_id} -->"


def status_headline(session: Session, current: str | None) -> str:
    status = SessionStatus(session.status)
    return HEADLINES[status] + (f": {current}" if current and status == SessionStatus.running else "")


def status_comment_url(session: Session, html_base: str, comment_id: int | None = None) -> str | None:
    comment_id = comment_id or session.status_comment_id
    if comment_id is None:
        return None
    return f"{html_base}/{session.repository_full_name}/issues/{session.issue_number}#issuecomment-{comment_id}"


def render_status(session: Session, record: SessionRecord, *, max_fix_iterations: int,
                  html_base: str, current: str | None = None) -> str:
    status = SessionStatus(session.status)
    headline = status_headline(session, current)
    return render(
        "comments/status.md.j2",
        marker=status_marker(session.id),
        component=session.component_name,
        steps=_rows(record, current),
        headline=headline,
        reason=session.status_reason if status != SessionStatus.running else None,
        pr_url=f"{html_base}/{session.repository_full_name}/pull/{session.pr_number}" if session.pr_number else None,
        branch=session.branch,
        fix_iterations=session.fix_iterations,
        max_fix_iterations=max_fix_iterations,
        tokens=Usage.of(session).total,
        cost=session.cost_usd,
        help=HELP.get(status),
        session_id=session.id,
        edited_by=(session.request or {}).get("by") if (session.request or {}).get("edited") else None,
    )


def _rows(record: SessionRecord, current: str | None) -> list[dict[str, str]]:
    shown = [*SESSION_STEPS, Step.Revise] if record.finished(Step.Revise) else list(SESSION_STEPS)
    rows = []
    for step in shown:
        finished = record.finished(step)
        last = finished[-1] if finished else None
        if step.value == current:
            icon, note = "…", "running"
        elif last is None:
            icon, note = " ", ""
        elif last.status == Status.failed:
            icon, note = "✗", (last.error or "failed").splitlines()[0][:140]
        else:
            icon, note = "✓", _note(step.value, last, sum(1 for e in finished if e.status == Status.succeeded))
        rows.append({"icon": icon, "name": step.value, "note": note.replace("|", "\\|")})
    return rows


def _note(step: str, last: Entry, times: int) -> str:
    result = last.result or {}
    if step == Step.RunTests.value:
        if result.get("state") == "failed":
            failing = [c for c in result.get("checks") or [] if not c.get("passed")]
            return "failing: " + ", ".join(f"[{c['name']}]({c['url']})" if c.get("url") else c["name"]
                                           for c in failing)
        return {"passed": "checks passed", "pending": "waiting for checks"}.get(result.get("state"),
                                                                                result.get("reason", ""))
    if last.commit_sha:
        return f"commit {last.commit_sha[:7]}" + (f" ({times}×)" if times > 1 else "")
    return result.get("note", "")


def unmentioned(text: str) -> str:
    """The model's words in our comment must not ping anyone: `@name` loses its link."""
    return re.sub(r"@(?=[A-Za-z0-9])", "@\u200b", text)


def attention_marker(session_id: int, seq: int) -> str:
    return f"<!-- component-bot:attention session={session_id} at={seq} -->"


def render_attention(session: Session, record: SessionRecord, status: str, reason: str) -> str:
    """The comment that tells people a session stopped or needs them: what fails, what was tried."""
    tests = record.tests()
    still_failing = (tests.failing_tests or tests.failed_checks or []) if tests.state == "failed" else []
    tried = [f"fix attempt {fix.attempt or n}: commit {sha[:7]}" + (f" (changed {', '.join(fix.files)})" if fix.files else "")
             for n, (fix, sha) in enumerate(record.fixes(), start=1)]
    problem = record.spec_problem()
    return render(
        "comments/attention.md.j2",
        marker=attention_marker(session.id, record.entries[-1].seq if record.entries else 0),
        status=status, reason=reason, still_failing=still_failing[:30],
        spec_problem={key: unmentioned(value) for key, value in problem.items()} if problem else None,
        test_path=session.test_path, design_path=session.design_path,
        pre_existing=tests.pre_existing or [], tried=tried,
        help=HELP.get(SessionStatus(status), ""),
    )
