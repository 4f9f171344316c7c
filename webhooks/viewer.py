"""Who is looking at the dashboard, and which repositories' sessions they may see."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    login: str
    repository_ids: frozenset[int] | None  # None: every repository (the operator's token)

    @property
    def sees_everything(self) -> bool:
        return self.repository_ids is None
