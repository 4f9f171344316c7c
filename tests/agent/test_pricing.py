from __future__ import annotations

import pytest

from bot.core.pricing import DEFAULT_PRICING, Price, Pricing, anthropic_model_id
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


@pytest.mark.parametrize(("model", "price"), [
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", Price(3.0, 15.0)),
    ("us.anthropic.claude-haiku-4-5-20251001-v1:0", Price(1.0, 5.0)),
    ("global.anthropic.claude-opus-4-6-v1", Price(5.0, 25.0)),
    ("eu.anthropic.claude-opus-4-1-20250805-v1:0", Price(15.0, 75.0)),
    ("anthropic.claude-opus-4-20250514-v1:0", Price(15.0, 75.0)),
    ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
     Price(1.0, 5.0)),
    ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", Price(3.0, 15.0)),
    ("claude-haiku-4-5@20251001", Price(1.0, 5.0)),
    ("claude-opus-4-1@20250805", Price(15.0, 75.0)),
    ("claude-opus-4@20250514", Price(15.0, 75.0)),
    ("claude-3-haiku@20240307", Price(0.25, 1.25)),
])
def test_bedrock_and_vertex_model_ids_cost_what_their_family_costs(model, price):
    assert DEFAULT_PRICING.price_for(model) == price


@pytest.mark.parametrize(("model", "anthropic_id"), [
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5-20250929"),
    ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5-20250929"),
    ("claude-sonnet-5-5", "claude-sonnet-5-5"),
])
def test_anthropic_model_id(model, anthropic_id):
    assert anthropic_model_id(model) == anthropic_id


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
