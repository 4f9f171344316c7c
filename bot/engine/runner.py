"""The runner: wakes a session and runs its next steps, one at a time.

`wake(session_id)` takes the session's lease (a conditional UPDATE, so it serializes workers
across processes on SQLite and PostgreSQL alike), asks the orchestrator what comes next, runs
that step, records the outcome, and repeats until the session waits or ends. A second wake while
one runs returns at once; waking a finished or waiting session does nothing. In-process asyncio
tasks by default; `schedule` is the whole interface a queue would replace.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import uuid
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from githubkit.exception import GraphQLFailed, RequestFailed, RequestTimeout

from bot.telemetry import metrics
from bot.agent import Usage
from bot.config import RepoConfig
from bot.engine.context import Context
from bot.github.checkrun import complete_superseded, publish_check_run
from bot.github.guard import LeaseLost, LeaseToken, check_lease, holding
from bot.github.labels import set_state_label
from bot.github.workspace import BranchMoved
from bot.telemetry.logs import log_context, redact, redact_data
from bot.core.orchestrator import Limits, Record, SessionComplete, Signal, Step, Waiting, next_step
from bot.engine.outages import Outage, gave_up_reason, outage_of, wait_for, waiting_reason
from bot.store import sessions as store
from bot.store.models import Interaction, Session, SessionStatus, utcnow
from bot.github.comments import Comments
from bot.render.status import (
    attention_marker,
    render_attention,
    render_status,
    spec_problem_of,
    status_comment_url,
    status_headline,
    status_marker,
)
from bot.steps import StepContext, StepFailure, StepOutcome, StepRunner

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
STATE_LABEL = {
    SessionStatus.running.value: "component:in-progress",
    SessionStatus.waiting_for_checks.value: "component:in-progress",
    SessionStatus.paused.value: "component:in-progress",
    SessionStatus.needs_human.value: "component:needs-human",
    SessionStatus.awaiting_review.value: "component:ready",
    SessionStatus.completed.value: "component:implemented",
}


def default_steps() -> dict[Step, StepRunner]:
    from bot.steps import finalize, fix, generate, initialize, revise, run_tests

    return {Step.Initialize: initialize.run, Step.GenerateImplementation: generate.run, Step.RunTests: run_tests.run,
            Step.FixTestFailures: fix.run, Step.Finalize: finalize.run, Step.Revise: revise.run}


class Runner:
    def __init__(self, context: Context, steps: Mapping[Step, StepRunner] | None = None, *,
                 retry_delay: Callable[[int], float] = lambda attempt: min(2.0 ** attempt, 60.0),
                 now: Callable[[], datetime] = utcnow, sweep_every: float = 60.0,
                 lease: timedelta = LEASE) -> None:
        self.context = context
        self.lease = lease
        self.steps = dict(steps or default_steps())
        self.retry_delay = retry_delay
        self.now = now
        self.sweep_every = sweep_every  # seconds between looks for signals recorded by other processes
        self._sweeper: asyncio.Task[None] | None = None
        self.owner = f"runner-{uuid.uuid4().hex[:12]}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._deferred: set[int] = set()
        self._timers: dict[int, asyncio.Task[None]] = {}  # session id -> its resume after an outage

    # ----- the interface

    def schedule(self, session_id: int, delay: float = 0.0) -> None:
        """Wake the session soon, in the background."""
        # A fresh context: a wake must not inherit the caller's open GitHub client or log fields.
        task = asyncio.create_task(self._wake_later(session_id, delay), name=f"session:{session_id}",
                                   context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def signal(self, session_id: int, signal: str, payload: dict[str, Any] | None = None, *,
                     key: str | None = None) -> bool:
        """Record something that happened outside (checks, an instruction, /stop…) and wake the session.

        `key` names what it came from (`comment:123`, `review:45`): a replay of it (the same
        comment delivered again, under a new delivery id) is recorded once only. False: a replay."""
        recorded = await store.append_interaction(self.context.db, session_id, signal, "received",
                                                  input=payload or {}, dedupe_key=key)
        if recorded is None:
            log.info("session %s: %s from %s was recorded before; a replay changes nothing", session_id, signal, key)
            return False
        self.schedule(session_id)
        return True

    async def recover(self) -> int:
        """Wake every unfinished session: what was running when the process stopped carries on."""
        async with self.context.db() as s:
            session_ids = await store.unfinished_session_ids(s)
        for session_id in session_ids:
            self.schedule(session_id)
        return len(session_ids)

    async def sweep(self) -> int:
        """Wake every unfinished session whose last interaction is a signal it has not acted on
        (one recorded by another process: `component-bot sessions retry|cancel`), and resume the
        sessions whose outage wait is over; returns how many."""
        async with self.context.db() as s:
            session_ids = await store.unfinished_session_ids(s)
        woken = 0
        for session_id in session_ids:
            session, interactions = await self._load(session_id)
            if session is None or lease_is_live(session):
                continue
            if signal_pending(session, interactions):
                self.schedule(session_id)
                woken += 1
            elif await self._resume_if_due(session, interactions):
                woken += 1
        return woken

    def _resume_at(self, session_id: int, until: datetime) -> None:
        """Resume a paused session at `until` (one timer per session; `sweep` covers restarts)."""
        previous = self._timers.pop(session_id, None)
        if previous is not None:
            previous.cancel()
        delay = max(0.0, (until - self.now()).total_seconds())
        timer = asyncio.create_task(self._resume_later(session_id, delay), name=f"session:{session_id}:resume",
                                    context=contextvars.Context())
        self._timers[session_id] = timer
        timer.add_done_callback(lambda t: self._timers.pop(session_id, None) if self._timers.get(session_id) is t
                                else None)

    async def _resume_later(self, session_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            session, interactions = await self._load(session_id)
            if session is not None:
                await self._resume_if_due(session, interactions)
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.exception("resuming session %s failed", session_id)
            metrics.record_error("runner")

    async def _resume_if_due(self, session: Session, interactions: list[Interaction]) -> bool:
        until = paused_until(interactions)
        if session.status != SessionStatus.paused.value or until is None or until > self.now():
            return False
        if isinstance(decide(interactions), Step):
            return False  # resumed already
        await self.signal(session.id, Signal.resume.value, {"after": until.isoformat()})
        return True

    def start_sweeping(self) -> None:
        """Run `sweep` every `sweep_every` seconds until `close` (0 turns it off)."""
        if self._sweeper is None and self.sweep_every > 0:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="runner:sweep")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_every)
            try:
                woken = await self.sweep()
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("sweeping for pending signals failed")
                metrics.record_error("runner")
                continue
            if woken:
                log.info("woke %d session(s) with a pending signal", woken)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for timer in list(self._timers.values()):
            timer.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ----- waking

    async def _wake_later(self, session_id: int, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
            self._deferred.discard(session_id)
        try:
            await self.wake(session_id)
        except Exception:  # noqa: BLE001 - a background wake must never die silently
            log.exception("waking session %s failed", session_id)
            metrics.record_error("runner")

    async def wake(self, session_id: int) -> None:
        db = self.context.db
        lease = f"{self.owner}:{uuid.uuid4().hex[:8]}"  # one per wake: concurrent wakes in one process exclude each other too
        if not await store.claim_lease(db, session_id, lease, self.lease):
            log.debug("session %s is being run elsewhere", session_id)
            await self._wake_after_lease(session_id)
            return
        token = LeaseToken(session_id)
        with holding(token):  # the run's task copies the context: its GitHub writes check the token
            run = asyncio.create_task(self._run_leased(session_id), name=f"session:{session_id}:run")
        heartbeat = asyncio.create_task(self._keep_lease(session_id, lease, token, run))
        try:
            await run
        except (asyncio.CancelledError, LeaseLost):
            if not token.lost:
                raise
            log.warning("session %s: stopped the running step, the lease was lost", session_id)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if not token.lost:
                await store.release_lease(db, session_id, lease)
        if not token.lost and await self._has_work(session_id):  # a signal recorded while we held the lease
            self.schedule(session_id)

    async def _run_leased(self, session_id: int) -> None:
        with log_context(session_id=session_id):
            async with self._connection(session_id):
                await self._run_until_waiting(session_id)

    @contextlib.asynccontextmanager
    async def _connection(self, session_id: int):  # noqa: ANN202
        """One HTTP connection pool to GitHub for the whole wake (githubkit opens one per call otherwise)."""
        session, _ = await self._load(session_id)
        if session is None or self.context.github is None:
            yield
            return
        with log_context(installation_id=session.installation_id, repository=session.repository_full_name):
            async with self.context.github.installation(session.installation_id):
                yield

    async def _wake_after_lease(self, session_id: int) -> None:
        """Try again once another process's lease expires: a live holder looks for new work itself
        when it lets go, but a lease left by a dead worker would otherwise block the session."""
        if session_id in self._deferred:
            return
        async with self.context.db() as s:
            holder, until = await store.lease_of(s, session_id)
        if holder is not None and holder.startswith(f"{self.owner}:"):
            return  # held by a wake of this process, which re-checks for work when it releases
        if until is not None:
            self._deferred.add(session_id)
            self.schedule(session_id, delay=max(0.0, (until - utcnow()).total_seconds()) + 1)

    async def _keep_lease(self, session_id: int, lease: str, token: LeaseToken, run: asyncio.Task[None]) -> None:
        """Renew the lease while the step runs; when it cannot be renewed, whoever holds it now
        may run the session, so the step here is cancelled and its later writes are refused."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                kept = await store.renew_lease(self.context.db, session_id, lease, self.lease)
            except Exception:  # noqa: BLE001 - a lease we cannot renew is a lease we may have lost
                log.exception("session %s: renewing the lease failed", session_id)
                kept = False
            if not kept:
                token.lost = True
                metrics.record_error("runner")
                log.error("session %s: the lease was lost; cancelling the running step", session_id)
                run.cancel()
                return

    async def _has_work(self, session_id: int) -> bool:
        session, interactions = await self._load(session_id)
        return session is not None and isinstance(decide(interactions), Step)

    async def _load(self, session_id: int) -> tuple[Session | None, list[Interaction]]:
        async with self.context.db() as s:
            session = await store.get_session(s, session_id)
            interactions = await store.interactions_of(s, session_id) if session else []
        return session, interactions

    async def _run_until_waiting(self, session_id: int) -> None:
        while True:
            session, interactions = await self._load(session_id)
            if session is None or SessionStatus(session.status).is_final:
                return
            decision = decide(interactions)
            if isinstance(decision, Step):
                await self._pause_before_retry(interactions, decision)
                await self._run_step(session, interactions, decision)
                continue
            await self._settle(session, interactions, decision)
            return

    async def _pause_before_retry(self, interactions: list[Interaction], step: Step) -> None:
        last = interactions[-1] if interactions else None
        if last is not None and last.step == step.value and last.status == "failed":
            await asyncio.sleep(self.retry_delay(last.attempt))

    # ----- running one step

    async def _run_step(self, session: Session, interactions: list[Interaction], step: Step) -> None:
        attempt = attempt_number(interactions, step)
        with log_context(step=step.value, installation_id=session.installation_id,
                         repository=session.repository_full_name):
            log.info("running %s (attempt %d)", step.value, attempt)
            await store.append_interaction(self.context.db, session.id, step.value, "started", attempt=attempt,
                                           input={"head_sha": session.head_sha})
            if session.status != SessionStatus.running.value or not interactions:
                await self._save(session, {"status": SessionStatus.running.value, "status_reason": None})
                await self._label(session, SessionStatus.running.value)
            await self._publish(session, interactions, current=step.value)
            try:
                outcome = await self._execute(session, interactions, step, attempt)
            except StepFailure as failure:
                await self._record_failure(session, interactions, step, attempt, failure.kind, failure.reason,
                                           failure.result)
            except Exception as exc:  # noqa: BLE001 - any other error is a transient failure of this attempt
                outage = outage_of(exc)
                if outage is not None:
                    log.warning("%s attempt %d paused: %s", step.value, attempt, outage.what)
                    await self._record_failure(session, interactions, step, attempt, "outage", outage.what,
                                               outage_result(outage))
                    return
                kind, reason = classify(exc)
                expected = isinstance(exc, (RequestFailed, RequestTimeout, GraphQLFailed, BranchMoved, httpx.HTTPError))
                log.warning("%s attempt %d failed: %s", step.value, attempt, reason, exc_info=not expected)
                metrics.record_error("step")
                await self._record_failure(session, interactions, step, attempt, kind, reason, {})
            else:
                await self._record_success(session, step, attempt, outcome)

    async def _execute(self, session: Session, interactions: list[Interaction], step: Step,
                       attempt: int) -> StepOutcome:
        runner = self.steps.get(step)
        if runner is None:
            raise StepFailure("needs_human", f"this version of component-bot cannot run {step.value} yet")
        apps = self.context.github
        ctx = StepContext(
            session=session,
            interactions=interactions,
            attempt=attempt,
            occurrence=1 + sum(1 for i in interactions if i.step == step.value and i.status == "succeeded"),
            gh=apps.installation(session.installation_id),
            apps=apps,
            settings=self.context.settings,
            agent=self.context.agent,
            config=repo_config(interactions),
            save=lambda **values: self._save(session, values),
            now=self.now,
        )
        with metrics.step_timer(step.value):
            return await runner(ctx)

    async def _save(self, session: Session, values: dict[str, Any]) -> None:
        check_lease()
        await store.update_session(self.context.db, session.id, **values)
        for key, value in values.items():
            setattr(session, key, value)

    async def _record_success(self, session: Session, step: Step, attempt: int, outcome: StepOutcome) -> None:
        check_lease()
        usage = outcome.usage
        await store.append_interaction(
            self.context.db, session.id, step.value, "succeeded", attempt=attempt, result=outcome.result,
            commit_sha=outcome.commit_sha, transcript=compress_transcript(outcome.transcript), **usage_columns(usage),
        )
        metrics.record_step_usage(usage)
        updates = {**outcome.session_updates, **session_totals(session, usage)}
        old_head, new_head = session.head_sha, updates.get("head_sha")
        if old_head and new_head and new_head != old_head and step != Step.Initialize:
            await self._complete_superseded(session, old_head, new_head)
        if step == Step.FixTestFailures:
            updates["fix_iterations"] = session.fix_iterations + 1
        await self._save(session, updates)
        log.info("%s succeeded%s", step.value, f" with commit {outcome.commit_sha[:7]}" if outcome.commit_sha else "")

    async def _complete_superseded(self, session: Session, old_head: str, new_head: str) -> None:
        gh = self.context.github.installation(session.installation_id)
        try:
            await complete_superseded(gh, session, old_head, new_head, app_id=self.context.settings.app_id)
        except (RequestFailed, RequestTimeout, httpx.HTTPError) as exc:
            log.warning("could not complete the previous check run: %s", classify(exc)[1])

    async def _record_failure(self, session: Session, interactions: list[Interaction], step: Step, attempt: int,
                              kind: str, reason: str, result: dict[str, Any]) -> None:
        check_lease()
        usage = Usage(**result.pop("usage", {}))
        if kind == "outage":
            kind, reason, result = self._outage_wait(interactions, result)
        reason = redact(reason)
        await store.append_interaction(self.context.db, session.id, step.value, "failed", attempt=attempt,
                                       result={**result, "kind": kind, "reason": reason}, error=reason,
                                       **usage_columns(usage))
        if usage != Usage():
            metrics.record_step_usage(usage)
            await self._save(session, session_totals(session, usage))
        log.warning("%s failed (%s): %s", step.value, kind, reason.splitlines()[0] if reason else "")

    def _outage_wait(self, interactions: list[Interaction], result: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """How long to wait out an outage, counted from the first of the outages in a row; or, past
        `outage_max_wait`, hand the session to a person."""
        outage = Outage(result.get("service", "GitHub"), result.get("what", "an outage"), result.get("retry_after"))
        streak = outage_streak(interactions)
        now = self.now()
        since = datetime.fromisoformat(streak[0].result["since"]) if streak else now
        max_wait = timedelta(seconds=repo_config(interactions).outage_max_wait)
        if now - since >= max_wait:
            return "needs_human", gave_up_reason(outage, since, max_wait), result
        until = now + timedelta(seconds=wait_for(outage, len(streak) + 1))
        return "outage", waiting_reason(outage, until), {**result, "since": since.isoformat(),
                                                         "until": until.isoformat()}

    # ----- settling

    async def _settle(self, session: Session, interactions: list[Interaction], decision: Any) -> None:
        if isinstance(decision, Waiting):
            status, reason = decision.status, decision.reason
        elif isinstance(decision, SessionComplete):
            status, reason = decision.status, decision.reason
        else:
            status, reason = SessionStatus.failed.value, f"invalid session record at #{decision.seq}: {decision.reason}"
            log.error("session %s: %s", session.id, reason)
        changed = (session.status, session.status_reason) != (status, reason)
        if changed:
            await self._save(session, {"status": status, "status_reason": reason})
            log.info("session is now %s: %s", status, reason)
        await self._publish(session, interactions, current=None)
        if changed:
            await self._label(session, status)
        if changed and status in {SessionStatus.needs_human.value, SessionStatus.failed.value}:
            where = session.pr_number or (session.issue_number if spec_problem_of(interactions) else None)
            if where is not None:
                await self._ask_for_attention(session, interactions, status, reason, where)
        if status == SessionStatus.paused.value:
            self._resume_at(session.id, paused_until(interactions) or self.now())

    async def _label(self, session: Session, status: str) -> None:
        """The issue's state label follows the session; a failure to set it never stops the session."""
        gh = self.context.github.installation(session.installation_id)
        try:
            issue = (await gh.rest.issues.async_get(session.owner, session.repo, session.issue_number)).json()
            current = [label["name"] for label in issue.get("labels") or []]
            await set_state_label(gh, session.owner, session.repo, session.issue_number, STATE_LABEL.get(status),
                                  current)
        except (RequestFailed, RequestTimeout, httpx.HTTPError) as exc:
            log.warning("could not set the issue's state label: %s", classify(exc)[1])

    async def _ask_for_attention(self, session: Session, interactions: list[Interaction], status: str,
                                 reason: str, number: int) -> None:
        """A new comment on the PR, or on the issue before there is one (editing the status comment
        notifies nobody); once per stop."""
        gh = self.context.github.installation(session.installation_id)
        body = render_attention(session, interactions, status, reason)
        marker = attention_marker(session.id, interactions[-1].seq if interactions else 0)
        try:
            await (await self._comments(session)).post_once(number, marker, body)
        except (RequestFailed, RequestTimeout, httpx.HTTPError) as exc:
            log.warning("could not comment on the pull request: %s", classify(exc)[1])

    async def _comments(self, session: Session) -> Comments:
        apps = self.context.github
        return Comments(apps.installation(session.installation_id), session.owner, session.repo,
                        await apps.bot_login())

    async def _publish(self, session: Session, interactions: list[Interaction], current: str | None) -> None:
        """Update the status comment; a failure to do so never stops the session."""
        config = repo_config(interactions)
        body = render_status(session, interactions, max_fix_iterations=config.max_fix_iterations,
                             html_base=self.context.settings.html_url, current=current)
        gh = self.context.github.installation(session.installation_id)
        try:
            comment_id = await (await self._comments(session)).publish(
                session.issue_number, status_marker(session.id), body, session.status_comment_id)
        except (RequestFailed, RequestTimeout, httpx.HTTPError) as exc:
            log.warning("could not update the status comment: %s", classify(exc)[1])
            return
        if comment_id != session.status_comment_id:
            await self._save(session, {"status_comment_id": comment_id})
        try:
            await publish_check_run(gh, session, interactions, app_id=self.context.settings.app_id,
                                    details_url=status_comment_url(session, self.context.settings.html_url),
                                    headline=status_headline(session, current))
        except (RequestFailed, RequestTimeout, httpx.HTTPError) as exc:
            log.warning("could not update the component-bot check run: %s", classify(exc)[1])


def lease_is_live(session: Session) -> bool:
    return session.lease_owner is not None and session.lease_until is not None and session.lease_until > utcnow()


def signal_pending(session: Session, interactions: list[Interaction]) -> bool:
    """The last interaction is a signal, and acting on it would change something: run a step, or
    move the session to another status (a /stop, a merge…)."""
    if not interactions or interactions[-1].status != "received":
        return False
    decision = decide(interactions)
    return isinstance(decision, Step) or getattr(decision, "status", None) != session.status


def outage_streak(interactions: list[Interaction]) -> list[Interaction]:
    """The outage failures at the end of the record, oldest first (signals and starts in between aside)."""
    streak: list[Interaction] = []
    for interaction in reversed(interactions):
        if interaction.status in {"received", "started"}:
            continue
        if interaction.status != "failed" or (interaction.result or {}).get("kind") != "outage":
            break
        streak.append(interaction)
    return streak[::-1]


def paused_until(interactions: list[Interaction]) -> datetime | None:
    streak = outage_streak(interactions)
    until = (streak[-1].result or {}).get("until") if streak else None
    return datetime.fromisoformat(until) if until else None


def outage_result(outage: Outage) -> dict[str, Any]:
    return {"service": outage.service, "what": outage.what, "retry_after": outage.retry_after}


def decide(interactions: list[Interaction]):  # noqa: ANN201 - a Decision
    return next_step(limits(interactions), [to_record(i) for i in interactions])


def to_record(interaction: Interaction) -> Record:
    return Record(interaction.seq, interaction.step, interaction.status, interaction.result)


def repo_config(interactions: list[Interaction]) -> RepoConfig:
    """The repository config Initialize read (defaults before that)."""
    for interaction in reversed(interactions):
        if interaction.step == Step.Initialize.value and interaction.status == "succeeded":
            return RepoConfig.model_validate((interaction.result or {}).get("config") or {})
    return RepoConfig()


def limits(interactions: list[Interaction]) -> Limits:
    config = repo_config(interactions)
    return Limits(config.max_fix_iterations, config.max_step_attempts)


def attempt_number(interactions: list[Interaction], step: Step) -> int:
    """1 + the consecutive failed attempts of `step` since its last success."""
    attempt = 1
    for interaction in reversed(interactions):
        if interaction.step != step.value:
            if interaction.status in {"succeeded", "failed"}:
                break
            continue
        if interaction.status == "succeeded":
            break
        if interaction.status == "failed":
            attempt += 1
    return attempt


def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, reason) for an unexpected error; the reason names what failed, never a secret."""
    if isinstance(exc, BranchMoved):
        return "transient", str(exc)
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        kind = "transient" if status >= 500 or status in {403, 409, 429} else "fatal" if status == 401 else "transient"
        return kind, redact(f"GitHub answered {status} to {exc.request.method} {exc.request.url.path}")
    if isinstance(exc, RequestTimeout):
        return "transient", f"GitHub did not answer {exc.request.method} {exc.request.url.path} in time"
    if isinstance(exc, GraphQLFailed):
        return "transient", redact(f"GitHub GraphQL error: {exc}")[:500]
    if isinstance(exc, httpx.HTTPError):
        return "transient", f"network error talking to GitHub: {type(exc).__name__}"
    return "transient", redact(f"{type(exc).__name__}: {exc}")[:500]


def usage_columns(usage: Usage) -> dict[str, Any]:
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cache_write_tokens": usage.cache_write_tokens, "cache_read_tokens": usage.cache_read_tokens,
            "cost_usd": usage.cost_usd}


def session_totals(session: Session, usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": session.input_tokens + usage.input_tokens,
        "output_tokens": session.output_tokens + usage.output_tokens,
        "cache_write_tokens": session.cache_write_tokens + usage.cache_write_tokens,
        "cache_read_tokens": session.cache_read_tokens + usage.cache_read_tokens,
        "cost_usd": round(session.cost_usd + usage.cost_usd, 6),
    }


def compress_transcript(transcript: list[dict[str, Any]]) -> bytes | None:
    """Redacted before it is encoded, so a secret JSON would escape is still found."""
    if not transcript:
        return None
    return zlib.compress(json.dumps(redact_data(transcript), default=str).encode(), 6)
