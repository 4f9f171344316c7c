"""The one status comment of a session: created once, then edited in place after every step.

Found again by a hidden marker, so a retried or restarted step never posts a second one.
"""

from __future__ import annotations

import logging
import re
from bot.core.attempts import Meaning, Row
from bot.core.orchestrator import SESSION_STEPS, Status, Step
from bot.core.record import SessionRecord
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


def _over_budget(record: SessionRecord) -> bool:
    failure = record.last_failure()
    return failure is not None and failure.budget is not None


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
        help=None if _over_budget(record) else HELP.get(status),  # the reason says what to do
        session_id=session.id,
        edited_by=(session.request or {}).get("by") if (session.request or {}).get("edited") else None,
    )


def _rows(record: SessionRecord, current: str | None) -> list[dict[str, str]]:
    """Per step, its last attempt: the icon and words of what it meant (bot/core/attempts.py)."""
    attempts = [row for row in record.attempts() if row.meaning != Meaning.signal]
    shown = [*SESSION_STEPS, *(step for step in (Step.Revise, Step.UpdateBranch, Step.ResolveConflicts)
                               if record.finished(step))]
    rows = []
    for step in shown:
        ended = [row for row in attempts if row.step == step.value and row.ended is not None]
        if step.value == current:
            icon, note = Meaning.running.icon, Meaning.running.word
        elif not ended:
            icon, note = " ", ""
        else:
            last = ended[-1]
            times = sum(1 for row in ended if row.ended.status == Status.succeeded and row.ended.commit_sha)
            icon, note = last.meaning.icon, _note(last, times)
        rows.append({"icon": icon, "name": step.value, "note": unmentioned(note.replace("|", "\\|"))})
    return rows


def _note(row: Row, times: int) -> str:
    """The attempt's outcome, as the timeline words it; failing checks linked to their runs."""
    note = row.outcome
    if row.meaning == Meaning.failed:
        failing = [c for c in (row.entry.result or {}).get("checks") or [] if not c.get("passed") and c.get("url")]
        if failing:
            note += " (" + ", ".join(f"[{c['name']}]({c['url']})" for c in failing) + ")"
    elif row.entry.commit_sha and times > 1:
        note += f" ({times}×)"
    return note


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
