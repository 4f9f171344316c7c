"""A session's timeline as Markdown: the `/status` reply and the `component-bot` check run's summary.

One row per step attempt, with what it meant (the words and icons of bot/core/attempts.py, the
same as the status comment's) and how long it took; one row per signal from outside.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.attempts import Meaning, Row
from bot.core.record import Entry, SessionRecord
from bot.core.usage import Usage
from bot.render.status import status_headline, unmentioned
from bot.store.models import Session


def render_timeline(session: Session, interactions: Sequence[Entry]) -> str:
    record = SessionRecord(interactions)
    reason = f" — {session.status_reason}" if session.status_reason else ""
    rows = [f"**Session {session.id}** for #{session.issue_number} ({session.component_name or 'component'}): "
            f"{status_headline(session, None)}{reason}",
            "", "| # | step | | outcome | started | took |", "|--:|---|:-:|---|---|--:|"]
    rows += [_row(row) for row in record.attempts()]
    rows += ["", f"fix iterations {session.fix_iterations}/{record.config.max_fix_iterations} · "
                 f"tokens {Usage.of(session).total:,} · est. cost ${session.cost_usd:.2f}"]
    return "\n".join(rows)


def _row(row: Row) -> str:
    step = row.step if row.meaning != Meaning.signal else f"*{row.step}*"
    attempt = f" (attempt {row.attempt})" if row.attempt and row.attempt > 1 else ""
    return (f"| {row.seq} | {step}{attempt} | {row.meaning.icon} | {cell(row.outcome)} | "
            f"{row.at:%Y-%m-%d %H:%M} UTC | {row.took} |")


def cell(text: str) -> str:
    """Text safe in a Markdown table cell: one line, no column breaks, no one pinged."""
    return unmentioned(" ".join(text.split()).replace("|", "\\|"))
