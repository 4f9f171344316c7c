"""The scripted Anthropic fake, exercised through the real AsyncAnthropic client."""

from __future__ import annotations

import time

import anthropic
import httpx2
import pytest

from tests.fakes.anthropic import (
    BASE_URL,
    BEDROCK_VERSION,
    VERTEX_VERSION,
    FakeAnthropic,
    FakeClock,
    ScriptedError,
    approx_tokens,
    min_cacheable_tokens,
    tool_use_block,
)

MODEL = "claude-sonnet-4-6"
EDITOR = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}
READ_FILE = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
}
LONG_SYSTEM = "You implement components from their design documents. " * 200  # ~2800 tokens: over Sonnet 4.6's 2048


@pytest.fixture
def fake() -> FakeAnthropic:
    return FakeAnthropic()


@pytest.fixture
async def client(fake):
    async with fake.client(max_retries=2) as c:
        yield c


def cached_system(text: str = LONG_SYSTEM, ttl: str | None = None) -> list[dict]:
    marker = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return [{"type": "text", "text": text, "cache_control": marker}]


def user(content):
    return {"role": "user", "content": content}


def assistant(content):
    return {"role": "assistant", "content": content}


def tool_result(tool_use_id, content="x"):
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}


async def ask(client, content="Implement docs/x.md", **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("max_tokens", 1024)
    kw.setdefault("messages", [user(content)])
    return await client.messages.create(**kw)


# ------------------------------------------------------------------ conversation


async def test_tool_use_turn_then_end_turn(fake, client):
    fake.tool_use("str_replace_based_edit_tool", {"command": "view", "path": "docs/x.md"}, text="Looking.")
    fake.reply("Done.")
    messages = [user("Implement docs/x.md")]

    first = await ask(client, messages=messages, tools=[EDITOR])
    assert first.stop_reason == "tool_use"
    assert first.stop_sequence is None
    assert first.id.startswith("msg_") and first.model == MODEL
    assert first.content[0].type == "text" and first.content[0].text == "Looking."
    call = first.content[1]
    assert (call.type, call.name) == ("tool_use", "str_replace_based_edit_tool")
    assert call.input == {"command": "view", "path": "docs/x.md"}
    assert call.id.startswith("toolu_")

    messages += [
        {"role": "assistant", "content": first.content},
        user([tool_result(call.id, "# X\nspec")]),
    ]
    second = await ask(client, messages=messages, tools=[EDITOR])
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "Done."
    assert second.id != first.id

    recorded = fake.last_request
    assert recorded.tool_names == ["str_replace_based_edit_tool"]
    assert recorded.tool_result_text(call.id) == "# X\nspec"
    assert recorded.headers["authorization"] == "Bearer sk-test"
    fake.assert_done()


async def test_several_tool_uses_in_one_turn_get_unique_ids(fake, client):
    fake.turn(
        blocks=[tool_use_block("read_file", {"path": "a.py"}), tool_use_block("read_file", {"path": "b.py"})],
        stop_reason="tool_use",
        usage={"output_tokens": 42},
    )
    message = await ask(client, tools=[READ_FILE])
    ids = [b.id for b in message.content]
    assert len(set(ids)) == 2 and all(i.startswith("toolu_") for i in ids)
    assert message.usage.output_tokens == 42


@pytest.mark.parametrize("stop_reason", ["max_tokens", "pause_turn", "refusal", "stop_sequence"])
async def test_other_stop_reasons(fake, client, stop_reason):
    fake.reply("Partial", stop_reason=stop_reason)
    message = await ask(client)
    assert message.stop_reason == stop_reason
    assert (message.stop_details is not None) == (stop_reason == "refusal")


async def test_turn_fn_builds_the_reply_from_the_request(fake, client):
    fake.turn_fn(lambda request: {"text": request["messages"][-1]["content"].upper()})
    fake.turn_fn(lambda request: ScriptedError.build(529, retry_after_ms=None, should_retry=False))
    assert (await ask(client, "shout")).content[0].text == "SHOUT"
    with pytest.raises(anthropic.OverloadedError):
        await ask(client)


async def test_streaming_reassembles_the_scripted_turn(fake, client):
    fake.tool_use("read_file", {"path": "a.py"}, text="Reading.")
    async with client.messages.stream(model=MODEL, max_tokens=64_000, tools=[READ_FILE],
                                      messages=[{"role": "user", "content": "go"}]) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "Reading."
    assert final.stop_reason == "tool_use"
    assert final.content[1].input == {"path": "a.py"}
    assert fake.last_request.json["stream"] is True


async def test_count_tokens(fake, client):
    result = await client.messages.count_tokens(model=MODEL, system="x" * 400, messages=[user("y" * 40)])
    assert result.input_tokens == 110
    assert fake.remaining == 0 and not fake.failures


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("status", "error_class", "error_type", "message"),
    [
        (529, anthropic.OverloadedError, "overloaded_error", "Overloaded"),
        (429, anthropic.RateLimitError, "rate_limit_error", None),
        (500, anthropic.InternalServerError, "api_error", "Internal server error"),
    ],
)
async def test_error_bodies_have_the_real_shape(fake, status, error_class, error_type, message):
    fake.error(status)
    async with fake.client(max_retries=0) as client:
        with pytest.raises(error_class) as caught:
            await ask(client)
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == error_type
    if message:
        assert caught.value.body["error"]["message"] == message
    assert caught.value.request_id


