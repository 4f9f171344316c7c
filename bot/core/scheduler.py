"""What handlers and operator tools need from whatever runs sessions: the in-process runner on
SQLite (bot/engine/runner.py), Procrastinate's jobs on PostgreSQL (bot/jobs). A protocol in the core, so nothing above has to import
the engine to wake a session."""

from __future__ import annotations

from typing import Any, Protocol


class Scheduler(Protocol):
    async def schedule(self, session_id: int, delay: float = 0.0) -> None:
        """Wake the session soon (after `delay` seconds), in the background: returns once that is
        arranged (for a queue, once the job is enqueued), not when the session ran."""

    async def signal(self, session_id: int, signal: str, payload: dict[str, Any] | None = None, *,
                     key: str | None = None) -> bool:
        """Record something that happened outside and wake the session; False when `key` was
        recorded before (a replay)."""

    async def wake(self, session_id: int) -> None:
        """Run the session's next steps now, until it waits or ends."""
