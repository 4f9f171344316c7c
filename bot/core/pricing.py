"""Estimated cost of a run, from the token counts the API reports.

Prices are USD per million tokens, from Anthropic's public pricing page (platform.claude.com,
"Pricing", as last checked for the Claude 4.5/4.6 generation): Opus 4.5+ $5 in / $25 out,
Sonnet 4.x $3 / $15, Haiku 4.5 $1 / $5; the older Opus 4 and 4.1 $15 / $75. Newer models in
the SDK's list (Claude 5 and later) were not priced there when this was written: they are
assumed to cost what their family costs, and a model of no known family costs what Sonnet does.
Prompt caching multiplies the input price: writing a 5-minute entry 1.25×, a 1-hour entry 2×,
reading 0.1×. These are estimates for the PR summary, not an invoice.

Amazon Bedrock and Google Vertex AI name the same models their own way
(`us.anthropic.claude-opus-4-1-20250805-v1:0`, an inference profile ARN, `claude-opus-4-1@20250805`);
`anthropic_model_id` maps those to the Anthropic API's spelling first, so each costs what its family
costs there. An application inference profile's ARN names no model: it is priced as Sonnet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.usage import Usage

CACHE_WRITE_5M_FACTOR = 1.25
CACHE_WRITE_1H_FACTOR = 2.0
CACHE_READ_FACTOR = 0.1
PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    input: float
    output: float


FAMILY_PRICES: Mapping[str, Price] = {
    "opus": Price(5.0, 25.0),
    "sonnet": Price(3.0, 15.0),
    "haiku": Price(1.0, 5.0),
}
# Checked before the families: model ids that start with one of these keep their older price.
LEGACY_PRICES: Mapping[str, Price] = {
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4-0": Price(15.0, 75.0),
    "claude-opus-4-2025": Price(15.0, 75.0),
    "claude-3-haiku": Price(0.25, 1.25),
}
DEFAULT_FAMILY = "sonnet"
BEDROCK_PREFIX = re.compile(r"^(?:[a-z]{2,6}(?:-[a-z]+)?\.)?anthropic\.")  # geography of an inference profile
BEDROCK_VERSION_SUFFIX = re.compile(r"-v\d+(?::\d+)?$")


def anthropic_model_id(model: str) -> str:
    """`claude-…` as the Anthropic API spells it, from a Bedrock or Vertex model id (or that id itself).

    Bedrock: an ARN's last part, without the inference profile's geography (`us.`, `global.`…),
    `anthropic.` and the `-v1:0` version. Vertex: `@date` becomes `-date`.
    """
    name = model.strip().lower()
    if name.startswith("arn:"):
        name = name.rpartition("/")[2]
    name = BEDROCK_VERSION_SUFFIX.sub("", BEDROCK_PREFIX.sub("", name))
    return name.replace("@", "-")


class Pricing:
    def __init__(self, families: Mapping[str, Price] = FAMILY_PRICES,
                 legacy: Mapping[str, Price] = LEGACY_PRICES) -> None:
        self.families = dict(families)
        self.legacy = dict(legacy)

    def price_for(self, model: str) -> Price:
        name = anthropic_model_id(model)
        for prefix, price in self.legacy.items():
            if name.startswith(prefix):
                return price
        for family, price in self.families.items():
            if family in name:
                return price
        return self.families.get(DEFAULT_FAMILY, FAMILY_PRICES[DEFAULT_FAMILY])

    def cost(self, model: str, usage: Usage) -> float:
        price = self.price_for(model)
        write_5m = usage.cache_write_tokens - usage.cache_write_1h_tokens
        dollars = (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + write_5m * price.input * CACHE_WRITE_5M_FACTOR
            + usage.cache_write_1h_tokens * price.input * CACHE_WRITE_1H_FACTOR
            + usage.cache_read_tokens * price.input * CACHE_READ_FACTOR
        )
        return round(dollars / PER_MILLION, 6)


DEFAULT_PRICING = Pricing()
