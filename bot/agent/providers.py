"""Where Claude runs (BOT_PROVIDER): the Anthropic API, Amazon Bedrock or Google Vertex AI.

Each is reached through the anthropic SDK's own client, so the tool loop is the same for all
three. What differs:

* the client: its region, base URL and credentials. Credentials never pass through the settings:
  Bedrock signs each request (SigV4) with what the AWS chain finds (the environment, AWS_PROFILE,
  a container or instance role), or sends AWS_BEARER_TOKEN_BEDROCK; Vertex uses Google's
  application default credentials;
* the `anthropic_version` in the request body. Bedrock and Vertex take the version there instead
  of in a header, and document one value each (`bedrock-2023-05-31`, `vertex-2023-10-16`); the
  SDK (2.15) would send its own API version, a date neither service documents, so it is set here;
* how long the cached prefix lives. Vertex AI accepts the 1-hour TTL, as the Anthropic API does
  (Google's "Prompt caching" page for Claude). Bedrock accepts it from the Claude 4.5 generation
  on (AWS's announcement of January 2026 names Sonnet, Haiku and Opus 4.5) and answers a
  ValidationException otherwise; so for older models, and for a model id that names no model
  (an application inference profile's ARN), the prefix is cached for the default 5 minutes;
* how failures read: the service's name, and the credentials to check.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

import anthropic
from anthropic import AsyncAnthropic, AsyncAnthropicBedrock, AsyncAnthropicVertex
from botocore.exceptions import BotoCoreError
from google.auth.exceptions import GoogleAuthError

from bot.agent.api_errors import api_error_message, describe_api_error, outage_of_api_error
from bot.core.pricing import anthropic_model_id

ModelClient: TypeAlias = AsyncAnthropic | AsyncAnthropicBedrock | AsyncAnthropicVertex

ANTHROPIC_API = "the Anthropic API"
ANTHROPIC_API_PHRASE = re.compile(r"the Anthropic API( rate limit)?")
SERVICES = {"anthropic": ANTHROPIC_API, "bedrock": "Amazon Bedrock", "vertex": "Vertex AI"}
BODY_VERSIONS = {"bedrock": "bedrock-2023-05-31", "vertex": "vertex-2023-10-16"}
CREDENTIALS = {
    "bedrock": "the AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, the role, "
               "or AWS_BEARER_TOKEN_BEDROCK) and the model access granted to them in AWS_REGION",
    "vertex": "the Google application default credentials (GOOGLE_APPLICATION_CREDENTIALS or the attached "
              "service account) and that VERTEX_PROJECT_ID has Claude enabled in VERTEX_REGION",
}
MODEL_IDS = {
    "bedrock": "a Bedrock model or inference profile id, e.g. us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "vertex": "a Vertex AI model id, e.g. claude-sonnet-4-5@20250929",
}
LONG_TTL = "1h"
SHORT_TTL = "5m"
BEDROCK_LONG_TTL_SINCE = (4, 5)
GENERATION = re.compile(r"claude-[a-z]+-(\d+)(?:-(\d{1,2}))?(?=-\d{8}|$)")
MAX_DETAIL_CHARS = 300
SDK_FOUND_NO_CREDENTIALS = "Could not resolve"  # "… AWS credentials from session", "… API token from the environment"


def make_client(settings: Any, *, timeout: Any, max_retries: int, **options: Any) -> ModelClient:
    """The SDK client of `settings.bot_provider`. `options` go to the client as they are (tests pass
    an `http_client` wired to the fake, and Vertex an `access_token`)."""
    common = {"timeout": timeout, "max_retries": max_retries, **options}
    provider = settings.bot_provider
    if provider == "bedrock":
        return AsyncAnthropicBedrock(aws_region=settings.aws_region, base_url=settings.anthropic_bedrock_base_url,
                                     **common)
    if provider == "vertex":
        return AsyncAnthropicVertex(region=settings.vertex_region, project_id=settings.vertex_project_id,
                                    base_url=settings.anthropic_vertex_base_url, **common)
    key = settings.anthropic_api_key
    return AsyncAnthropic(api_key=key.get_secret_value() if key is not None else None,
                          base_url=settings.anthropic_base_url,  # None: the SDK reads ANTHROPIC_BASE_URL itself
                          **common)


def request_options(provider: str) -> dict[str, Any]:
    """Keyword arguments for `messages.create` that this provider needs."""
    version = BODY_VERSIONS.get(provider)
    return {"extra_body": {"anthropic_version": version}} if version else {}


def prefix_ttl(provider: str, model: str) -> str:
    """How long the unchanging prefix (system prompt, context) is cached on this provider."""
    if provider != "bedrock":
        return LONG_TTL
    generation = model_generation(model)
    return LONG_TTL if generation is not None and generation >= BEDROCK_LONG_TTL_SINCE else SHORT_TTL


def model_generation(model: str) -> tuple[int, int] | None:
    """(4, 5) for Claude Sonnet 4.5 under any provider's spelling; None when the id names no model."""
    found = GENERATION.search(anthropic_model_id(model))
    return (int(found.group(1)), int(found.group(2) or 0)) if found else None


def credential_errors(provider: str) -> tuple[type[BaseException], ...]:
    """What the SDK may raise, before any request is sent, when it cannot find or refresh credentials:
    botocore's and google-auth's errors, and a RuntimeError when they find none at all."""
    if provider == "bedrock":
        return (BotoCoreError, RuntimeError)
    if provider == "vertex":
        return (GoogleAuthError, RuntimeError)
    return ()


def describe_credential_error(provider: str, exc: BaseException) -> str | None:
    """The reason to stop with, or None when `exc` is a RuntimeError about something else."""
    if isinstance(exc, RuntimeError) and not str(exc).startswith(SDK_FOUND_NO_CREDENTIALS):
        return None
    detail = str(exc).splitlines()[0][:MAX_DETAIL_CHARS] if str(exc) else "no details"
    return (f"component-bot could not get credentials for {SERVICES[provider]} ({type(exc).__name__}: {detail}); "
            f"the operator must check {CREDENTIALS[provider]}")


def describe_error(provider: str, exc: anthropic.APIError, tries: int, model: str) -> tuple[str, bool]:
    """`describe_api_error`, naming this provider's service and the credentials it uses."""
    if provider == "anthropic":
        return describe_api_error(exc, tries, model)
    service = SERVICES[provider]
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return (f"{service} refused the request (HTTP {exc.status_code}: {api_error_message(exc)}); the operator "
                f"must check {CREDENTIALS[provider]}"), False
    if isinstance(exc, anthropic.NotFoundError):
        return (f"{service} does not know this (HTTP 404: {api_error_message(exc)}); BOT_MODEL ({model}) must be "
                f"{MODEL_IDS[provider]}"), False
    reason, retryable = describe_api_error(exc, tries, model)
    return renamed(reason, provider), retryable


def outage_of_error(provider: str, exc: anthropic.APIError) -> str:
    return renamed(outage_of_api_error(exc), provider)


def renamed(text: str, provider: str) -> str:
    """`text` about the Anthropic API, about this provider's service instead."""
    service = SERVICES[provider]
    return ANTHROPIC_API_PHRASE.sub(lambda found: f"the {service} rate limit" if found[1] else service, text)
