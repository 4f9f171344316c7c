"""Who is signed in with GitHub, and which repositories they may see, in this process's memory.

The session cookie carries only a random id. The person's OAuth token and their repository ids
stay here: never on disk, in the database or in a cookie (which could not hold thousands of ids
anyway). The repositories are listed again once they are older than `REFRESH_SECONDS`, so access
removed on GitHub is gone from the dashboard within minutes. A restart forgets everyone: the
dashboard then sends them through GitHub's sign-in again, which needs no click once they have
authorized the App. One process serves the dashboard, as `component-bot serve` runs it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

REFRESH_SECONDS = 5 * 60
MAX_SIGN_INS = 1000


@dataclass
class SignIn:
    login: str
    token: str = field(repr=False)
    repository_ids: frozenset[int]
    listed_at: float
    expires_at: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)  # one refresh at a time


class SignIns:
    def __init__(self, clock: Callable[[], float] = time.monotonic, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.clock, self.refresh_seconds = clock, refresh_seconds
        self._by_id: dict[str, SignIn] = {}

    def add(self, login: str, token: str, repository_ids: frozenset[int], ttl: float) -> str:
        """Remember a sign-in; its id is what the session cookie carries."""
        now = self.clock()
        self._by_id = {sid: s for sid, s in self._by_id.items() if s.expires_at > now}
        while len(self._by_id) >= MAX_SIGN_INS:
            self._by_id.pop(next(iter(self._by_id)))  # the oldest
        sign_in_id = secrets.token_urlsafe(32)
        self._by_id[sign_in_id] = SignIn(login, token, repository_ids, now, now + ttl)
        return sign_in_id

    def get(self, sign_in_id: str) -> SignIn | None:
        sign_in = self._by_id.get(sign_in_id)
        if sign_in is not None and sign_in.expires_at <= self.clock():
            self.drop(sign_in_id)
            return None
        return sign_in

    def stale(self, sign_in: SignIn) -> bool:
        return self.clock() - sign_in.listed_at >= self.refresh_seconds

    def relisted(self, sign_in: SignIn, repository_ids: frozenset[int]) -> None:
        sign_in.repository_ids, sign_in.listed_at = repository_ids, self.clock()

    def drop(self, sign_in_id: str) -> None:
        self._by_id.pop(sign_in_id, None)

    def __len__(self) -> int:
        return len(self._by_id)
