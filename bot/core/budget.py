"""Budgets, checked before each step: the installation's spend this month against
BOT_MONTHLY_BUDGET_USD, and the session's tokens against its `token_budget`.

Only the steps that spend are held back: those that call the model (GenerateImplementation,
FixTestFailures, Revise) and Initialize, which starts a session that would. RunTests and
Finalize cost no tokens: a session that used its budget on its last fix still reads its checks,
and a green one still becomes ready for review. A step held back fails as `needs_human`, with
the figures in its reason; the agent also keeps to `token_budget` within a step
(bot/agent/claude.py). Months are calendar months in UTC. Pure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from bot.core.orchestrator import WRITING_STEPS, Step

SPENDING_STEPS = frozenset({Step.Initialize, *WRITING_STEPS})


@dataclass(frozen=True)
class Spend:
    """What the budgets are measured against, as a step is about to start."""

    month: str                          # "2025-06": the calendar month (UTC) of `installation_usd`
    installation_usd: float             # what the session's installation spent this month
    monthly_budget_usd: float | None    # BOT_MONTHLY_BUDGET_USD (None: no monthly budget)
    session_tokens: int                 # every token the session used so far
    token_budget: int                   # the repository's token_budget

    @property
    def over_month(self) -> bool:
        return self.monthly_budget_usd is not None and self.installation_usd >= self.monthly_budget_usd

    @property
    def over_tokens(self) -> bool:
        return self.session_tokens >= self.token_budget

    def figures(self) -> dict[str, object]:
        return {**asdict(self), "installation_usd": round(self.installation_usd, 6)}


def spends(step: Step) -> bool:
    """Whether the budgets hold this step back when they are used up."""
    return step in SPENDING_STEPS


def budget_stop(step: Step, spend: Spend) -> str | None:
    """Why `step` must not start (over a budget), with the figures; None when it may."""
    if not spends(step) or not (spend.over_month or spend.over_tokens):
        return None
    month = f"this installation has spent ${spend.installation_usd:,.2f} in {spend.month} (UTC)"
    month += (f" of its monthly budget of ${spend.monthly_budget_usd:,.2f} (BOT_MONTHLY_BUDGET_USD)"
              if spend.monthly_budget_usd is not None else ", with no monthly budget set")
    tokens = (f"this session has used {spend.session_tokens:,} of its {spend.token_budget:,} tokens "
              f"(token_budget in .github/component-bot.yml)")
    first, then = (month, tokens) if spend.over_month else (tokens, month)
    if spend.over_month:
        todo = "Comment `/retry` once the operator has raised BOT_MONTHLY_BUDGET_USD, or next month."
    else:
        todo = ("To go on, start a new session, which has a budget of its own: comment `/stop`, raise "
                "token_budget if need be, and add the label again.")
    return f"over budget: {first}; {then}. I stopped before {step.value}, without calling the model. {todo}"


def month_start(moment: datetime) -> datetime:
    """The first instant of `moment`'s calendar month, in UTC."""
    utc = moment.astimezone(timezone.utc)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_label(moment: datetime) -> str:
    return month_start(moment).strftime("%Y-%m")


def recent_months(now: datetime, count: int) -> list[tuple[str, datetime]]:
    """The last `count` calendar months (UTC), this one included, oldest first: (label, start)."""
    start = month_start(now)
    months = []
    for _ in range(count):
        months.append((start.strftime("%Y-%m"), start))
        start = start.replace(year=start.year - 1, month=12) if start.month == 1 else start.replace(month=start.month - 1)
    return months[::-1]
