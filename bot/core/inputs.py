"""The trusted inputs of a session: the design and test files and the repository's instructions,
as they were at the session's base commit.

Initialize reads them once, at the base, and records them; every later step uses the record. So
nothing the agent writes on the branch (it cannot, they are locked; but a human push could) and
nothing that changes on the default branch later changes what the agent is told the spec is.
Pure data: no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_KEPT_CHARS = 200_000  # the prompt shows less; the record keeps enough to find every test's name


@dataclass(frozen=True)
class SpecText:
    path: str
    sha: str | None = None
    text: str | None = None  # None: missing, or not UTF-8 text (`note` says which)
    note: str = ""


@dataclass(frozen=True)
class TrustedInputs:
    base_sha: str
    design: SpecText
    tests: SpecText
    instructions: dict[str, str] = field(default_factory=dict)  # path -> text (AGENTS.md, CLAUDE.md…)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrustedInputs:
        return cls(base_sha=data["base_sha"], design=SpecText(**data["design"]), tests=SpecText(**data["tests"]),
                   instructions=dict(data.get("instructions") or {}))


def kept(text: str) -> str:
    return text[:MAX_KEPT_CHARS]
