"""One wake of a session: run its next steps, record each outcome, and settle when it waits or
ends. The caller holds the session's lease (bot/engine/runner.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from githubkit.exception import RequestFailed

from bot.agent import Agent
from bot.config import Settings
from bot.core.budget import Spend, budget_stop, month_label, month_start, spends
from bot.core.orchestrator import WRITING_STEPS, InvalidInteraction, SessionComplete, Status, Step, Waiting
from bot.core.record import SessionRecord
from bot.core.results import FailureResult
from bot.core.usage import Usage
from bot.engine.outages import outage_of, outage_result, outage_wait
from bot.engine.publishing import Publisher
from bot.github.errors import GITHUB_ERRORS, describe
from bot.github.guard import check_lease
from bot.github.workspace import BranchMoved
from bot.steps import StepContext, StepFailure, StepOutcome, StepRunner
from bot.store import sessions as store
from bot.store import spend as spending
from bot.store.models import Session, SessionStatus
from bot.telemetry import metrics
from bot.telemetry.logs import log_context, redact, redact_data

log = logging.getLogger(__name__)


class SessionWork:
    def __init__(self, db: Any, publisher: Publisher, agent: Agent, settings: Settings,  # noqa: ANN401
                 steps: Mapping[Step, StepRunner], *, retry_delay: Callable[[int], float],
                 now: Callable[[], datetime], on_paused: Callable[[int, datetime], Awaitable[None]]) -> None:
        self.db, self.publisher, self.agent, self.settings, self.steps = db, publisher, agent, settings, steps
        self.retry_delay, self.now, self.on_paused = retry_delay, now, on_paused

    async def load(self, session_id: int) -> tuple[Session | None, SessionRecord]:
        async with self.db() as s:
            session = await store.get_session(s, session_id)
            entries = await store.interactions_of(s, session_id) if session else []
        return session, SessionRecord(entries)

    async def record_before(self, session_id: int, seq: int) -> SessionRecord:
        async with self.db() as s:
            return SessionRecord(await store.interactions_of(s, session_id, before_seq=seq))

    async def run_until_waiting(self, session_id: int) -> None:
        while True:
            session, record = await self.load(session_id)
            if session is None or SessionStatus(session.status).is_final:
                return
            decision = record.decide()
            if not isinstance(decision, Step):
                await self.settle(session, record, decision)
                return
            await self.pause_before_retry(record, decision)
            await self.run_step(session, record, decision)

    async def pause_before_retry(self, record: SessionRecord, step: Step) -> None:
        last = record.entries[-1] if record.entries else None
        if last is not None and last.step == step.value and last.status == Status.failed:
            await asyncio.sleep(self.retry_delay(last.attempt))

    # ----- one step

    async def run_step(self, session: Session, record: SessionRecord, step: Step) -> None:
        attempt = record.attempt_number(step)
        with log_context(step=step.value):
            log.info("running %s (attempt %d)", step.value, attempt)
            started = await store.append_interaction(self.db, session.id, step.value, Status.started.value,
                                                     attempt=attempt, input={"head_sha": session.head_sha})
            # A signal recorded since the decision and before `started` counts as seen by this
            # attempt (bot/core/orchestrator.py): the step starts from it, not from what was decided on.
            record = await self.record_before(session.id, started.seq)
            if await self.held_back(session, record, step, attempt):
                return
            if session.status != SessionStatus.running.value:
                await self.save(session, {"status": SessionStatus.running.value, "status_reason": None})
            if step in WRITING_STEPS:  # the agent works for minutes: show it; other steps take a moment
                await self.publish(session, record, current=step.value)
            try:
                outcome = await self.execute(session, record, step, attempt)
            except StepFailure as failure:
                await self.record_failure(session, record, step, attempt, failure.kind, failure.reason,
                                          failure.result, failure.usage)
            except Exception as exc:  # noqa: BLE001 - any other error is a failure of this attempt
                await self.record_error(session, record, step, attempt, exc)
            else:
                await self.record_success(session, step, attempt, outcome)

    async def held_back(self, session: Session, record: SessionRecord, step: Step, attempt: int) -> bool:
        """Over a budget before a step that spends: the attempt fails as needs_human, with the
        figures, before anything is called (bot/core/budget.py)."""
        spend = await self.spend_before(session, record, step)
        reason = budget_stop(step, spend) if spend is not None else None
        if spend is None or reason is None:
            return False
        metrics.record_budget_stop("monthly" if spend.over_month else "session")
        await self.record_failure(session, record, step, attempt, "needs_human", reason, {"budget": spend.figures()})
        return True

    async def spend_before(self, session: Session, record: SessionRecord, step: Step) -> Spend | None:
        """The figures the budgets are held to, when a budget could hold `step` back (the
        installation's spend is read only when there is a monthly budget, or the figures are shown)."""
        tokens, token_budget = Usage.of(session).total, record.config.token_budget
        monthly = self.settings.bot_monthly_budget_usd
        if not spends(step) or (monthly is None and tokens < token_budget):
            return None
        now = self.now()
        async with self.db() as s:
            spent = await spending.installation_spend(s, session.installation_id, month_start(now))
        return Spend(month_label(now), spent, monthly, tokens, token_budget)

    async def execute(self, session: Session, record: SessionRecord, step: Step, attempt: int) -> StepOutcome:
        runner = self.steps.get(step)
        if runner is None:
            raise StepFailure("needs_human", f"this version of component-bot cannot run {step.value} yet")
        ctx = StepContext(session=session, record=record, step=step, attempt=attempt,
                          repository=self.publisher.repository(session), settings=self.settings, agent=self.agent,
                          save=lambda **values: self.save(session, values), now=self.now)
        with metrics.step_timer(step.value):
            return await runner(ctx)

    async def save(self, session: Session, values: dict[str, Any]) -> None:
        check_lease()
        await store.update_session(self.db, session.id, **values)
        for key, value in values.items():
            setattr(session, key, value)

    async def record_success(self, session: Session, step: Step, attempt: int, outcome: StepOutcome) -> None:
        check_lease()
        await store.append_interaction(
            self.db, session.id, step.value, Status.succeeded.value, attempt=attempt, result=outcome.result.to_dict(),
            commit_sha=outcome.commit_sha, transcript=compress_transcript(outcome.transcript),
            **outcome.usage.columns())
        metrics.record_step_usage(outcome.usage)
        updates = {**outcome.session_updates, **(Usage.of(session) + outcome.usage).columns()}
        if step == Step.FixTestFailures:
            updates["fix_iterations"] = session.fix_iterations + 1
        await self.save(session, updates)
        log.info("%s succeeded%s", step.value, f" with commit {outcome.commit_sha[:7]}" if outcome.commit_sha else "")

    async def record_error(self, session: Session, record: SessionRecord, step: Step, attempt: int,
                           exc: Exception) -> None:
        outage = outage_of(exc)
        if outage is not None:
            log.warning("%s attempt %d paused: %s", step.value, attempt, outage.what)
            await self.record_failure(session, record, step, attempt, "outage", outage.what, outage_result(outage))
            return
        reason = describe(exc)
        unauthorized = isinstance(exc, RequestFailed) and exc.response.status_code == 401
        kind = "fatal" if unauthorized else "transient"
        log.warning("%s attempt %d failed: %s", step.value, attempt, reason,
                    exc_info=not isinstance(exc, (*GITHUB_ERRORS, BranchMoved)))
        metrics.record_error("step")
        await self.record_failure(session, record, step, attempt, kind, reason, {})

    async def record_failure(self, session: Session, record: SessionRecord, step: Step, attempt: int, kind: str,
                             reason: str, result: dict[str, Any], usage: Usage = Usage()) -> None:
        check_lease()
        if kind == "outage":
            kind, reason, result = outage_wait(record, result, self.now())
        reason = redact(reason)
        failure = FailureResult.from_dict({**result, "kind": kind, "reason": reason})
        await store.append_interaction(self.db, session.id, step.value, Status.failed.value, attempt=attempt,
                                       result=failure.to_dict(), error=reason, **usage.columns())
        if usage != Usage():
            metrics.record_step_usage(usage)
            await self.save(session, (Usage.of(session) + usage).columns())
        log.warning("%s failed (%s): %s", step.value, kind, reason.splitlines()[0] if reason else "")

    # ----- settling

    async def settle(self, session: Session, record: SessionRecord,
                     decision: Waiting | SessionComplete | InvalidInteraction) -> None:
        if isinstance(decision, InvalidInteraction):
            status, reason = SessionStatus.failed.value, f"invalid session record at #{decision.seq}: {decision.reason}"
            log.error("session %s: %s", session.id, reason)
        else:
            status, reason = decision.status, decision.reason
        changed = (session.status, session.status_reason) != (status, reason)
        if changed:
            await self.save(session, {"status": status, "status_reason": reason})
            log.info("session is now %s: %s", status, reason)
        await self.publish(session, record, current=None)
        if changed and status in {SessionStatus.needs_human.value, SessionStatus.failed.value}:
            where = session.pr_number or (session.issue_number if record.spec_problem() else None)
            if where is not None:
                await self.publisher.ask_for_attention(session, record, status, reason, where)
        if status == SessionStatus.paused.value:
            await self.on_paused(session.id, record.paused_until() or self.now())

    async def publish(self, session: Session, record: SessionRecord, current: str | None) -> None:
        await self.publisher.show(session, record, current, lambda **values: self.save(session, values))


def compress_transcript(transcript: list[dict[str, Any]]) -> bytes | None:
    """Redacted before it is encoded, so a secret JSON would escape is still found."""
    if not transcript:
        return None
    return zlib.compress(json.dumps(redact_data(transcript), default=str).encode(), 6)
