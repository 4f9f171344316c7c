"""Prometheus metrics, served as text at `GET /metrics`.

One registry for the process (`METRICS.registry`), separate from prometheus_client's default
one so that only what is listed here is exposed. The counters are process-wide, as Prometheus
expects of one scrape target; the sessions and spend gauges are read from the database at scrape time.
Every label value comes from a small, known set (verified event names, step names, HTTP
methods, status classes, model ids, installation ids), never from user input.

Recorders are plain functions, so any module can count without holding a reference:
`record_delivery`, `observe_step`, `record_step_usage`, `record_github_response`,
`record_anthropic_call`, `record_error`, `record_redelivery`, `record_syntax_refusal`, `record_budget_stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from bot.core.usage import Usage

log = logging.getLogger(__name__)

PREFIX = "component_bot"
# Steps run from milliseconds (RunTests reading check runs) to many minutes (the agent).
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
# The languages the agent's editor parses after each edit (bot.agent.syntax.LANGUAGES); anything else is "other".
SYNTAX_LANGUAGES = frozenset({"python", "javascript", "typescript", "go", "rust", "elixir", "java"})


class Metrics:
    """Every metric the bot exposes, on its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.deliveries = self._counter(
            "webhook_deliveries", "Webhook deliveries by event and outcome "
            "(processed, ignored, failed; duplicate and rejected at the endpoint)", ["event", "outcome"])
        self.sessions = Gauge(f"{PREFIX}_sessions", "Sessions by status, read from the database at scrape time",
                              ["status"], registry=self.registry)
        self.step_duration = Histogram(f"{PREFIX}_step_duration_seconds", "Duration of step attempts",
                                       ["step", "outcome"], buckets=STEP_BUCKETS, registry=self.registry)
        self.github_requests = self._counter(
            "github_requests", "GitHub API responses by HTTP method and status class", ["method", "status"])
        self.anthropic_requests = self._counter(
            "anthropic_requests", "Anthropic Messages API calls by model and outcome", ["model", "outcome"])
        self.anthropic_tokens = self._counter(
            "anthropic_tokens", "Tokens reported by the Anthropic API, per call, by model and kind", ["model", "kind"])
        self.tokens = self._counter("tokens", "Tokens recorded on sessions when a step finishes, by kind", ["kind"])
        self.cost = self._counter("cost_usd", "Estimated Anthropic cost recorded on sessions, in US dollars", [])
        self.errors = self._counter("errors", "Errors by component (intake, runner, step, github, metrics)",
                                    ["component"])
        self.redeliveries = self._counter(
            "redeliveries", "Redelivery requests sent to GitHub for failed deliveries, by outcome", ["outcome"])
        self.syntax_refusals = self._counter(
            "syntax_refusals", "Agent edits refused because the file would no longer parse, by language", ["language"])
        self.budget_stops = self._counter(
            "budget_stops", "Steps held back before they started because a budget was used up "
            "(monthly: the installation's BOT_MONTHLY_BUDGET_USD; session: the repository's token_budget)", ["budget"])
        self.spend = Gauge(f"{PREFIX}_spend_this_month_usd", "Estimated Anthropic spend of the current calendar "
                           "month (UTC) by installation, read from the database at scrape time", ["installation"],
                           registry=self.registry)
        self.monthly_budget = Gauge(f"{PREFIX}_monthly_budget_usd", "BOT_MONTHLY_BUDGET_USD: what each installation "
                                    "may spend per calendar month (0: no budget set)", registry=self.registry)

    def _counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        return Counter(f"{PREFIX}_{name}", documentation, labels, registry=self.registry)

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when absent): for tests and the CLI."""
        return self.registry.get_sample_value(name, labels) or 0.0


METRICS = Metrics()


# ----- recorders


def record_delivery(event: str, outcome: str) -> None:
    METRICS.deliveries.labels(event=event or "unknown", outcome=outcome).inc()


def observe_step(step: str, outcome: str, seconds: float) -> None:
    METRICS.step_duration.labels(step=step, outcome=outcome).observe(max(seconds, 0.0))


@contextlib.contextmanager
def step_timer(step: str) -> Iterator[None]:
    """Time the block as one attempt of `step`: succeeded, failed (it raised) or cancelled."""
    started, outcome = time.monotonic(), "failed"
    try:
        yield
        outcome = "succeeded"
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    finally:
        observe_step(step, outcome, time.monotonic() - started)


def record_step_usage(usage: Usage) -> None:
    """A finished step's usage, as recorded on its session."""
    for kind, count in usage.by_kind().items():
        if count > 0:
            METRICS.tokens.labels(kind=kind).inc(count)
    if usage.cost_usd > 0:
        METRICS.cost.inc(usage.cost_usd)


def record_anthropic_call(model: str, outcome: str, usage: Usage | None = None) -> None:
    """One Messages API call: `outcome` is e.g. "ok", "error", "rate_limited", "overloaded"."""
    METRICS.anthropic_requests.labels(model=model, outcome=outcome).inc()
    for kind, count in (usage.by_kind() if usage is not None else {}).items():
        if count > 0:
            METRICS.anthropic_tokens.labels(model=model, kind=kind).inc(count)


def record_error(component: str) -> None:
    METRICS.errors.labels(component=component).inc()


def record_redelivery(outcome: str) -> None:
    METRICS.redeliveries.labels(outcome=outcome).inc()


def record_syntax_refusal(language: str) -> None:
    METRICS.syntax_refusals.labels(language=language if language in SYNTAX_LANGUAGES else "other").inc()


def record_budget_stop(budget: str) -> None:
    """A step held back by a budget: "monthly" (the installation's) or "session" (token_budget)."""
    METRICS.budget_stops.labels(budget=budget).inc()


def status_class(status_code: int) -> str:
    return f"{status_code // 100}xx" if 100 <= status_code < 600 else "other"


def record_github_response(method: str, status_code: int) -> None:
    METRICS.github_requests.labels(method=method.upper(), status=status_class(status_code)).inc()


async def _on_github_response(response: httpx.Response) -> None:
    record_github_response(response.request.method, response.status_code)


def github_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """httpx event hooks for githubkit's `async_event_hooks`: count every GitHub response
    (token mints and redirects to the log and archive hosts included)."""
    return {"request": [], "response": [_on_github_response]}


# ----- scrape


def set_sessions(counts: dict[str, int]) -> None:
    """The sessions gauge, from counts by status read at scrape time (bot.store.sessions.count_by_status)."""
    for status, count in counts.items():
        METRICS.sessions.labels(status=status).set(count)


def set_spend(by_installation: dict[int, float], monthly_budget: float | None) -> None:
    """The spend gauge, from this month's spend by installation read at scrape time
    (bot.store.spend.spend_by_installation): an installation that spent nothing this month has no sample."""
    METRICS.spend.clear()
    for installation_id, usd in by_installation.items():
        METRICS.spend.labels(installation=str(installation_id)).set(round(usd, 6))
    METRICS.monthly_budget.set(monthly_budget or 0)


def exposition(accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper asked for (Prometheus text by default, OpenMetrics
    on request): the body and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(METRICS.registry), content_type
