"""BOT_PROVIDER=bedrock|vertex: the same tool loop through the SDK's Bedrock and Vertex clients, built
from the settings as in production, against the fake's Bedrock and Vertex surfaces."""

from __future__ import annotations

import anthropic
import pytest
from anthropic import AsyncAnthropicBedrock, AsyncAnthropicVertex
from anthropic.lib.aws import _auth as sdk_aws_auth

from bot.agent import AgentStopped, providers
from bot.agent.claude import MAX_RETRIES, REQUEST_TIMEOUT, ClaudeAgent
from bot.agent.factory import UnconfiguredAgent, close_agent, default_agent
from bot.config import Settings
from bot.core.pricing import DEFAULT_PRICING
from bot.core.usage import Usage
from tests.agent.conftest import DESIGN, make_task
from tests.agent.test_caching import last_block, markers
from tests.fakes.anthropic import FakeAnthropic

EDITOR = "str_replace_based_edit_tool"
AWS_KEY_ID, AWS_SECRET = "AKIDFAKEBEDROCK00001", "fake-aws-secret-for-tests-only"
AWS_REGION = "eu-central-1"
BEDROCK_MODEL = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
VERTEX_PROJECT, VERTEX_REGION, VERTEX_TOKEN = "widgets-ml", "us-east5", "ya29.fake-vertex-access-token"
VERTEX_MODEL = "claude-opus-4-6@20260201"
LONG = {"type": "ephemeral", "ttl": "1h"}
SHORT = {"type": "ephemeral"}
BREAKPOINTS_WITH_LONG_PREFIX = [("system.0", LONG), ("messages.0.0", LONG), ("messages.0.1", SHORT)]
BREAKPOINTS_WITH_SHORT_PREFIX = [("system.0", SHORT), ("messages.0.0", SHORT), ("messages.0.1", SHORT)]


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch, tmp_path):
    """Static AWS keys in the environment, no profile files, no instance metadata: no network, no real
    credential. The SDK keeps one boto3 session per process, so it is dropped around each test."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "ANTHROPIC_BEDROCK_BASE_URL", "ANTHROPIC_VERTEX_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-google-credentials.json"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    sdk_aws_auth._get_session.cache_clear()
    yield
    sdk_aws_auth._get_session.cache_clear()


def bedrock_settings(model: str = BEDROCK_MODEL) -> Settings:
    return Settings(_env_file=None, bot_provider="bedrock", aws_region=AWS_REGION, bot_model=model)


def vertex_settings() -> Settings:
    return Settings(_env_file=None, bot_provider="vertex", vertex_region=VERTEX_REGION,
                    vertex_project_id=VERTEX_PROJECT, bot_model=VERTEX_MODEL)


def bedrock_fake() -> FakeAnthropic:
    return FakeAnthropic(aws_credentials=(AWS_KEY_ID, AWS_SECRET), aws_region=AWS_REGION, min_cacheable_tokens=1)


def vertex_fake() -> FakeAnthropic:
    return FakeAnthropic(vertex_token=VERTEX_TOKEN, vertex_project=VERTEX_PROJECT, vertex_region=VERTEX_REGION,
                         min_cacheable_tokens=1)


def client_for(settings: Settings, fake: FakeAnthropic, **options):
    """The production client for `settings`, its transport swapped for the fake."""
    return providers.make_client(settings, timeout=REQUEST_TIMEOUT, max_retries=MAX_RETRIES,
                                 http_client=fake.http_client(), **options)


def turn_usage(request) -> Usage:
    return Usage.from_api(anthropic.types.Usage.model_validate(request.response_json["usage"]))


def script_a_generate_step(fake: FakeAnthropic) -> None:
    fake.tool_use(EDITOR, {"command": "view", "path": DESIGN}, text="Reading the design.")
    fake.tool_use(EDITOR, {"command": "create", "path": "widgets/stack.py", "file_text": "class Stack:\n    pass\n"})
    fake.reply("Added widgets/stack.py.")


# ------------------------------------------------------------------------------ Amazon Bedrock


async def test_bedrock_runs_a_generate_step_signed_with_the_model_in_the_path(workspace):
    fake, settings = bedrock_fake(), bedrock_settings()
    script_a_generate_step(fake)
    async with client_for(settings, fake) as client:
        assert isinstance(client, AsyncAnthropicBedrock)
        result = await ClaudeAgent(settings, client=client).implement(make_task(), workspace)

    fake.assert_done()
    assert result.summary == "Added widgets/stack.py."
    assert workspace.changes == {"widgets/stack.py": "class Stack:\n    pass\n"}
    for request in fake.message_requests:
        assert request.status == 200  # the fake checked each SigV4 signature against the keys above
        assert request.url == f"https://bedrock-runtime.{AWS_REGION}.amazonaws.com/model/{BEDROCK_MODEL}/invoke"
        assert request.headers["authorization"].startswith(
            f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/") and f"/{AWS_REGION}/bedrock/aws4_request" in \
            request.headers["authorization"]
        assert request.body["anthropic_version"] == "bedrock-2023-05-31"
        assert "model" not in request.body and "anthropic-version" not in request.headers
    assert result.usage.cost_usd == pytest.approx(sum(
        DEFAULT_PRICING.cost("claude-haiku-4-5", turn_usage(r)) for r in fake.message_requests))


async def test_bedrock_requests_keep_the_cache_breakpoints_with_the_one_hour_prefix(workspace):
    fake, settings = bedrock_fake(), bedrock_settings()
    script_a_generate_step(fake)
    async with client_for(settings, fake) as client:
        await ClaudeAgent(settings, client=client).implement(make_task(), workspace)

    first, *later = fake.message_requests
    assert markers(first.body) == BREAKPOINTS_WITH_LONG_PREFIX
    for previous, request in zip(fake.message_requests, later):
        assert markers(request.body) == [*BREAKPOINTS_WITH_LONG_PREFIX[:2], (last_block(previous), SHORT),
                                         (last_block(request), SHORT)]
    assert first.response_json["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] > 0
    assert later[-1].response_json["usage"]["cache_read_input_tokens"] > 0


@pytest.mark.parametrize("model", [
    "anthropic.claude-sonnet-4-20250514-v1:0",        # before the 4.5 generation
    "us.anthropic.claude-opus-4-1-20250805-v1:0",
    "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/a1b2c3d4e5f6",  # names no model
])
async def test_bedrock_caches_the_prefix_for_five_minutes_where_an_hour_may_not_be_accepted(workspace, model):
    fake, settings = bedrock_fake(), bedrock_settings(model)
    fake.reply("Nothing to do.")
    async with client_for(settings, fake) as client:
        await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    assert markers(fake.last_request.body) == BREAKPOINTS_WITH_SHORT_PREFIX
    assert fake.last_request.status == 200


async def test_bedrock_access_denied_names_the_aws_credentials_not_the_anthropic_key(workspace):
    fake, settings = bedrock_fake(), bedrock_settings()
    fake.error(403, "You don't have access to the model with the specified model ID.")
    async with client_for(settings, fake) as client:
        with pytest.raises(AgentStopped) as caught:
            await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    assert caught.value.reason.startswith("Amazon Bedrock refused the request (HTTP 403: You don't have access")
    assert "AWS credentials" in caught.value.reason and "ANTHROPIC_API_KEY" not in caught.value.reason
    assert not caught.value.retryable


async def test_bedrock_throttling_pauses_the_session_as_an_outage(workspace):
    fake, settings = bedrock_fake(), bedrock_settings()
    fake.error(429, "Too many requests, please wait before trying again.", times=MAX_RETRIES + 1)
    async with client_for(settings, fake) as client:
        with pytest.raises(AgentStopped) as caught:
            await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    assert caught.value.outage == "the Amazon Bedrock rate limit"
    assert caught.value.reason.startswith("the Amazon Bedrock rate limit was hit (HTTP 429)")
    assert fake.last_request.response_json == {"message": "Too many requests, please wait before trying again."}


async def test_bedrock_without_credentials_stops_and_says_what_to_check(workspace, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    fake, settings = bedrock_fake(), bedrock_settings()
    async with client_for(settings, fake) as client:
        with pytest.raises(AgentStopped) as caught:
            await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    assert caught.value.reason.startswith("component-bot could not get credentials for Amazon Bedrock")
    assert "AWS_ACCESS_KEY_ID" in caught.value.reason
    assert fake.requests == []


async def test_a_bedrock_api_key_is_sent_as_a_bearer_token(workspace, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-fake")
    fake, settings = FakeAnthropic(bedrock_api_key="bedrock-api-key-fake"), bedrock_settings()
    fake.reply("Done.")
    async with client_for(settings, fake) as client:
        await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    assert fake.last_request.headers["authorization"] == "Bearer bedrock-api-key-fake"
    assert "bedrock-api-key-fake" not in str(fake.last_request.response_json)


# ------------------------------------------------------------------------------- Vertex AI


async def test_vertex_runs_a_generate_step_with_the_model_in_the_path(workspace):
    fake, settings = vertex_fake(), vertex_settings()
    script_a_generate_step(fake)
    async with client_for(settings, fake, access_token=VERTEX_TOKEN) as client:
        assert isinstance(client, AsyncAnthropicVertex)
        result = await ClaudeAgent(settings, client=client).implement(make_task(), workspace)

    fake.assert_done()
    assert result.summary == "Added widgets/stack.py."
    assert workspace.changes == {"widgets/stack.py": "class Stack:\n    pass\n"}
    for request in fake.message_requests:
        assert request.status == 200
        assert request.url == (f"https://{VERTEX_REGION}-aiplatform.googleapis.com/v1/projects/{VERTEX_PROJECT}"
                               f"/locations/{VERTEX_REGION}/publishers/anthropic/models/{VERTEX_MODEL}:rawPredict")
        assert request.headers["authorization"] == f"Bearer {VERTEX_TOKEN}"
        assert request.body["anthropic_version"] == "vertex-2023-10-16" and "model" not in request.body
    assert result.usage.cost_usd == pytest.approx(sum(
        DEFAULT_PRICING.cost("claude-opus-4-6", turn_usage(r)) for r in fake.message_requests))


async def test_vertex_requests_keep_the_cache_breakpoints_with_the_one_hour_prefix(workspace):
    fake, settings = vertex_fake(), vertex_settings()
    script_a_generate_step(fake)
    async with client_for(settings, fake, access_token=VERTEX_TOKEN) as client:
        await ClaudeAgent(settings, client=client).implement(make_task(), workspace)

    first, *later = fake.message_requests
    assert markers(first.body) == BREAKPOINTS_WITH_LONG_PREFIX
    for previous, request in zip(fake.message_requests, later):
        assert markers(request.body) == [*BREAKPOINTS_WITH_LONG_PREFIX[:2], (last_block(previous), SHORT),
                                         (last_block(request), SHORT)]
    assert later[-1].response_json["usage"]["cache_read_input_tokens"] > 0


async def test_vertex_rejecting_the_token_names_the_google_credentials(workspace):
    fake, settings = vertex_fake(), vertex_settings()
    async with client_for(settings, fake, access_token="ya29.expired") as client:
        with pytest.raises(AgentStopped) as caught:
            await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    assert caught.value.reason.startswith("Vertex AI refused the request (HTTP 401: Request had invalid authentication")
    assert "application default credentials" in caught.value.reason


async def test_vertex_without_application_default_credentials_stops_and_says_what_to_check(workspace):
    fake, settings = vertex_fake(), vertex_settings()
    async with client_for(settings, fake) as client:
        with pytest.raises(AgentStopped) as caught:
            await ClaudeAgent(settings, client=client).implement(make_task(), workspace)
    assert caught.value.reason.startswith("component-bot could not get credentials for Vertex AI "
                                          "(DefaultCredentialsError")
    assert fake.requests == []


# ------------------------------------------------------------------------ building and closing


async def test_the_production_clients_come_from_the_settings_and_are_closed_at_shutdown():
    bedrock = Settings(_env_file=None, bot_provider="bedrock", aws_region=AWS_REGION,
                       anthropic_bedrock_base_url="https://vpce-0a1b.bedrock-runtime.eu-central-1.vpce.amazonaws.com")
    for settings, kind, base_url in [
        (bedrock, AsyncAnthropicBedrock, "https://vpce-0a1b.bedrock-runtime.eu-central-1.vpce.amazonaws.com"),
        (bedrock_settings(), AsyncAnthropicBedrock, f"https://bedrock-runtime.{AWS_REGION}.amazonaws.com"),
        (vertex_settings(), AsyncAnthropicVertex, f"https://{VERTEX_REGION}-aiplatform.googleapis.com/v1"),
    ]:
        agent = default_agent(settings)  # no ANTHROPIC_API_KEY needed
        assert isinstance(agent, ClaudeAgent)
        client = agent.client
        assert isinstance(client, kind) and str(client.base_url).rstrip("/") == base_url
        assert client.max_retries == MAX_RETRIES and client.timeout == REQUEST_TIMEOUT
        await close_agent(agent)
        assert client.is_closed()
    vertex_client = default_agent(vertex_settings()).client
    assert (vertex_client.region, vertex_client.project_id) == (VERTEX_REGION, VERTEX_PROJECT)
    assert default_agent(bedrock_settings()).client.aws_region == AWS_REGION


def test_only_the_anthropic_api_needs_the_api_key():
    assert isinstance(default_agent(Settings(_env_file=None)), UnconfiguredAgent)
    assert isinstance(default_agent(bedrock_settings()), ClaudeAgent)


@pytest.mark.parametrize(("provider", "model", "ttl"), [
    ("anthropic", "claude-sonnet-4-20250514", "1h"),
    ("vertex", "claude-sonnet-4@20250514", "1h"),
    ("bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", "1h"),
    ("bedrock", "global.anthropic.claude-haiku-4-5-20251001-v1:0", "1h"),
    ("bedrock", "us.anthropic.claude-opus-4-6-v1", "1h"),
    ("bedrock", "anthropic.claude-sonnet-5-5-v1:0", "1h"),
    ("bedrock", "anthropic.claude-sonnet-4-20250514-v1:0", "5m"),
    ("bedrock", "anthropic.claude-3-7-sonnet-20250219-v1:0", "5m"),
    ("bedrock", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x1y2", "5m"),
])
def test_the_prefix_ttl_is_the_longest_the_provider_accepts_for_the_model(provider, model, ttl):
    assert providers.prefix_ttl(provider, model) == ttl


def test_an_explicit_prefix_ttl_still_wins():
    assert ClaudeAgent(bedrock_settings(), prefix_ttl="5m").prefix_ttl == "5m"
    assert ClaudeAgent(Settings(_env_file=None)).prefix_ttl == "1h"


def test_a_runtime_error_that_is_not_about_credentials_is_not_disguised_as_one():
    assert providers.describe_credential_error("bedrock", RuntimeError("Event loop is closed")) is None
    assert providers.credential_errors("anthropic") == ()
