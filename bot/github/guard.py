"""Writes to GitHub only while the session's lease is held.

A runner holds a session's lease while a step runs. When the lease is lost (renewal failed, or
another worker took it after it expired), the step is cancelled; any write the step still tries
after that point is refused here, before it reaches GitHub, so two workers never act on one
session at once. The lease token lives in a context variable set by the runner for the task that
runs the session, so concurrent sessions in one process never see each other's token.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LeaseLost(RuntimeError):
    """The session's lease is no longer ours: stop, write nothing more."""


@dataclass
class LeaseToken:
    session_id: int
    lost: bool = False


_current: contextvars.ContextVar[LeaseToken | None] = contextvars.ContextVar("session_lease", default=None)


@contextlib.contextmanager
def holding(token: LeaseToken) -> Iterator[LeaseToken]:
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def check_lease() -> None:
    token = _current.get()
    if token is not None and token.lost:
        raise LeaseLost(f"session {token.session_id}: the lease was lost; nothing more is written")


async def refuse_writes_without_lease(request: httpx.Request) -> None:
    """httpx request hook: a write on behalf of a session whose lease was lost never leaves."""
    if request.method not in SAFE_METHODS:
        check_lease()