async def test_overloaded_twice_then_success_retries_fast(fake, client):
    fake.error(529, times=2)
    fake.reply("finally")
    started = time.monotonic()
    message = await ask(client)
    elapsed = time.monotonic() - started

    assert message.content[0].text == "finally"
    assert [r.headers["x-stainless-retry-count"] for r in fake.message_requests] == ["0", "1", "2"]
    assert [r.status for r in fake.message_requests] == [529, 529, 200]
    assert elapsed < 0.3, "the SDK's own backoff would sleep at least 1.1 s"
    fake.assert_done()


async def test_rate_limit_with_retry_after_zero_still_retries_fast(fake, client):
    fake.error(429, retry_after=0)
    fake.reply("ok")
    started = time.monotonic()
    await ask(client)
    assert time.monotonic() - started < 0.3
    assert fake.message_requests[0].response_json["error"]["type"] == "rate_limit_error"


async def test_overloaded_forever_raises_after_max_retries(fake, client):
    fake.error(529, times=3)
    with pytest.raises(anthropic.OverloadedError):
        await ask(client)
    assert len(fake.message_requests) == 3
    fake.assert_done()


async def test_script_exhaustion_fails_loudly_without_retries(fake, client):
    with pytest.raises(anthropic.InternalServerError, match="fake anthropic: script exhausted"):
        await ask(client)
    assert len(fake.message_requests) == 1
    with pytest.raises(AssertionError, match="script exhausted"):
        fake.assert_done()


async def test_a_broken_turn_fn_fails_loudly(fake, client):
    fake.turn_fn(lambda request: {"txt": "typo"})
    with pytest.raises(anthropic.InternalServerError, match="turn_fn failed"):
        await ask(client)
    assert len(fake.message_requests) == 1


async def test_leftover_script_fails_assert_done(fake):
    fake.reply("never played")
    with pytest.raises(AssertionError, match="never played"):
        fake.assert_done()


async def test_scripted_tool_the_request_did_not_declare_fails_loudly(fake, client):
    fake.tool_use("read_file", {"path": "a.py"})
    with pytest.raises(anthropic.InternalServerError, match="not among the request's tools"):
        await ask(client, tools=[EDITOR])
    assert fake.failures


