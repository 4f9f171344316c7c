"""What an Anthropic API error means for a session: a reason people can act on (never the API
key), whether trying again later may help, and whether it is an outage that pauses the session."""

from __future__ import annotations

import anthropic

MAX_ERROR_MESSAGE_CHARS = 300


def describe_api_error(exc: anthropic.APIError, tries: int, model: str) -> tuple[str, bool]:
    """A reason people can act on, and whether retrying the step later may help. The API key never
    appears: only the status and the API's own error message are used, and they are scrubbed."""
    attempts = f"after {tries} attempts"
    if isinstance(exc, anthropic.APITimeoutError):
        return f"the Anthropic API timed out {attempts}; try again later", True
    if isinstance(exc, anthropic.APIConnectionError):
        return f"could not reach the Anthropic API {attempts}; try again later", True
    if not isinstance(exc, anthropic.APIStatusError):
        return f"the Anthropic API call failed ({type(exc).__name__})", False
    status, detail = exc.status_code, api_error_message(exc)
    if isinstance(exc, anthropic.OverloadedError) or status == 529:
        return f"the Anthropic API is overloaded (HTTP 529) {attempts}; try again later", True
    if isinstance(exc, anthropic.RateLimitError):
        return f"the Anthropic API rate limit was hit (HTTP 429) {attempts}; try again later", True
    if isinstance(exc, anthropic.InternalServerError) or status >= 500 or status in (408, 409):
        return f"the Anthropic API failed (HTTP {status}) {attempts}: {detail}; try again later", True
    if isinstance(exc, anthropic.AuthenticationError):
        return f"the Anthropic API rejected the API key (HTTP 401: {detail}); the operator must check " \
               "ANTHROPIC_API_KEY", False
    if isinstance(exc, anthropic.PermissionDeniedError):
        return f"the Anthropic API key may not use this (HTTP 403: {detail}); the operator must check " \
               "the key's permissions and BOT_MODEL", False
    if isinstance(exc, anthropic.NotFoundError):
        return f"the Anthropic API does not know this (HTTP 404: {detail}); check BOT_MODEL ({model})", False
    return f"the Anthropic API rejected the request (HTTP {status}: {detail})", False


def outage_of_api_error(exc: anthropic.APIError) -> str:
    """The outage in a few words, for "waiting for … until 14:05 UTC"."""
    if isinstance(exc, anthropic.APITimeoutError | anthropic.APIConnectionError):
        return "the Anthropic API to answer again"
    status = getattr(exc, "status_code", None)
    if status == 529:
        return "the Anthropic API (overloaded)"
    if status == 429:
        return "the Anthropic API rate limit"
    return f"the Anthropic API (HTTP {status})"


def retry_after_of(exc: anthropic.APIError) -> float | None:
    """Seconds the API asked us to wait (`retry-after`), when it said."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(float(value), 1.0) if value is not None else None
    except ValueError:
        return None


def api_error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    message = str(error.get("message") or "no details")
    return message[:MAX_ERROR_MESSAGE_CHARS]
