"""A session's timeline as Markdown: the `/status` reply."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.orchestrator import Status
from bot.core.record import Entry
from bot.core.usage import Usage
from bot.store.models import Session

ICONS = {Status.succeeded: "✓", Status.failed: "✗", Status.started: "…", Status.received: "•"}


def render_timeline(session: Session, interactions: Sequence[Entry]) -> str:
    rows = [f"**Session {session.id}** for #{session.issue_number} ({session.component_name or 'component'}): "
            f"{session.status.replace('_', ' ')}" + (f" — {session.status_reason}" if session.status_reason else ""),
            "", "| # | step | | when | detail |", "|--:|---|:-:|---|---|"]
    for i in interactions:
        if i.status == Status.started and any(j.seq > i.seq and j.step == i.step and j.status != Status.received
                                          for j in interactions):
            continue  # the step's outcome row says it all
        rows.append(f"| {i.seq} | {i.step} | {ICONS.get(Status(i.status), '')} | {i.created_at:%Y-%m-%d %H:%M} UTC | "
                    f"{_detail(i)} |")
    rows += ["", f"Fix iterations: {session.fix_iterations} · tokens: {Usage.of(session).total:,} · "
                 f"est. cost: ${session.cost_usd:.2f}"]
    return "\n".join(rows)


def _detail(interaction: Entry) -> str:
    result = interaction.result or {}
    if interaction.error:
        text = interaction.error.splitlines()[0]
    elif interaction.commit_sha:
        text = f"commit {interaction.commit_sha[:7]}"
    elif "state" in result:
        text = str(result["state"]) + (f": {', '.join(result.get('failed_checks', []))}" if result.get(
            "failed_checks") else "")
    else:
        text = ", ".join(f"{k}={v}" for k, v in (interaction.input or {}).items() if k in {"by", "reason", "event"})
    return text.replace("|", "\\|")[:160]
