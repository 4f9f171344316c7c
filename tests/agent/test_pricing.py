from __future__ import annotations

import pytest

from bot.core.pricing import DEFAULT_PRICING, Price, Pricing
from bot.core.usage import Usage


@pytest.mark.parametrize(("model", "price"), [
    ("claude-sonnet-5-5", Price(3.0, 15.0)),
    ("claude-opus-4-6", Price(5.0, 25.0)),
    ("claude-opus-4-1-20250805", Price(15.0, 75.0)),
    ("claude-haiku-4-5-20251001", Price(1.0, 5.0)),
    ("claude-fable-5-2", Price(3.0, 15.0)),  # no known family: Sonnet prices
])
def test_price_by_family(model, price):
    assert DEFAULT_PRICING.price_for(model) == price


def test_cache_multipliers():
    million = 1_000_000
    assert DEFAULT_PRICING.cost("claude-sonnet-4-6", Usage(input_tokens=million)) == 3.0
    assert DEFAULT_PRICING.cost("claude-sonnet-4-6", Usage(output_tokens=million)) == 15.0
    assert DEFAULT_PRICING.cost("claude-sonnet-4-6", Usage(cache_write_tokens=million)) == 3.75
    assert DEFAULT_PRICING.cost("claude-sonnet-4-6", Usage(cache_write_tokens=million, cache_write_1h_tokens=million)) == 6.0
    assert DEFAULT_PRICING.cost("claude-sonnet-4-6", Usage(cache_read_tokens=million)) == pytest.approx(0.3)


def test_a_custom_table():
    pricing = Pricing({"sonnet": Price(1.0, 2.0)}, legacy={})
    assert pricing.cost("claude-sonnet-5", Usage(input_tokens=500_000, output_tokens=500_000)) == 1.5
