"""What the model cost, by installation, repository and calendar month (UTC).

Spend is counted where it is recorded: each step attempt's interaction carries its own cost,
written when the attempt ended, so a session that runs across the turn of a month is counted in
both months, each attempt in the month it ended. A session whose interactions retention deleted
(`pruned_at`) counts its whole cost in the month of its last activity (`updated_at`): retention
keeps the session rows for this.

A step's cost is added to its session's row just after its interaction is written, which moves
the row's `updated_at`: only the sessions updated since the period began are read.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, String, bindparam, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Interaction, Session


async def installation_spend(s: AsyncSession, installation_id: int, since: datetime) -> float:
    """What the installation spent since `since` (the start of this month, as the budget counts)."""
    live = await s.scalar(
        select(func.coalesce(func.sum(Interaction.cost_usd), 0.0))
        .join(Session, Session.id == Interaction.session_id)
        .where(Session.installation_id == installation_id, Session.pruned_at.is_(None), Session.updated_at >= since,
               Interaction.created_at >= since, Interaction.cost_usd > 0))
    pruned = await s.scalar(
        select(func.coalesce(func.sum(Session.cost_usd), 0.0))
        .where(Session.installation_id == installation_id, Session.pruned_at.is_not(None),
               Session.updated_at >= since, Session.cost_usd > 0))
    return float(live or 0.0) + float(pruned or 0.0)


async def spend_by_installation(s: AsyncSession, since: datetime) -> dict[int, float]:
    """Every installation that spent something since `since`, with how much (for /metrics)."""
    totals: dict[int, float] = {}
    queries = (
        select(Session.installation_id, func.sum(Interaction.cost_usd))
        .join(Session, Session.id == Interaction.session_id)
        .where(Session.pruned_at.is_(None), Session.updated_at >= since, Interaction.created_at >= since,
               Interaction.cost_usd > 0)
        .group_by(Session.installation_id),
        select(Session.installation_id, func.sum(Session.cost_usd))
        .where(Session.pruned_at.is_not(None), Session.updated_at >= since, Session.cost_usd > 0)
        .group_by(Session.installation_id),
    )
    for query in queries:
        for installation_id, cost in (await s.execute(query)).all():
            totals[int(installation_id)] = totals.get(int(installation_id), 0.0) + float(cost or 0.0)
    return totals


async def monthly_spend(s: AsyncSession, months: Sequence[tuple[str, datetime]], *,
                        repository_ids: Collection[int] | None = None,
                        repository: str | None = None) -> dict[tuple[str, str], float]:
    """Spend per (month label, repository) over `months` ((label, start), oldest first), for the
    repositories given (None: all), or only `repository` (by full name)."""
    if not months:
        return {}
    totals: dict[tuple[str, str], float] = {}
    for query in (_live_by_month(months), _pruned_by_month(months)):
        if repository_ids is not None:
            ids = bindparam("repository_ids", sorted(repository_ids), expanding=True, literal_execute=True)
            query = query.where(Session.repository_id.in_(ids))
        if repository:
            query = query.where(Session.repository_full_name == repository)
        rows = query.subquery()
        grouped = select(rows.c.month, rows.c.repository, func.sum(rows.c.cost)).group_by(rows.c.month,
                                                                                         rows.c.repository)
        for month, repo, cost in (await s.execute(grouped)).all():
            if month is not None:
                totals[(month, repo)] = totals.get((month, repo), 0.0) + float(cost or 0.0)
    return totals


def _month_of(column, months: Sequence[tuple[str, datetime]]):  # noqa: ANN001, ANN202 - SQL expressions
    """The label of the month `column` falls in (the newest start it is past)."""
    return case(*[(column >= start, literal(label, String, literal_execute=True)) for label, start in reversed(months)], else_=None)


def _live_by_month(months: Sequence[tuple[str, datetime]]) -> Select:
    return (select(_month_of(Interaction.created_at, months).label("month"),
                   Session.repository_full_name.label("repository"), Interaction.cost_usd.label("cost"))
            .join(Session, Session.id == Interaction.session_id)
            .where(Session.pruned_at.is_(None), Session.updated_at >= months[0][1],
                   Interaction.created_at >= months[0][1], Interaction.cost_usd > 0))


def _pruned_by_month(months: Sequence[tuple[str, datetime]]) -> Select:
    return (select(_month_of(Session.updated_at, months).label("month"),
                   Session.repository_full_name.label("repository"), Session.cost_usd.label("cost"))
            .where(Session.pruned_at.is_not(None), Session.updated_at >= months[0][1], Session.cost_usd > 0))
