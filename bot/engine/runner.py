"""The runner: wakes a session and runs its next steps, one at a time.

`wake(session_id)` takes the session's lease (a conditional UPDATE, so it serializes workers
across processes; the holder names its host and pid, so a restarted process takes over at once
what its dead predecessor held), then runs the session until it waits or ends
(bot/engine/work.py). A second wake while one runs returns at once; waking a finished or waiting
session does nothing. A lost lease cancels the running step. In-process asyncio tasks by
default; the `Scheduler` protocol (bot/core/scheduler.py) is the whole interface a queue replaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.agent import Agent
from bot.config import Settings
from bot.core.orchestrator import Signal, Status, Step
from bot.core.record import SessionRecord
from bot.engine.outages import resume_due
from bot.engine.publishing import Publisher
from bot.engine.work import SessionWork
from bot.github.client import GitHubApps
from bot.github.guard import LeaseLost, LeaseToken, holding
from bot.steps import StepRunner
from bot.store import sessions as store
from bot.store.models import Session, utcnow
from bot.telemetry import metrics
from bot.telemetry.logs import log_context

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


class Runner:
    def __init__(self, db: Any, apps: GitHubApps, agent: Agent, settings: Settings,  # noqa: ANN401
                 steps: Mapping[Step, StepRunner], *,
                 retry_delay: Callable[[int], float] = lambda attempt: min(2.0 ** attempt, 60.0),
                 now: Callable[[], datetime] = utcnow, sweep_every: float = 60.0, lease: timedelta = LEASE) -> None:
        self.db, self.apps, self.lease, self.now = db, apps, lease, now
        self.sweep_every = sweep_every  # seconds between looks for signals recorded by other processes
        self.work = SessionWork(db, Publisher(apps, settings), agent, settings, steps, retry_delay=retry_delay,
                                now=now, on_paused=self._resume_at)
        self.owner = holder_name()
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._deferred: set[int] = set()
        self._timers: dict[int, asyncio.Task[None]] = {}  # session id -> its resume after an outage

    # ----- the Scheduler interface

    async def schedule(self, session_id: int, delay: float = 0.0) -> None:
        """Wake the session soon, in the background."""
        self.spawn(session_id, delay)

    def spawn(self, session_id: int, delay: float = 0.0) -> None:
        """`schedule`, from code that does not await."""
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
        recorded = await store.append_interaction(self.db, session_id, signal, Status.received.value, input=payload or {},
                                                  dedupe_key=key)
        if recorded is None:
            log.info("session %s: %s from %s was recorded before; a replay changes nothing", session_id, signal, key)
            return False
        self.spawn(session_id)
        return True

    async def wake(self, session_id: int) -> None:
        lease = f"{self.owner}:{uuid.uuid4().hex[:8]}"  # one per wake: concurrent wakes in one process exclude each other too
        if not await store.claim_lease(self.db, session_id, lease, self.lease):
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
                await store.release_lease(self.db, session_id, lease)
        if not token.lost and await self._has_work(session_id):  # a signal recorded while we held the lease
            self.spawn(session_id)

    # ----- start, sweep, stop

    async def recover(self) -> int:
        """Wake every unfinished session: what was running when the process stopped carries on.
        A lease held by a process of this host that is no longer running is taken at once,
        instead of after it expires."""
        await self.release_dead_leases()
        async with self.db() as s:
            session_ids = await store.unfinished_session_ids(s)
        for session_id in session_ids:
            self.spawn(session_id)
        return len(session_ids)

    async def release_dead_leases(self) -> int:
        async with self.db() as s:
            held = await store.leases_held_by(s, f"{socket.gethostname()}:")
        dead = [(session_id, holder) for session_id, holder in held if not holder_alive(holder)]
        for session_id, holder in dead:
            log.info("session %s: its lease holder %s is not running any more; taking over", session_id, holder)
            await store.release_lease(self.db, session_id, holder)
        return len(dead)

    async def sweep(self) -> int:
        """Wake every unfinished session whose last interaction is a signal it has not acted on
        (one recorded by another process: `component-bot sessions retry|cancel`), and resume the
        sessions whose outage wait is over; returns how many."""
        async with self.db() as s:
            session_ids = await store.unfinished_session_ids(s)
        woken = 0
        for session_id in session_ids:
            session, record = await self.work.load(session_id)
            if session is None or lease_is_live(session):
                continue
            if record.signal_pending(session.status):
                self.spawn(session_id)
                woken += 1
            elif await self._resume_if_due(session, record):
                woken += 1
        return woken

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
        for task in [*self._timers.values(), *([self._sweeper] if self._sweeper else []), *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._timers.values(), *([self._sweeper] if self._sweeper else []), *self._tasks,
                             return_exceptions=True)
        self._sweeper = None

    # ----- outages: resume at the end of the wait

    async def _resume_at(self, session_id: int, until: datetime) -> None:
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
            session, record = await self.work.load(session_id)
            if session is not None:
                await self._resume_if_due(session, record)
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.exception("resuming session %s failed", session_id)
            metrics.record_error("runner")

    async def _resume_if_due(self, session: Session, record: SessionRecord) -> bool:
        until = resume_due(session.status, record, self.now())
        if until is None:
            return False
        await self.signal(session.id, Signal.resume.value, {"after": until.isoformat()})
        return True

    # ----- the lease

    async def _wake_later(self, session_id: int, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
            self._deferred.discard(session_id)
        try:
            await self.wake(session_id)
        except Exception:  # noqa: BLE001 - a background wake must never die silently
            log.exception("waking session %s failed", session_id)
            metrics.record_error("runner")

    async def _run_leased(self, session_id: int) -> None:
        with log_context(session_id=session_id):
            async with self._connection(session_id):
                await self.work.run_until_waiting(session_id)

    @contextlib.asynccontextmanager
    async def _connection(self, session_id: int):  # noqa: ANN202
        """One HTTP connection pool to GitHub for the whole wake (githubkit opens one per call otherwise)."""
        session, _ = await self.work.load(session_id)
        if session is None:
            yield
            return
        with log_context(installation_id=session.installation_id, repository=session.repository_full_name):
            async with self.apps.installation(session.installation_id):
                yield

    async def _wake_after_lease(self, session_id: int) -> None:
        """Try again once another process's lease expires: a live holder looks for new work itself
        when it lets go, but a lease left by a dead worker would otherwise block the session."""
        if session_id in self._deferred:
            return
        async with self.db() as s:
            holder, until = await store.lease_of(s, session_id)
        if holder is not None and holder.startswith(f"{self.owner}:"):
            return  # held by a wake of this process, which re-checks for work when it releases
        if until is not None:
            self._deferred.add(session_id)
            self.spawn(session_id, delay=max(0.0, (until - utcnow()).total_seconds()) + 1)

    async def _keep_lease(self, session_id: int, lease: str, token: LeaseToken, run: asyncio.Task[None]) -> None:
        """Renew the lease while the step runs; when it cannot be renewed, whoever holds it now
        may run the session, so the step here is cancelled and its later writes are refused."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                kept = await store.renew_lease(self.db, session_id, lease, self.lease)
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
        session, record = await self.work.load(session_id)
        return session is not None and isinstance(record.decide(), Step)


INCARNATION = uuid.uuid4().hex[:8]  # this run of this process: a restarted container has the same host and pid


def holder_name() -> str:
    """Who holds a lease: this host, pid and incarnation (so a restart here can tell its dead
    predecessor, even one with the same pid), and the runner (tests run several in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{INCARNATION}:{uuid.uuid4().hex[:8]}"


def holder_alive(holder: str) -> bool:
    """Whether the process named in a lease of this host still runs (any other answer: it might)."""
    parts = holder.split(":")
    if len(parts) < 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return True
    pid = int(parts[1])
    if pid == os.getpid():
        # This very process (another runner), or the one before a restart that kept host and pid
        # (in a container `serve` is pid 1, and `docker restart` keeps the host name).
        return parts[2] == INCARNATION
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_is_live(session: Session) -> bool:
    return session.lease_owner is not None and session.lease_until is not None and session.lease_until > utcnow()
