"""One verified webhook delivery, as the handlers see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One verified delivery: the raw payload, and githubkit's typed model when it validated."""

    name: str
    delivery_id: str
    payload: dict[str, Any]
    model: Any = None

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def key(self) -> str:
        return f"{self.name}.{self.action}" if self.action else self.name

    @property
    def installation_id(self) -> int | None:
        return (self.payload.get("installation") or {}).get("id")

    @property
    def repository(self) -> dict[str, Any]:
        return self.payload.get("repository") or {}

    @property
    def sender(self) -> dict[str, Any]:
        return self.payload.get("sender") or {}
