"""Token usage and cost: one type for a model turn, a step, a session or a report.

Anthropic reports input, output, cache-write and cache-read tokens per response (cache writes
split into 5-minute and 1-hour entries, which are priced differently); the bot adds them up per
step and per session and stores the four counts and the cost as columns. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("input", "output", "cache_write", "cache_read")


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0       # 5-minute and 1-hour cache writes together
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    cache_write_1h_tokens: int = 0    # of cache_write_tokens, the 1-hour ones (only for pricing a turn)

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                     self.cache_write_tokens + other.cache_write_tokens,
                     self.cache_read_tokens + other.cache_read_tokens, round(self.cost_usd + other.cost_usd, 6),
                     self.cache_write_1h_tokens + other.cache_write_1h_tokens)

    @property
    def prompt_tokens(self) -> int:
        """Every token of the prompt, whether read from the cache, written to it, or neither."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.output_tokens

    def by_kind(self) -> dict[str, int]:
        return {"input": self.input_tokens, "output": self.output_tokens, "cache_write": self.cache_write_tokens,
                "cache_read": self.cache_read_tokens}

    def token_columns(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cache_write_tokens": self.cache_write_tokens, "cache_read_tokens": self.cache_read_tokens}

    def columns(self) -> dict[str, Any]:
        """As the database stores it (sessions and interactions have these columns)."""
        return {**self.token_columns(), "cost_usd": self.cost_usd}

    @classmethod
    def of(cls, row: Any) -> Usage:
        """From a row with the columns (a session, an interaction) or a dict of them."""
        get = row.get if isinstance(row, dict) else lambda key: getattr(row, key, 0)
        return cls(int(get("input_tokens") or 0), int(get("output_tokens") or 0),
                   int(get("cache_write_tokens") or 0), int(get("cache_read_tokens") or 0),
                   float(get("cost_usd") or 0.0))

    @classmethod
    def from_api(cls, usage: Any) -> Usage:
        """From the Anthropic SDK's `usage` of a response (its cost is priced separately)."""
        breakdown = getattr(usage, "cache_creation", None)
        return cls(input_tokens=usage.input_tokens or 0, output_tokens=usage.output_tokens or 0,
                   cache_write_tokens=usage.cache_creation_input_tokens or 0,
                   cache_read_tokens=usage.cache_read_input_tokens or 0,
                   cache_write_1h_tokens=(getattr(breakdown, "ephemeral_1h_input_tokens", 0) or 0) if breakdown else 0)