async def test_missing_api_key_is_401_and_x_api_key_is_accepted(fake):
    fake.reply("hi")
    body = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=fake.app), base_url=BASE_URL) as http:
        version = {"anthropic-version": "2023-06-01"}
        anonymous = await http.post("/v1/messages", json=body, headers=version)
        keyed = await http.post("/v1/messages", json=body, headers={**version, "x-api-key": "k"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"
    assert keyed.status_code == 200 and keyed.json()["content"][0]["text"] == "hi"


# -------------------------------------------------------------------- validation


TOOL_CALL = assistant([{"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a"}}])
MARK = {"type": "ephemeral"}


def marked(text):
    return {"type": "text", "text": text, "cache_control": MARK}


INVALID = {
    "missing model": ({"max_tokens": 10, "messages": [user("hi")]}, "model: Field required"),
    "missing max_tokens": ({"model": MODEL, "messages": [user("hi")]}, "max_tokens: Field required"),
    "missing messages": ({"model": MODEL, "max_tokens": 10}, "messages: Field required"),
    "starts with assistant": ({"messages": [assistant("hi"), user("hi")]}, 'first message must use the "user" role'),
    "not alternating": ({"messages": [user("a"), user("b")]}, "roles must alternate"),
    "unknown tool_use_id": (
        {"tools": [READ_FILE], "messages": [user("a"), TOOL_CALL, user([tool_result("toolu_other")])]},
        "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_other",
    ),
    "tool_use without result": (
        {"tools": [READ_FILE], "messages": [user("a"), TOOL_CALL, user("go on")]},
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
    ),
    "five breakpoints": (
        {"system": [marked("s1"), marked("s2")], "messages": [user([marked("a"), marked("b"), marked("c")])]},
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    "top-level marker is the fifth": (
        {"cache_control": MARK, "system": [marked("s1"), marked("s2")],
         "messages": [user([marked("a"), marked("b"), {"type": "text", "text": "c"}])]},
        "Found 5.",
    ),
    "a one-hour breakpoint after a five-minute one": (
        {"system": [marked("s1"), {**marked("s2"), "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
         "messages": [user("a")]},
        "a breakpoint with a longer ttl must come before those with a shorter one",
    ),
    "editor tool renamed": (
        {"tools": [{"type": "text_editor_20250728", "name": "editor"}], "messages": [user("a")]},
        "tools.0.text_editor_20250728.name: Input should be 'str_replace_based_edit_tool'",
    ),
}


@pytest.mark.parametrize("case", INVALID)
async def test_invalid_requests_raise_bad_request(fake, client, case):
    fields, message = INVALID[case]
    body = {"model": MODEL, "max_tokens": 10, **fields} if "missing" not in case else fields
    fake.reply("must not be played")
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client.post("/v1/messages", body=body, cast_to=object)
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert message in caught.value.body["error"]["message"]
    assert fake.remaining == 1


async def test_consecutive_user_turns_merge_when_not_strict():
    fake = FakeAnthropic(strict_alternation=False)
    fake.reply("ok")
    async with fake.client() as client:
        message = await ask(client, messages=[user("a"), user("b")])
    assert message.content[0].text == "ok"


# ----------------------------------------------------------------------- caching


def total_input(usage) -> int:
    return usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens


async def test_same_cached_prefix_is_read_the_second_time(fake, client):
    fake.reply("one").reply("two")
    first = (await ask(client, "first question", system=cached_system())).usage
    second = (await ask(client, "second question", system=cached_system())).usage

    assert first.cache_read_input_tokens == 0
    assert first.cache_creation_input_tokens == approx_tokens(len(LONG_SYSTEM)) >= 2048
    assert first.cache_creation.ephemeral_5m_input_tokens == first.cache_creation_input_tokens
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens > 0 and total_input(second) == total_input(first)


async def test_changed_system_prompt_writes_a_new_cache_entry(fake, client):
    fake.reply("one").reply("two")
    await ask(client, system=cached_system())
    usage = (await ask(client, system=cached_system(LONG_SYSTEM + "Be terse."))).usage
    assert usage.cache_read_input_tokens == 0
    assert usage.cache_creation_input_tokens > 0


async def test_changing_tools_invalidates_the_system_breakpoint_after_them(fake, client):
    fake.reply("one").reply("two")
    await ask(client, system=cached_system(), tools=[READ_FILE])
    usage = (await ask(client, system=cached_system(), tools=[READ_FILE, EDITOR])).usage
    assert usage.cache_read_input_tokens == 0 and usage.cache_creation_input_tokens > 0


async def test_prefix_below_the_minimum_is_not_cached(fake, client):
    fake.reply("one").reply("two")
    for _ in range(2):
        usage = (await ask(client, system=cached_system("Short prompt."))).usage
        assert usage.cache_creation_input_tokens == usage.cache_read_input_tokens == 0


async def test_minimum_is_configurable():
    fake = FakeAnthropic(min_cacheable_tokens=1)
    fake.reply("one")
    async with fake.client() as client:
        usage = (await ask(client, system=cached_system("Short prompt."))).usage
    assert usage.cache_creation_input_tokens == approx_tokens(len("Short prompt."))


@pytest.mark.parametrize(
    ("ttl", "idle", "hit"), [("5m", 299, True), ("5m", 301, False), ("1h", 301, True), ("1h", 3601, False)]
)
async def test_cache_ttl(ttl, idle, hit):
    clock = FakeClock()
    fake = FakeAnthropic(clock=clock)
    fake.reply("one").reply("two")
    async with fake.client() as client:
        first = (await ask(client, system=cached_system(ttl=ttl))).usage
        clock.advance(idle)
        second = (await ask(client, system=cached_system(ttl=ttl))).usage
    assert getattr(first.cache_creation, f"ephemeral_{ttl}_input_tokens") == first.cache_creation_input_tokens
    assert (second.cache_read_input_tokens > 0) is hit


async def test_reading_refreshes_the_ttl():
    clock = FakeClock()
    fake = FakeAnthropic(clock=clock)
    fake.reply("1").reply("2").reply("3")
    async with fake.client() as client:
        for _ in range(3):
            usage = (await ask(client, system=cached_system())).usage
            clock.advance(200)
    assert usage.cache_read_input_tokens > 0


async def test_top_level_cache_control_follows_a_growing_conversation(fake, client):
    """The automatic breakpoint moves to the newest block; the lookback finds the previous one."""
    fake.reply("first answer").reply("second answer")
    history = [user(LONG_SYSTEM)]
    first = await ask(client, messages=history, cache_control={"type": "ephemeral"})
    history += [assistant("first answer"), user("and then?")]
    second = (await ask(client, messages=history, cache_control={"type": "ephemeral"})).usage

    assert second.cache_read_input_tokens == first.usage.cache_creation_input_tokens > 0
    assert second.cache_creation_input_tokens == total_input(second) - second.cache_read_input_tokens
    assert second.input_tokens == 0


async def test_explicit_usage_overrides_computed_usage(fake, client):
    fake.reply("hi", usage={"input_tokens": 7, "cache_read_input_tokens": 3})
    usage = (await ask(client)).usage
    assert (usage.input_tokens, usage.cache_read_input_tokens) == (7, 3)


async def test_max_tokens_zero_prewarms_the_cache_without_a_script_turn(fake, client):
    fake.reply("real")
    warm = await ask(client, system=cached_system(), max_tokens=0)
    real = await ask(client, system=cached_system())
    assert warm.content == [] and warm.usage.cache_creation_input_tokens > 0
    assert real.content[0].text == "real" and real.usage.cache_read_input_tokens > 0


@pytest.mark.parametrize(("model", "minimum"), [
    ("claude-sonnet-4-5-20250929", 1024), ("claude-sonnet-4-20250514", 1024), ("claude-3-7-sonnet-latest", 1024),
    ("claude-opus-4-1-20250805", 1024), ("claude-sonnet-4-6", 2048), ("claude-3-5-haiku-20241022", 2048),
    ("claude-opus-4-5", 4096), ("claude-haiku-4-5", 4096),
    ("us.anthropic.claude-opus-4-5-20251101-v1:0", 4096), ("claude-opus-4-6@20260201", 4096),  # Bedrock, Vertex
    ("claude-sonnet-5-5", 2048), ("claude-opus-5", 4096),  # newer than the table: the family's newest minimum
    ("arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/a1b2c3", 1024),  # no model named
])
def test_each_model_has_its_own_minimum_cacheable_length(model, minimum):
    assert min_cacheable_tokens(model) == minimum


@pytest.mark.parametrize(("model", "cached"), [("claude-sonnet-4-6", True), ("claude-opus-4-6", False)])
async def test_a_prefix_under_the_models_minimum_is_not_cached(fake, client, model, cached):
    fake.reply("one").reply("two")
    for _ in range(2):
        usage = (await ask(client, model=model, system=cached_system())).usage  # ~2800 tokens
    assert (usage.cache_read_input_tokens > 0) is cached
    assert usage.cache_creation_input_tokens == 0


@pytest.mark.parametrize(("blocks_after", "hit"), [(19, True), (20, False)])
async def test_a_cached_prefix_is_found_only_up_to_20_blocks_before_a_breakpoint(fake, client, blocks_after, hit):
    """Entries are looked for at the breakpoint and the 19 block boundaries before it, no further."""
    fake.reply("one").reply("two")
    await ask(client, messages=[user([marked(LONG_SYSTEM)])])
    notes = [{"type": "text", "text": f"note {i}"} for i in range(blocks_after)]
    later = [{"type": "text", "text": LONG_SYSTEM}, *notes]
    later[-1] = marked(later[-1]["text"])
    usage = (await ask(client, messages=[user(later)])).usage
    assert (usage.cache_read_input_tokens == approx_tokens(len(LONG_SYSTEM))) is hit
    assert usage.cache_creation_input_tokens == total_input(usage) - usage.cache_read_input_tokens


async def test_tool_input_with_its_keys_in_another_order_is_another_prefix(fake, client):
    """The blocks' own fields may come in any order; the JSON of a tool call's input is read as sent."""
    call = {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.py", "limit": 40}}
    def history(tool_use):
        return [user(LONG_SYSTEM), assistant([tool_use]), user([{**tool_result("toolu_1"), "cache_control": MARK}])]
    fake.reply("1").reply("2").reply("3")
    first = (await ask(client, tools=[READ_FILE], messages=history(call))).usage
    fields_reordered = dict(reversed(list(call.items())))
    same = (await ask(client, tools=[READ_FILE], messages=history(fields_reordered))).usage
    input_reordered = {**call, "input": {"limit": 40, "path": "a.py"}}
    other = (await ask(client, tools=[READ_FILE], messages=history(input_reordered))).usage
    assert list(fake.last_request.messages[1]["content"][0]["input"]) == ["limit", "path"]  # sent as given
    assert same.cache_read_input_tokens == first.cache_creation_input_tokens > 0
    assert other.cache_read_input_tokens == 0 and other.cache_creation_input_tokens == total_input(other)


async def test_one_hour_writes_before_five_minute_writes_are_counted_apart(fake, client):
    fake.reply("one")
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    usage = (await ask(client, system=system, messages=[user([marked("Implement docs/x.md. " * 50)])])).usage
    assert usage.cache_creation.ephemeral_1h_input_tokens == approx_tokens(len(LONG_SYSTEM))
    assert usage.cache_creation.ephemeral_5m_input_tokens == total_input(usage) - approx_tokens(len(LONG_SYSTEM)) > 0
    assert usage.cache_creation_input_tokens == total_input(usage) and usage.input_tokens == 0


async def test_the_one_hour_prefix_outlives_the_five_minute_breakpoints_after_it():
    """A CI run of eight minutes between two steps: what was cached for an hour is read, the rest is
    written again."""
    clock = FakeClock()
    fake = FakeAnthropic(clock=clock)
    fake.reply("one").reply("two")
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    messages = [user([marked("Implement docs/x.md. " * 50)])]
    async with fake.client() as client:
        first = (await ask(client, system=system, messages=messages)).usage
        clock.advance(8 * 60)
        second = (await ask(client, system=system, messages=messages)).usage
    assert second.cache_read_input_tokens == first.cache_creation.ephemeral_1h_input_tokens
    assert second.cache_creation_input_tokens == first.cache_creation.ephemeral_5m_input_tokens


# ------------------------------------------------------------------- out of process


async def test_served_by_uvicorn_over_tcp(fake):
    fake.reply("over the wire")
    with fake.serve() as base_url:
        async with anthropic.AsyncAnthropic(api_key="sk-test", base_url=base_url, max_retries=0) as client:
            message = await ask(client)
    assert message.content[0].text == "over the wire"
    assert fake.last_request.headers["host"].startswith("127.0.0.1:")


# ------------------------------------------------------------ Bedrock and Vertex AI


BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
VERTEX_MODEL = "claude-sonnet-4-5@20250929"
AWS_KEYS = {"aws_access_key": "AKIDFAKEFAKEFAKE0001", "aws_secret_key": "fake-secret-key"}
ON_BEDROCK = {"extra_body": {"anthropic_version": BEDROCK_VERSION}}
ON_VERTEX = {"extra_body": {"anthropic_version": VERTEX_VERSION}}


@pytest.fixture
def cloud(monkeypatch) -> FakeAnthropic:
    """A fake that checks Bedrock's SigV4 signatures and Vertex's token, project and region."""
    for name in ("AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK", "ANTHROPIC_BEDROCK_BASE_URL", "ANTHROPIC_VERTEX_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return FakeAnthropic(aws_credentials=(AWS_KEYS["aws_access_key"], AWS_KEYS["aws_secret_key"]),
                         aws_region="us-east-1", vertex_token="ya29.good", vertex_project="proj",
                         vertex_region="us-east5", min_cacheable_tokens=1)


def signed_by(cloud: FakeAnthropic, **kw):
    return cloud.bedrock_client(**{**AWS_KEYS, "max_retries": 0, **kw})


async def test_bedrock_invoke_plays_the_script_with_the_model_from_the_path(cloud):
    cloud.reply("from Bedrock")
    async with signed_by(cloud) as client:
        message = await ask(client, model=BEDROCK_MODEL, **ON_BEDROCK)
    request = cloud.last_request
    assert message.content[0].text == "from Bedrock" and message.model == BEDROCK_MODEL
    assert request.url == f"https://bedrock-runtime.us-east-1.amazonaws.com/model/{BEDROCK_MODEL}/invoke"
    assert (request.kind, request.model, request.status) == ("messages", BEDROCK_MODEL, 200)
    assert request.body["anthropic_version"] == BEDROCK_VERSION and "model" not in request.body
    cloud.assert_done()


@pytest.mark.parametrize(("client_options", "error_type", "message"), [
    ({"aws_secret_key": "another-secret"}, "InvalidSignatureException", "The request signature we calculated"),
    ({"aws_access_key": "AKIDSOMEONEELSE00001"}, "UnrecognizedClientException", "security token included"),
    ({"aws_session_token": "a-token-the-fake-does-not-expect"}, "UnrecognizedClientException", "security token"),
    ({"aws_region": "us-west-2"}, "InvalidSignatureException", "scoped to a valid region"),
])
async def test_bedrock_checks_the_sigv4_signature(cloud, client_options, error_type, message):
    cloud.reply("must not be played")
    async with signed_by(cloud, **client_options) as client:
        with pytest.raises(anthropic.PermissionDeniedError) as caught:
            await ask(client, model=BEDROCK_MODEL, **ON_BEDROCK)
    assert message in caught.value.body["message"]
    assert caught.value.response.headers["x-amzn-errortype"].startswith(error_type + ":")
    assert cloud.remaining == 1


async def test_bedrock_refuses_an_unsigned_request_and_takes_a_bearer_api_key(cloud):
    cloud.bedrock_api_key = "bedrock-key"
    body = {"anthropic_version": BEDROCK_VERSION, "max_tokens": 10, "messages": [user("hi")]}
    cloud.reply("keyed")
    async with cloud.http_client() as http:
        url = f"https://bedrock-runtime.us-east-1.amazonaws.com/model/{BEDROCK_MODEL}/invoke"
        anonymous = await http.post(url, json=body)
        wrong = await http.post(url, json=body, headers={"authorization": "Bearer other"})
        keyed = await http.post(url, json=body, headers={"authorization": "Bearer bedrock-key"})
    assert anonymous.status_code == 403 and anonymous.json() == {"message": "Missing Authentication Token"}
    assert wrong.status_code == 403 and wrong.headers["x-amzn-errortype"].startswith("AccessDeniedException")
    assert keyed.status_code == 200 and keyed.json()["content"][0]["text"] == "keyed"


BEDROCK_INVALID = {
    "the SDK's own API version": ({}, "anthropic_version: Input should be 'bedrock-2023-05-31'"),
    "a model in the body": ({"model": BEDROCK_MODEL}, "extraneous key [model] is not permitted"),
    "stream in the body": ({"stream": False}, "extraneous key [stream] is not permitted"),
    "roles not alternating": ({"messages": [user("a"), user("b")]}, "roles must alternate"),
}


@pytest.mark.parametrize("case", BEDROCK_INVALID)
async def test_bedrock_validation_errors_have_bedrock_shape(cloud, case):
    fields, message = BEDROCK_INVALID[case]
    body = {"max_tokens": 10, "messages": [user("hi")], **fields}
    if case != "the SDK's own API version":
        body["anthropic_version"] = BEDROCK_VERSION
    cloud.reply("must not be played")
    async with signed_by(cloud) as client:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await client.post(f"/model/{BEDROCK_MODEL}/invoke", body=body, cast_to=object)
    assert caught.value.body == {"message": caught.value.body["message"]} and message in caught.value.body["message"]
    assert caught.value.response.headers["x-amzn-errortype"].startswith("ValidationException:")
    assert cloud.remaining == 1


async def test_bedrock_scripted_errors_have_bedrock_shape(cloud):
    cloud.error(429, "Too many requests, please wait before trying again.")
    async with signed_by(cloud) as client:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await ask(client, model=BEDROCK_MODEL, **ON_BEDROCK)
    assert caught.value.body == {"message": "Too many requests, please wait before trying again."}
    assert caught.value.response.headers["x-amzn-errortype"].startswith("ThrottlingException:")


async def test_bedrock_streaming_is_not_implemented_and_says_so(cloud):
    async with signed_by(cloud) as client:
        with pytest.raises(anthropic.InternalServerError, match="invoke-with-response-stream is not implemented"):
            await ask(client, model=BEDROCK_MODEL, stream=True, **ON_BEDROCK)
    assert cloud.failures


def vertex_client(cloud: FakeAnthropic, **kw):
    return cloud.vertex_client(**{"max_retries": 0, "project_id": "proj", "access_token": "ya29.good", **kw})


async def test_vertex_raw_predict_plays_the_script_with_the_model_from_the_path(cloud):
    cloud.reply("from Vertex")
    async with vertex_client(cloud) as client:
        message = await ask(client, model=VERTEX_MODEL, **ON_VERTEX)
    request = cloud.last_request
    assert message.content[0].text == "from Vertex"
    assert request.url == ("https://us-east5-aiplatform.googleapis.com/v1/projects/proj/locations/us-east5/publishers/"
                           f"anthropic/models/{VERTEX_MODEL}:rawPredict")
    assert (request.kind, request.model, request.status) == ("messages", VERTEX_MODEL, 200)
    assert request.headers["authorization"] == "Bearer ya29.good"
    assert request.body["anthropic_version"] == VERTEX_VERSION and "model" not in request.body


async def test_vertex_stream_raw_predict_streams_and_count_tokens_counts(cloud):
    cloud.reply("streamed from Vertex")
    async with vertex_client(cloud) as client:
        async with client.messages.stream(model=VERTEX_MODEL, max_tokens=64, messages=[user("go")], **ON_VERTEX) as s:
            text = "".join([t async for t in s.text_stream])
        counted = await client.messages.count_tokens(model=VERTEX_MODEL, messages=[user("y" * 40)], **ON_VERTEX)
    assert text == "streamed from Vertex"
    assert cloud.message_requests[0].path.endswith(f"/models/{VERTEX_MODEL}:streamRawPredict")
    assert counted.input_tokens == 10
    assert cloud.requests[-1].path.endswith("/models/count-tokens:rawPredict")
    assert cloud.requests[-1].kind == "count_tokens"


@pytest.mark.parametrize(("client_options", "status", "google_status"), [
    ({"access_token": "ya29.expired"}, 401, "UNAUTHENTICATED"),
    ({"project_id": "someone-elses"}, 403, "PERMISSION_DENIED"),
    ({"region": "europe-west1"}, 404, "NOT_FOUND"),
])
async def test_vertex_refuses_the_wrong_token_project_or_region_in_googles_shape(cloud, client_options, status,
                                                                                  google_status):
    cloud.reply("must not be played")
    async with vertex_client(cloud, **client_options) as client:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await ask(client, model=VERTEX_MODEL, **ON_VERTEX)
    assert caught.value.status_code == status
    assert caught.value.body["error"]["status"] == google_status
    assert cloud.remaining == 1


VERTEX_INVALID = {
    "the SDK's own API version": ("rawPredict", {}, "anthropic_version: Input should be 'vertex-2023-10-16'"),
    "a model in the body": ("rawPredict", {"model": VERTEX_MODEL}, "model: Extra inputs are not permitted"),
    "stream on rawPredict": ("rawPredict", {"stream": True}, "stream: must be true with :streamRawPredict"),
    "no stream on streamRawPredict": ("streamRawPredict", {}, "stream: must be true with :streamRawPredict"),
}


@pytest.mark.parametrize("case", VERTEX_INVALID)
async def test_vertex_validation_errors_have_the_api_shape(cloud, case):
    method, fields, message = VERTEX_INVALID[case]
    body = {"max_tokens": 10, "messages": [user("hi")], **fields}
    if case != "the SDK's own API version":
        body["anthropic_version"] = VERTEX_VERSION
    cloud.reply("must not be played")
    async with vertex_client(cloud) as client:
        with pytest.raises(anthropic.BadRequestError) as caught:
            path = f"/projects/proj/locations/us-east5/publishers/anthropic/models/{VERTEX_MODEL}:{method}"
            await client.post(path, body=body, cast_to=object)
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert message in caught.value.body["error"]["message"]
    assert cloud.remaining == 1


@pytest.mark.parametrize("surface", ["bedrock", "vertex"])
async def test_the_prompt_cache_works_the_same_on_bedrock_and_vertex(cloud, surface):
    cloud.reply("one").reply("two")
    client = signed_by(cloud) if surface == "bedrock" else vertex_client(cloud)
    model, options = (BEDROCK_MODEL, ON_BEDROCK) if surface == "bedrock" else (VERTEX_MODEL, ON_VERTEX)
    async with client:
        first = await ask(client, model=model, system=cached_system(ttl="1h"), **options)
        second = await ask(client, model=model, system=cached_system(ttl="1h"), **options)
    assert first.usage.cache_creation.ephemeral_1h_input_tokens > 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
