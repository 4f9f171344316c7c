"""What a tool call answers the model: text, and whether it is an error the model should act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    is_error: bool = False


def error(text: str) -> ToolOutcome:
    return ToolOutcome(text, is_error=True)
