"""The one status comment of a session: created once, then edited in place after every step.

Found again by a hidden marker, so a retried or restarted step never posts a second one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from bot.core.orchestrator import Step, steps
from bot.store.models import Interaction, Session, SessionStatus
from bot.render.templating import render

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


def status_comment_url(session: Session, html_base: str) -> str | None:
    if session.status_comment_id is None:
        return None
    return (f"{html_base}/{session.repository_full_name}/issues/{session.issue_number}"
            f"#issuecomment-{session.status_comment_id}")


def render_status(session: Session, interactions: Sequence[Interaction], *, max_fix_iterations: int,
                  html_base: str, current: str | None = None) -> str:
    status = SessionStatus(session.status)
    headline = status_headline(session, current)
    return render(
        "comments/status.md.j2",
        marker=status_marker(session.id),
        component=session.component_name,
        steps=_rows(interactions, current),
        headline=headline,
        reason=session.status_reason if status != SessionStatus.running else None,
        pr_url=f"{html_base}/{session.repository_full_name}/pull/{session.pr_number}" if session.pr_number else None,
        branch=session.branch,
        fix_iterations=session.fix_iterations,
        max_fix_iterations=max_fix_iterations,
        tokens=session.input_tokens + session.output_tokens + session.cache_read_tokens + session.cache_write_tokens,
        cost=session.cost_usd,
        help=HELP.get(status),
        session_id=session.id,
        edited_by=(session.request or {}).get("by") if (session.request or {}).get("edited") else None,
    )


def _rows(interactions: Sequence[Interaction], current: str | None) -> list[dict[str, str]]:
    names = [s.value for s in steps()]
    if any(i.step == Step.Revise.value for i in interactions):
        names.append(Step.Revise.value)
    rows = []
    for name in names:
        finished = [i for i in interactions if i.step == name and i.status in {"succeeded", "failed"}]
        last = finished[-1] if finished else None
        if name == current:
            icon, note = "…", "running"
        elif last is None:
            icon, note = " ", ""
        elif last.status == "failed":
            icon, note = "✗", (last.error or "failed").splitlines()[0][:140]
        else:
            icon, note = "✓", _note(name, last, len([i for i in finished if i.status == "succeeded"]))
        rows.append({"icon": icon, "name": name, "note": note.replace("|", "\\|")})
    return rows


def _note(step: str, last: Interaction, times: int) -> str:
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


def spec_problem_of(interactions: Sequence[Interaction]) -> dict[str, str] | None:
    """The agent's report that the spec is wrong, when that is why the session stopped."""
    last = next((i for i in reversed(interactions) if i.status in {"succeeded", "failed"}), None)
    return (last.result or {}).get("spec_problem") if last is not None and last.status == "failed" else None


def unmentioned(text: str) -> str:
    """The model's words in our comment must not ping anyone: `@name` loses its link."""
    return re.sub(r"@(?=[A-Za-z0-9])", "@\u200b", text)


def attention_marker(session_id: int, seq: int) -> str:
    return f"<!-- component-bot:attention session={session_id} at={seq} -->"


def render_attention(session: Session, interactions: Sequence[Interaction], status: str, reason: str) -> str:
    """The comment that tells people a session stopped or needs them: what fails, what was tried."""
    tests = next((i.result or {} for i in reversed(interactions)
                  if i.step == Step.RunTests.value and i.status == "succeeded"), {})
    still_failing = (tests.get("failing_tests") or tests.get("failed_checks") or []) if tests.get("state") == "failed" \
        else []
    tried = [f"fix attempt {(i.result or {}).get('attempt', n)}: commit {i.commit_sha[:7]}"
             + (f" (changed {', '.join((i.result or {}).get('files') or [])})" if (i.result or {}).get("files") else "")
             for n, i in enumerate((i for i in interactions if i.step == Step.FixTestFailures.value
                                    and i.status == "succeeded" and i.commit_sha), start=1)]
    problem = spec_problem_of(interactions)
    return render(
        "comments/attention.md.j2",
        marker=attention_marker(session.id, interactions[-1].seq if interactions else 0),
        status=status, reason=reason, still_failing=still_failing[:30],
        spec_problem={key: unmentioned(value) for key, value in problem.items()} if problem else None,
        test_path=session.test_path, design_path=session.design_path,
        pre_existing=tests.get("pre_existing") or [], tried=tried,
        help=HELP.get(SessionStatus(status), ""),
    )
