"""A scripted fake of the Anthropic Messages API, for driving the real SDK in tests.

The fake is a plain ASGI app (``fake.app``). The real ``AsyncAnthropic`` talks to
it in-process through ``httpx2.ASGITransport`` (anthropic 2.x uses ``httpx2``, so
respx cannot intercept it), or over loopback TCP when served by uvicorn::

    fake = FakeAnthropic()
    fake.tool_use("str_replace_based_edit_tool", {"command": "view", "path": "a.md"}, text="Looking.")
    fake.reply("Done.")
    async with fake.client(max_retries=2) as client:
        ...                                  # the code under test calls client.messages.create
    fake.assert_done()                       # every turn played, nothing went wrong

Each ``POST /v1/messages`` that passes validation plays the next scripted step.
A request that fails validation gets the API's 400 and plays nothing. When the
script is empty the fake answers 500 "fake anthropic: script exhausted" with
``x-should-retry: false``, so the SDK raises at once instead of retrying.

The same script also answers Claude as Amazon Bedrock and Google Vertex AI serve it,
for ``AsyncAnthropicBedrock`` and ``AsyncAnthropicVertex`` (``fake.bedrock_client()``,
``fake.vertex_client()``, or any client given ``http_client=fake.http_client()``):

* Bedrock, ``POST /model/{model}/invoke``: the model is in the path, the body carries
  ``anthropic_version: bedrock-2023-05-31`` and no ``model`` or ``stream``. The request must be
  SigV4-signed for the ``bedrock`` service (with ``aws_credentials`` the signature itself is
  checked, over the exact bytes sent) or carry a Bedrock API key as a bearer token. Errors have
  Bedrock's shape: ``{"message": ...}`` with ``x-amzn-ErrorType``. Streaming (AWS event-stream
  framing) is not implemented.
* Vertex AI, ``POST /v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict``
  (``:streamRawPredict`` with ``stream: true``; ``count-tokens:rawPredict``): the model is in the
  path, the body carries ``anthropic_version: vertex-2023-10-16`` and no ``model``; an OAuth bearer
  token is required. Authentication errors have Google's shape, the model's errors the API's.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import random
import re
import string
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
import uvicorn
from anthropic import AsyncAnthropic, AsyncAnthropicBedrock, AsyncAnthropicVertex
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BASE_URL = "http://anthropic.test"
DEFAULT_MIN_CACHEABLE_TOKENS = 1024
# Minimum cacheable prompt length, from Anthropic's prompt caching page ("Cache limitations"):
# (family, first generation it applies to, tokens), newest first. A model newer than the table takes
# its family's newest minimum; a model of no known family, DEFAULT_MIN_CACHEABLE_TOKENS.
MIN_CACHEABLE_TOKENS = (
    ("opus", (4, 5), 4096),      # Opus 4.5, 4.6
    ("opus", (0, 0), 1024),      # Opus 4.1, 4, 3
    ("sonnet", (4, 6), 2048),    # Sonnet 4.6
    ("sonnet", (0, 0), 1024),    # Sonnet 4.5, 4, 3.7, 3.5
    ("haiku", (4, 5), 4096),     # Haiku 4.5
    ("haiku", (0, 0), 2048),     # Haiku 3.5, 3
)
MODEL_NAME = re.compile(r"claude-(?:(?P<family>opus|sonnet|haiku)-(?P<major>\d+)(?:-(?P<minor>\d{1,2}))?"
                        r"|(?P<old_major>\d+)(?:-(?P<old_minor>\d{1,2}))?-(?P<old_family>opus|sonnet|haiku))(?!\d)")
CACHE_LOOKBACK_BLOCKS = 20
FREE_JSON_FIELDS = ("input", "input_schema")
MAX_CACHE_BREAKPOINTS = 4
CACHE_TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
DEFAULT_RETRY_AFTER_MS = 1.0
BEDROCK_VERSION = "bedrock-2023-05-31"
VERTEX_VERSION = "vertex-2023-10-16"
VERTEX_METHODS = ("rawPredict", "streamRawPredict")
SIGV4_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r" ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})"
)
BEDROCK_ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
DATE_NOT_IN_SCOPE = (
    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: X-Amz-Date."
)
BEDROCK_EXTRA_KEY = "extraneous key [{}] is not permitted"
BEDROCK_ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
GOOGLE_STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {
    429: "This request would exceed your organization's rate limit. Please try again later.",
    500: "Internal server error",
    529: "Overloaded",
}

# Server-defined tools whose ``name`` the API fixes for each ``type``.
FIXED_TOOL_NAMES = {
    "bash_20250124": "bash",
    "text_editor_20250124": "str_replace_editor",
    "text_editor_20250429": "str_replace_based_edit_tool",
    "text_editor_20250728": "str_replace_based_edit_tool",
}

REFUSAL_DETAILS = {"type": "refusal", "category": None, "explanation": None}

_ID_ALPHABET = string.ascii_letters + string.digits
_FROM_FAKE = object()


# ---------------------------------------------------------------- script steps


@dataclass
class Turn:
    """One successful assistant message to play back."""

    blocks: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    usage: dict[str, Any] | None = None
    """Overrides the computed usage, key by key."""

    @classmethod
    def build(
        cls,
        blocks: list[dict[str, Any] | str] | None = None,
        *,
        text: str | None = None,
        stop_reason: str = "end_turn",
        stop_sequence: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> Turn:
        """``text`` becomes a leading text block; a ``str`` in ``blocks`` becomes a text block."""
        content = [text_block(text)] if text is not None else []
        content += [text_block(b) if isinstance(b, str) else dict(b) for b in blocks or ()]
        return cls(content, stop_reason, stop_sequence, usage)


@dataclass
class ScriptedError:
    """An error response to play back (real body shape: ``{"type": "error", "error": {...}}``)."""

    status: int
    error_type: str
    message: str
    retry_after: float | None = None
    retry_after_ms: Any = _FROM_FAKE
    """Milliseconds for ``retry-after-ms``; the default takes the fake's setting, None omits it."""
    should_retry: bool | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        status: int,
        message: str | None = None,
        *,
        error_type: str | None = None,
        retry_after: float | None = None,
        retry_after_ms: Any = _FROM_FAKE,
        should_retry: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ScriptedError:
        return cls(
            status=status,
            error_type=error_type or ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error"),
            message=message or ERROR_MESSAGES.get(status, f"HTTP {status}"),
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            should_retry=should_retry,
            headers=dict(headers or {}),
        )


@dataclass
class TurnFn:
    """A step computed from the request body.

    ``fn(request_json)`` returns a ``Turn``, a ``ScriptedError``, or a dict of
    ``Turn.build`` keyword arguments (``text``, ``blocks``, ``stop_reason``, ``usage``).
    """

    fn: Callable[[dict[str, Any]], Turn | ScriptedError | dict[str, Any]]


Step = Turn | ScriptedError | TurnFn
ErrorShape = Callable[..., JSONResponse]
"""``(status, api error type, message, headers=None)``: an error response in one surface's shape."""


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(name: str, input: Mapping[str, Any], id: str | None = None) -> dict[str, Any]:
    """A tool_use block; without ``id`` the fake assigns a unique ``toolu_…`` id."""
    block: dict[str, Any] = {"type": "tool_use", "name": name, "input": dict(input)}
    if id is not None:
        block["id"] = id
    return block


# -------------------------------------------------------------------- recording


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    status: int | None = None
    response_json: Any = None
    url: str = ""
    """As sent: scheme, host and the path still percent-encoded."""
    raw: bytes = b""
    kind: str = "other"
    """``messages`` or ``count_tokens`` on any of the three surfaces; ``other`` for anything else."""
    model: str | None = None
    """The model asked for: from the body, or from the path on Bedrock and Vertex."""

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body, or an empty dict when it was not a JSON object."""
        return self.json if isinstance(self.json, dict) else {}

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def system_text(self) -> str:
        """The system prompt as one string; text blocks are joined with newlines."""
        system = self.body.get("system") or ""
        if isinstance(system, str):
            return system
        return "\n".join(b.get("text", "") for b in system)

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.body.get("tools") or [])

    @property
    def tool_names(self) -> list[str]:
        return [t.get("name") for t in self.tools]

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks of the last user message."""
        users = [m for m in self.messages if m.get("role") == "user"]
        if not users:
            return []
        return [b for b in _blocks(users[-1].get("content")) if b.get("type") == "tool_result"]

    def tool_result_text(self, tool_use_id: str) -> str:
        """The text of the last user message's result for ``tool_use_id``."""
        for block in self.tool_results:
            if block.get("tool_use_id") == tool_use_id:
                return _plain_text(block.get("content"))
        raise KeyError(f"no tool_result for {tool_use_id} in the last user message")


# ---------------------------------------------------------------------- caching


class FakeClock:
    """A manual clock for cache TTL tests: ``FakeAnthropic(clock=clock)``, then ``clock.advance(301)``."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Segment:
    """One cacheable unit of the prompt (a tool, a system block or a message content block)."""

    key: str
    """Canonical JSON identifying the unit, without its ``cache_control``."""
    nbytes: int
    """Size of the unit's content, for the ceil(bytes/4) token estimate."""
    ttl: str | None = None
    """Set when a cache breakpoint sits on this unit."""


@dataclass
class CacheAccount:
    total: int
    read: int = 0
    created_5m: int = 0
    created_1h: int = 0

    @property
    def created(self) -> int:
        return self.created_5m + self.created_1h

    @property
    def uncached(self) -> int:
        return self.total - self.read - self.created


def min_cacheable_tokens(model: str) -> int:
    """The shortest prefix ``model`` caches, under any surface's spelling of its id (Bedrock's
    ``us.anthropic.claude-opus-4-6-v1:0``, Vertex's ``claude-opus-4-6@20260201``)."""
    found = MODEL_NAME.search(model.lower())
    if found is None:
        return DEFAULT_MIN_CACHEABLE_TOKENS
    family = found["family"] or found["old_family"]
    generation = (int(found["major"] or found["old_major"]), int(found["minor"] or found["old_minor"] or 0))
    for name, since, tokens in MIN_CACHEABLE_TOKENS:
        if name == family and generation >= since:
            return tokens
    return DEFAULT_MIN_CACHEABLE_TOKENS


class PromptCache:
    """Prefix cache keyed by (model, prefix exactly as sent), with TTLs read from ``clock``.

    A request reads the longest live prefix found at, or up to
    ``CACHE_LOOKBACK_BLOCKS - 1`` blocks before, any of its breakpoints, and
    writes the prefix at every breakpoint. Tokens from the read point to the
    last breakpoint count as cache creation; the rest of the prompt is input.
    Prefixes shorter than the model's minimum (``min_tokens``, or the model's
    own from ``min_cacheable_tokens`` when None) are neither written nor read.
    """

    def __init__(self, clock: Callable[[], float], min_tokens: int | None = None) -> None:
        self._clock = clock
        self.min_tokens = min_tokens
        self._entries: dict[str, tuple[float, str]] = {}

    def minimum(self, model: str) -> int:
        return self.min_tokens if self.min_tokens is not None else min_cacheable_tokens(model)

    def account(self, model: str, segments: list[Segment], *, write: bool = True) -> CacheAccount:
        tokens = prefix_tokens(segments)
        account = CacheAccount(total=tokens[-1] if tokens else 0)
        hashes = _prefix_hashes(model, segments)
        minimum = self.minimum(model)
        breakpoints = [i for i, s in enumerate(segments) if s.ttl and tokens[i] >= minimum]
        now = self._clock()
        hit = self._longest_hit(breakpoints, hashes, now)
        account.read = tokens[hit] if hit is not None else 0
        previous = account.read
        for i in breakpoints:
            if hit is None or i > hit:
                created = tokens[i] - previous
                if segments[i].ttl == "1h":
                    account.created_1h += created
                else:
                    account.created_5m += created
                previous = tokens[i]
        if write:
            self._store(breakpoints, hit, hashes, segments, now)
        return account

    def _longest_hit(self, breakpoints: list[int], hashes: list[str], now: float) -> int | None:
        candidates = {
            j
            for bp in breakpoints
            for j in range(max(0, bp - CACHE_LOOKBACK_BLOCKS + 1), bp + 1)
            if self._live(hashes[j], now)
        }
        return max(candidates, default=None)

    def _live(self, key: str, now: float) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry[0] > now

    def _store(
        self, breakpoints: list[int], hit: int | None, hashes: list[str], segments: list[Segment], now: float
    ) -> None:
        """Write every breakpoint's prefix and refresh the entry that was read; never shorten a TTL."""
        if hit is not None:
            self._extend(hashes[hit], self._entries[hashes[hit]][1], now)
        for i in breakpoints:
            self._extend(hashes[i], segments[i].ttl, now)

    def _extend(self, key: str, ttl: str, now: float) -> None:
        expires = now + CACHE_TTL_SECONDS[ttl]
        current = self._entries.get(key)
        if current is None or current[0] < expires:
            self._entries[key] = (expires, ttl)


def approx_tokens(nbytes: int) -> int:
    return -(-nbytes // 4)


def prefix_tokens(segments: list[Segment]) -> list[int]:
    """The tokens of each prefix: ``[tokens of segments[:1], tokens of segments[:2], …]``."""
    return [approx_tokens(n) for n in itertools.accumulate(s.nbytes for s in segments)]


def _prefix_hashes(model: str, segments: list[Segment]) -> list[str]:
    digest = hashlib.sha256(model.encode())
    hashes = []
    for segment in segments:
        digest.update(b"\x00" + segment.key.encode())
        hashes.append(digest.copy().hexdigest())
    return hashes


def prompt_segments(body: Mapping[str, Any], messages: list[dict[str, Any]]) -> list[Segment]:
    """The prompt in cache order (tools, system, messages), with breakpoints marked.

    The top-level ``cache_control`` puts a breakpoint on the last block.
    """
    segments = [_segment(tool, tool) for tool in body.get("tools") or []]
    segments += [_segment(block, block) for block in _blocks(body.get("system"))]
    for index, message in enumerate(messages):
        for block in _blocks(message.get("content")):
            segments.append(_segment(block, {"message": index, "role": message.get("role"), "block": block}))
    top = body.get("cache_control")
    if top and segments and segments[-1].ttl is None:
        last = segments[-1]
        segments[-1] = Segment(last.key, last.nbytes, top.get("ttl", "5m"))
    return segments


def _segment(block: dict[str, Any], identity: Any) -> Segment:
    markers = _markers(block)
    return Segment(
        key=_canonical(_with_free_json_as_sent(_strip_cache_control(identity))),
        nbytes=len(_content_text(_strip_cache_control(block)).encode()),
        ttl=markers[0].get("ttl", "5m") if markers else None,
    )


def _markers(block: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The block's ``cache_control`` and those of blocks nested in a tool_result."""
    found = [block["cache_control"]] if block.get("cache_control") else []
    nested = block.get("content")
    if block.get("type") == "tool_result" and isinstance(nested, list):
        found += [b["cache_control"] for b in nested if isinstance(b, dict) and b.get("cache_control")]
    return found


def _content_text(block: Any) -> str:
    """The part of a block that costs tokens; structure is ignored except for tools and inputs."""
    if isinstance(block, str):
        return block
    kind = block.get("type")
    if kind == "text":
        return block.get("text", "")
    if kind in ("tool_use", "server_tool_use"):
        return block.get("name", "") + _canonical(block.get("input", {}))
    if kind == "tool_result":
        return _plain_text(block.get("content"))
    if kind == "thinking":
        return block.get("thinking", "")
    if kind == "redacted_thinking":
        return block.get("data", "")
    return _canonical(_strip_cache_control(block))


def _plain_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(_content_text(b) for b in content)


def _strip_cache_control(block: Any) -> Any:
    if isinstance(block, dict):
        return {k: _strip_cache_control(v) for k, v in block.items() if k != "cache_control"}
    if isinstance(block, list):
        return [_strip_cache_control(v) for v in block]
    return block


def _with_free_json_as_sent(value: Any) -> Any:
    """``value`` with each tool's ``input_schema`` and each tool_use's ``input`` replaced by their JSON
    in the order sent. The API reads the blocks' own fields whatever their order, but renders this
    free-form JSON as it comes: the same input with its keys in another order is another prompt
    (Anthropic's caching page warns of languages that shuffle keys when they serialize)."""
    if isinstance(value, dict):
        return {key: json.dumps(item, ensure_ascii=False) if key in FREE_JSON_FIELDS and isinstance(item, dict)
                else _with_free_json_as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_free_json_as_sent(item) for item in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _blocks(content: Any) -> list[dict[str, Any]]:
    """Content as a list of blocks: a string is shorthand for one text block."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_block(content)]
    return [b for b in content if isinstance(b, dict)]


# ------------------------------------------------------------------- validation


class InvalidRequest(Exception):
    """Becomes a 400 ``invalid_request_error`` with this message."""


def validate_request(body: Any, *, required: tuple[str, ...], strict_alternation: bool) -> list[dict[str, Any]]:
    """Raise ``InvalidRequest`` as the API would; return the messages as the API sees them."""
    if not isinstance(body, dict):
        raise InvalidRequest("Input should be a valid dictionary or object")
    for name in required:
        if name not in body:
            raise InvalidRequest(f"{name}: Field required")
    messages = _validate_roles(body["messages"], strict_alternation)
    _validate_tool_pairing(messages)
    _validate_tools(body.get("tools") or [])
    _validate_cache_control(body, messages)
    return messages


def _validate_roles(messages: Any, strict: bool) -> list[dict[str, Any]]:
    """Check roles; without ``strict``, merge consecutive same-role turns as the API does."""
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: List should have at least 1 item after validation, not 0")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise InvalidRequest(f"messages.{i}.role: Input should be 'user' or 'assistant'")
    if messages[0]["role"] != "user":
        raise InvalidRequest('messages: first message must use the "user" role')
    merged: list[dict[str, Any]] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            if strict:
                raise InvalidRequest(
                    'messages: roles must alternate between "user" and "assistant", '
                    f'but found multiple "{message["role"]}" roles in a row'
                )
            combined = _blocks(merged[-1]["content"]) + _blocks(message["content"])
            merged[-1] = {"role": message["role"], "content": combined}
        else:
            merged.append(message)
    return merged


def _validate_tool_pairing(messages: list[dict[str, Any]]) -> None:
    """Each user turn's results are checked before the preceding assistant turn's calls."""
    for i, message in enumerate(messages):
        if message["role"] == "user":
            _check_results_have_uses(i, message, messages[i - 1] if i else None)
            if i:
                _check_uses_have_results(i - 1, messages[i - 1], message)
    if messages[-1]["role"] == "assistant":
        _check_uses_have_results(len(messages) - 1, messages[-1], None)


def _check_results_have_uses(i: int, message: dict, previous: dict | None) -> None:
    known = _tool_use_ids(previous) if previous else set()
    for j, block in enumerate(_blocks(message.get("content"))):
        if block.get("type") == "tool_result" and block.get("tool_use_id") not in known:
            raise InvalidRequest(
                f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                "`tool_use` block in the previous message."
            )


def _check_uses_have_results(i: int, message: dict, following: dict | None) -> None:
    following_blocks = _blocks(following.get("content")) if following else []
    answered = {b.get("tool_use_id") for b in following_blocks if b.get("type") == "tool_result"}
    missing = [tid for tid in _ordered_tool_use_ids(message) if tid not in answered]
    if missing:
        raise InvalidRequest(
            f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
            "in the next message."
        )


def _ordered_tool_use_ids(message: dict) -> list[str]:
    return [b.get("id") for b in _blocks(message.get("content")) if b.get("type") == "tool_use"]


def _tool_use_ids(message: dict) -> set[str]:
    return set(_ordered_tool_use_ids(message)) if message.get("role") == "assistant" else set()


def _validate_tools(tools: list[dict[str, Any]]) -> None:
    for i, tool in enumerate(tools):
        fixed = FIXED_TOOL_NAMES.get(tool.get("type"))
        if fixed and tool.get("name") != fixed:
            raise InvalidRequest(f"tools.{i}.{tool['type']}.name: Input should be '{fixed}'")
    names = [t.get("name") for t in tools]
    if len(names) != len(set(names)):
        raise InvalidRequest("tools: Tool names must be unique.")


def _validate_cache_control(body: dict, messages: list[dict[str, Any]]) -> None:
    """At most four breakpoints; the top-level marker counts unless the last block already has one."""
    blocks = [*(body.get("tools") or []), *_blocks(body.get("system"))]
    blocks += [b for m in messages for b in _blocks(m.get("content"))]
    markers = [marker for block in blocks for marker in _markers(block)]
    top = body.get("cache_control")
    if top and not (blocks and _markers(blocks[-1])):
        markers.append(top)
    for marker in markers:
        if marker.get("type") != "ephemeral":
            raise InvalidRequest("cache_control.type: Input should be 'ephemeral'")
        if marker.get("ttl", "5m") not in CACHE_TTL_SECONDS:
            raise InvalidRequest("cache_control.ttl: Input should be '5m' or '1h'")
    ttls = [CACHE_TTL_SECONDS[marker.get("ttl", "5m")] for marker in markers]
    if any(later > earlier for earlier, later in itertools.pairwise(ttls)):
        raise InvalidRequest("cache_control: a breakpoint with a longer ttl must come before those with a shorter one")
    if len(markers) > MAX_CACHE_BREAKPOINTS:
        raise InvalidRequest(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {len(markers)}."
        )


# ------------------------------------------------------------------------- fake


class FakeAnthropic:
    """Scripted Messages API. See the module docstring.

    ``retry_after_ms`` (default 1) is sent as ``retry-after-ms`` on retryable
    scripted errors, so the SDK waits 1 ms between retries instead of its
    0.5–8 s backoff. The SDK ignores a retry-after of 0 and backs off normally,
    so a zero here would not make retries fast; pass None to omit the header.
    """

    def __init__(
        self,
        *,
        min_cacheable_tokens: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_after_ms: float | None = DEFAULT_RETRY_AFTER_MS,
        strict_alternation: bool = True,
        check_tool_names: bool = True,
        api_key: str | None = None,
        aws_credentials: tuple[str, ...] | None = None,
        aws_region: str | None = None,
        bedrock_api_key: str | None = None,
        vertex_token: str | None = None,
        vertex_project: str | None = None,
        vertex_region: str | None = None,
        seed: int = 0,
    ) -> None:
        """``min_cacheable_tokens`` applies one minimum to every model instead of each model's own.
        ``strict_alternation`` rejects consecutive same-role messages (the API merges them).

        ``check_tool_names`` fails a scripted tool_use whose tool the request did not declare.
        ``api_key`` makes the fake reject any other key.
        ``aws_credentials`` (access key id, secret key[, session token]) makes Bedrock check each
        SigV4 signature against them; ``aws_region``, that the signature is scoped to that region;
        ``bedrock_api_key``, that a bearer token is that key. ``vertex_token``, ``vertex_project``
        and ``vertex_region`` make Vertex reject any other token, project or region.
        """
        self.cache = PromptCache(clock, min_cacheable_tokens)
        self.retry_after_ms = retry_after_ms
        self.strict_alternation = strict_alternation
        self.check_tool_names = check_tool_names
        self.api_key = api_key
        self.aws_credentials = aws_credentials
        self.aws_region = aws_region
        self.bedrock_api_key = bedrock_api_key
        self.vertex_token = vertex_token
        self.vertex_project = vertex_project
        self.vertex_region = vertex_region
        self.requests: list[RecordedRequest] = []
        self.failures: list[str] = []
        """Problems on the fake's side (script exhausted, bad script); ``assert_done`` reports them."""
        self._script: deque[Step] = deque()
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._used_ids: set[str] = set()
        self.app = Starlette(
            routes=[
                Route("/v1/messages", self._messages_endpoint, methods=["POST"]),
                Route("/v1/messages/count_tokens", self._count_tokens_endpoint, methods=["POST"]),
                Route("/model/{model:path}/invoke", self._bedrock_endpoint, methods=["POST"]),
                Route("/model/{model:path}/invoke-with-response-stream", self._unimplemented, methods=["POST"]),
                Route("/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{target}",
                      self._vertex_endpoint, methods=["POST"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            ]
        )

    # ---- script

    def reply(
        self, text: str = "", *, stop_reason: str = "end_turn", usage: dict[str, Any] | None = None
    ) -> FakeAnthropic:
        return self._enqueue(Turn.build(text=text, stop_reason=stop_reason, usage=usage))

    def tool_use(
        self,
        name: str,
        input: Mapping[str, Any],
        *,
        text: str | None = None,
        id: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> FakeAnthropic:
        block = tool_use_block(name, input, id)
        return self._enqueue(Turn.build([block], text=text, stop_reason="tool_use", usage=usage))

    def turn(
        self,
        blocks: list[dict[str, Any] | str],
        *,
        stop_reason: str = "end_turn",
        stop_sequence: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> FakeAnthropic:
        return self._enqueue(Turn.build(blocks, stop_reason=stop_reason, stop_sequence=stop_sequence, usage=usage))

    def error(self, status: int, message: str | None = None, *, times: int = 1, **kw: Any) -> FakeAnthropic:
        """Queue ``times`` error responses; ``kw`` as for ``ScriptedError.build``."""
        for _ in range(times):
            self._enqueue(ScriptedError.build(status, message, **kw))
        return self

    def turn_fn(self, fn: Callable[[dict[str, Any]], Turn | ScriptedError | dict[str, Any]]) -> FakeAnthropic:
        return self._enqueue(TurnFn(fn))

    def _enqueue(self, step: Step) -> FakeAnthropic:
        with self._lock:
            self._script.append(step)
        return self

    @property
    def remaining(self) -> int:
        return len(self._script)

    def assert_done(self) -> None:
        """Fail unless every scripted step was played and the fake saw no problems."""
        problems = list(self.failures)
        if self._script:
            problems.append(f"{len(self._script)} scripted step(s) never played: {list(self._script)!r}")
        assert not problems, "fake anthropic: " + "; ".join(problems)

    # ---- recording helpers

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Message requests on any surface (the Anthropic API, Bedrock, Vertex), answered or refused."""
        return [r for r in self.requests if r.kind == "messages"]

    @property
    def last_request(self) -> RecordedRequest:
        return self.message_requests[-1]

    # ---- wiring

    def http_client(self) -> httpx2.AsyncClient:
        """An HTTP client whose every request, to any host, reaches this fake in-process."""
        return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=self.app))

    def client(self, **kw: Any) -> AsyncAnthropic:
        """An ``AsyncAnthropic`` wired to this fake in-process; ``kw`` go to ``AsyncAnthropic``."""
        kw.setdefault("api_key", "sk-test")
        kw.setdefault("base_url", BASE_URL)
        kw.setdefault("http_client", self.http_client())
        return AsyncAnthropic(**kw)

    def bedrock_client(self, **kw: Any) -> AsyncAnthropicBedrock:
        """An ``AsyncAnthropicBedrock`` wired to this fake; it signs with the AWS credentials given in
        ``kw`` or found in the environment."""
        kw.setdefault("aws_region", self.aws_region or "us-east-1")
        kw.setdefault("http_client", self.http_client())
        return AsyncAnthropicBedrock(**kw)

    def vertex_client(self, **kw: Any) -> AsyncAnthropicVertex:
        """An ``AsyncAnthropicVertex`` wired to this fake, with a static access token."""
        kw.setdefault("region", self.vertex_region or "us-east5")
        kw.setdefault("project_id", self.vertex_project or "fake-project")
        kw.setdefault("access_token", self.vertex_token or "ya29.fake-vertex-token")
        kw.setdefault("http_client", self.http_client())
        return AsyncAnthropicVertex(**kw)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run the fake under uvicorn in a background thread; yields its base URL."""
        server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=port, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, name="fake-anthropic", daemon=True)
        thread.start()
        try:
            _wait_until(lambda: server.started or not thread.is_alive())
            if not server.started:
                raise RuntimeError("fake anthropic: uvicorn failed to start")
            bound_port = server.servers[0].sockets[0].getsockname()[1]
            yield f"http://{host}:{bound_port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)

    # ---- endpoints

    async def _messages_endpoint(self, request: Request) -> Response:
        return await self._handle(request, self._answer_messages)

    async def _count_tokens_endpoint(self, request: Request) -> Response:
        return await self._handle(request, self._answer_count_tokens)

    async def _bedrock_endpoint(self, request: Request) -> Response:
        model = request.path_params["model"]
        return await self._handle(request, lambda record: self._answer_bedrock(record, model))

    async def _vertex_endpoint(self, request: Request) -> Response:
        place = request.path_params
        return await self._handle(
            request, lambda record: self._answer_vertex(record, place["project"], place["region"], place["target"])
        )

    async def _unimplemented(self, request: Request) -> Response:
        record = await self._record(request)
        with self._lock:
            return self._finish(record, self._fail(f"fake anthropic: {request.url.path} is not implemented"))

    async def _handle(self, request: Request, answer: Callable[[RecordedRequest], Response]) -> Response:
        """Record, answer under the lock, and turn a bug in the fake into a loud non-retryable 500."""
        record = await self._record(request)
        with self._lock:
            try:
                response = answer(record)
            except Exception:
                response = self._fail("fake anthropic: internal error\n" + traceback.format_exc())
        return self._finish(record, response)

    async def _not_found(self, request: Request) -> Response:
        record = await self._record(request)
        return self._finish(record, _error_response(404, "not_found_error", f"Not found: {request.url.path}"))

    async def _record(self, request: Request) -> RecordedRequest:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in request.headers.items()}
        url = f"{request.url.scheme}://{headers.get('host', '')}{request.scope.get('raw_path', b'').decode()}"
        record = RecordedRequest(request.method, request.url.path, headers, body, url=url, raw=raw)
        with self._lock:
            self.requests.append(record)
        return record

    @staticmethod
    def _finish(record: RecordedRequest, response: Response) -> Response:
        record.status = response.status_code
        if record.response_json is None and response.media_type == "application/json":
            record.response_json = json.loads(response.body)
        return response

    def _answer_messages(self, record: RecordedRequest) -> Response:
        record.kind, record.model = "messages", record.body.get("model")
        return self._check_headers(record.headers) or self._answer_message_body(record, record.json, _error_response)

    def _answer_count_tokens(self, record: RecordedRequest) -> Response:
        record.kind, record.model = "count_tokens", record.body.get("model")
        return self._check_headers(record.headers) or self._count_tokens(record.json, _error_response)

    def _answer_bedrock(self, record: RecordedRequest, model: str) -> Response:
        record.kind, record.model = "messages", model
        refusal = self._check_aws_authorization(record)
        if refusal:
            return refusal
        try:
            body = model_body(record.json, BEDROCK_VERSION, model, extra_keys_message=BEDROCK_EXTRA_KEY)
        except InvalidRequest as exc:
            return _bedrock_error(400, str(exc))
        return self._answer_message_body(record, body, _bedrock_error_response)

    def _answer_vertex(self, record: RecordedRequest, project: str, region: str, target: str) -> Response:
        model, _, method = target.rpartition(":")
        counting = model == "count-tokens"
        record.kind, record.model = ("count_tokens", record.body.get("model")) if counting else ("messages", model)
        refusal = self._check_vertex_access(record, project, region)
        if refusal:
            return refusal
        if not model or method not in VERTEX_METHODS or (counting and method != "rawPredict"):
            return _google_error(404, f"The URL {record.path} was not found on this server.")
        try:
            if counting:
                return self._count_tokens(versioned_body(record.json, VERTEX_VERSION), _error_response)
            body = model_body(record.json, VERTEX_VERSION, model, stream_allowed=True)
            if bool(body.get("stream")) != (method == "streamRawPredict"):
                raise InvalidRequest("stream: must be true with :streamRawPredict and absent with :rawPredict")
        except InvalidRequest as exc:
            return _error_response(400, "invalid_request_error", str(exc))
        return self._answer_message_body(record, body, _error_response)

    def _answer_message_body(self, record: RecordedRequest, body: Any, errors: ErrorShape) -> Response:
        """Validate a Messages request and play the next step; ``errors`` gives refusals their surface's shape."""
        try:
            messages = validate_request(
                body, required=("max_tokens", "messages", "model"), strict_alternation=self.strict_alternation
            )
        except InvalidRequest as exc:
            return errors(400, "invalid_request_error", str(exc))
        if body["max_tokens"] == 0:
            prewarm = Turn([], stop_reason="max_tokens", usage={"output_tokens": 0})
            return self._message_response(record, body, messages, prewarm)
        return self._play(record, body, messages, self._next_step(record, errors), errors)

    def _count_tokens(self, body: Any, errors: ErrorShape) -> Response:
        try:
            messages = validate_request(
                body, required=("messages", "model"), strict_alternation=self.strict_alternation
            )
        except InvalidRequest as exc:
            return errors(400, "invalid_request_error", str(exc))
        account = self.cache.account(body["model"], prompt_segments(body, messages), write=False)
        return JSONResponse({"input_tokens": account.total}, headers=_request_id_header(self._new_id("req_")))

    def _check_aws_authorization(self, record: RecordedRequest) -> Response | None:
        """A Bedrock API key as a bearer token, or a SigV4 signature for the bedrock service."""
        authorization = record.headers.get("authorization", "")
        token = _bearer(authorization)
        if token is not None:
            valid = self.bedrock_api_key is None or token == self.bedrock_api_key
            return None if valid else _bedrock_error(403, "The API key included in the request is invalid.",
                                                     "AccessDeniedException")
        signed = SIGV4_AUTHORIZATION.fullmatch(authorization)
        if signed is None:
            return _bedrock_error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        problem = self._sigv4_problem(record, signed)
        return _bedrock_error(403, problem[1], problem[0]) if problem else None

    def _sigv4_problem(self, record: RecordedRequest, signed: re.Match[str]) -> tuple[str, str] | None:
        """(error type, message) as AWS words them, or None for a good signature."""
        if signed["service"] != "bedrock":
            return "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'."
        if self.aws_region is not None and signed["region"] != self.aws_region:
            return "InvalidSignatureException", f"Credential should be scoped to a valid region, not {signed['region']}."
        if not record.headers.get("x-amz-date", "").startswith(signed["date"]):
            return "IncompleteSignatureException", DATE_NOT_IN_SCOPE
        if self.aws_credentials is None:
            return None
        key_id, secret, token = (*self.aws_credentials, None)[:3]
        if signed["key"] != key_id or record.headers.get("x-amz-security-token") != token:
            return "UnrecognizedClientException", "The security token included in the request is invalid."
        if sigv4_signature(record, signed, Credentials(key_id, secret, token)) != signed["signature"]:
            return "InvalidSignatureException", BAD_SIGNATURE
        return None

    def _check_vertex_access(self, record: RecordedRequest, project: str, region: str) -> Response | None:
        token = _bearer(record.headers.get("authorization"))
        if token is None or (self.vertex_token is not None and token != self.vertex_token):
            return _google_error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                      "login cookie or other valid authentication credential.")
        if self.vertex_project is not None and project != self.vertex_project:
            return _google_error(403, f"Permission 'aiplatform.endpoints.predict' denied on resource "
                                      f"'projects/{project}/locations/{region}' (or it may not exist).")
        if self.vertex_region is not None and region != self.vertex_region:
            return _google_error(404, f"Publisher model not found in location {region}.")
        return None

    def _check_headers(self, headers: Mapping[str, str]) -> Response | None:
        key = headers.get("x-api-key") or _bearer(headers.get("authorization"))
        if not key:
            return _error_response(401, "authentication_error", "x-api-key header is required")
        if self.api_key is not None and key != self.api_key:
            return _error_response(401, "authentication_error", "invalid x-api-key")
        if not headers.get("anthropic-version"):
            return _error_response(400, "invalid_request_error", "anthropic-version: header is required")
        return None

    def _next_step(self, record: RecordedRequest, errors: ErrorShape) -> Step | Response:
        if self._script:
            return self._script.popleft()
        message = (
            f"fake anthropic: script exhausted (request #{len(self.message_requests)} to {record.path}; "
            "queue more turns with fake.reply / fake.tool_use / fake.error)"
        )
        return self._fail(message, errors)

    def _play(
        self, record: RecordedRequest, body: dict, messages: list[dict], step: Step | Response, errors: ErrorShape
    ) -> Response:
        if isinstance(step, TurnFn):
            step = self._call_turn_fn(step, body, errors)
        if isinstance(step, Response):
            return step
        if isinstance(step, ScriptedError):
            return self._scripted_error_response(step, errors)
        problem = self._undeclared_tool(step, body)
        if problem:
            return self._fail(problem, errors)
        return self._message_response(record, body, messages, step)

    def _call_turn_fn(self, step: TurnFn, body: dict, errors: ErrorShape) -> Step | Response:
        try:
            result = step.fn(copy.deepcopy(body))
            if isinstance(result, dict):
                result = Turn.build(**result)
        except Exception:
            return self._fail("fake anthropic: turn_fn failed\n" + traceback.format_exc(), errors)
        if isinstance(result, (Turn, ScriptedError)):
            return result
        return self._fail(f"fake anthropic: turn_fn returned {result!r}; expected Turn, ScriptedError or dict", errors)

    def _undeclared_tool(self, turn: Turn, body: dict) -> str | None:
        if not self.check_tool_names:
            return None
        declared = {t.get("name") for t in body.get("tools") or []}
        for block in turn.blocks:
            if block.get("type") == "tool_use" and block.get("name") not in declared:
                return (
                    f"fake anthropic: scripted tool_use {block.get('name')!r} is not among the request's tools "
                    f"{sorted(n for n in declared if n)}"
                )
        return None

    def _fail(self, message: str, errors: ErrorShape | None = None) -> Response:
        """Record a problem with the script and answer a non-retryable 500 carrying ``message``."""
        self.failures.append(message)
        return (errors or _error_response)(500, "api_error", message, {"x-should-retry": "false"})

    def _scripted_error_response(self, error: ScriptedError, errors: ErrorShape) -> Response:
        headers = dict(error.headers)
        if error.retry_after is not None:
            headers["retry-after"] = _number(error.retry_after)
        retry_ms = error.retry_after_ms
        if retry_ms is _FROM_FAKE:
            explicit_wait = error.retry_after is not None and error.retry_after > 0
            retry_ms = None if explicit_wait or not _sdk_retries(error) else self.retry_after_ms
        if retry_ms is not None:
            headers["retry-after-ms"] = _number(retry_ms)
        if error.should_retry is not None:
            headers["x-should-retry"] = "true" if error.should_retry else "false"
        return errors(error.status, error.error_type, error.message, headers)

    def _message_response(self, record: RecordedRequest, body: dict, messages: list[dict], turn: Turn) -> Response:
        message = record.response_json = self._message_body(body, messages, turn)
        headers = _request_id_header(self._new_id("req_"))
        if body.get("stream"):
            headers["cache-control"] = "no-cache"
            return Response(_sse(message), media_type="text/event-stream", headers=headers)
        return JSONResponse(message, headers=headers)

    def _message_body(self, body: dict, messages: list[dict], turn: Turn) -> dict[str, Any]:
        content = [self._finish_block(b) for b in turn.blocks]
        return {
            "id": self._new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": turn.stop_reason,
            "stop_sequence": turn.stop_sequence,
            "stop_details": REFUSAL_DETAILS if turn.stop_reason == "refusal" else None,
            "usage": self._usage(body, messages, content, turn.usage),
        }

    def _finish_block(self, block: dict[str, Any]) -> dict[str, Any]:
        block = copy.deepcopy(block)
        if block.get("type") == "tool_use" and not block.get("id"):
            block["id"] = self._new_id("toolu_")
        return block

    def _usage(self, body: dict, messages: list[dict], content: list[dict], override: dict | None) -> dict[str, Any]:
        account = self.cache.account(body["model"], prompt_segments(body, messages))
        usage = {
            "input_tokens": account.uncached,
            "output_tokens": max(1, approx_tokens(len(_plain_text(content).encode()))),
            "cache_creation_input_tokens": account.created,
            "cache_read_input_tokens": account.read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": account.created_5m,
                "ephemeral_1h_input_tokens": account.created_1h,
            },
            "service_tier": "standard",
        }
        usage.update(override or {})
        return usage

    def _new_id(self, prefix: str) -> str:
        while True:
            candidate = prefix + "01" + "".join(self._random.choices(_ID_ALPHABET, k=22))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate


# -------------------------------------------------------------------- responses


def _error_response(
    status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    request_id = "req_fake" + uuid.uuid4().hex[:22]
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}
    return JSONResponse(body, status_code=status, headers={**_request_id_header(request_id), **(headers or {})})


def _bedrock_error(status: int, message: str, error_type: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """Bedrock's error shape: the message in the body, the type in ``x-amzn-ErrorType``."""
    kind = error_type or BEDROCK_ERROR_TYPES.get(status, "InternalServerException" if status >= 500 else
                                                 "ValidationException")
    aws_headers = {"x-amzn-requestid": str(uuid.uuid4()), "x-amzn-errortype": f"{kind}:{BEDROCK_ERROR_NAMESPACE}"}
    return JSONResponse({"message": message}, status_code=status, headers={**aws_headers, **(headers or {})})


def _bedrock_error_response(
    status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An ``ErrorShape`` for Bedrock: the API's error type becomes Bedrock's for the same status."""
    return _bedrock_error(status, message, headers=headers)


def _google_error(status: int, message: str) -> JSONResponse:
    """The shape of Google's front end refusing a request before it reaches the model."""
    error = {"code": status, "message": message, "status": GOOGLE_STATUSES.get(status, "UNKNOWN")}
    return JSONResponse({"error": error}, status_code=status)


def _request_id_header(request_id: str) -> dict[str, str]:
    return {"request-id": request_id}


def _sdk_retries(error: ScriptedError) -> bool:
    """Mirror of the SDK's ``_should_retry``."""
    if error.should_retry is not None:
        return error.should_retry
    return error.status in (408, 409, 429) or error.status >= 500


def model_body(
    body: Any, version: str, model: str, *, stream_allowed: bool = False,
    extra_keys_message: str = "{}: Extra inputs are not permitted",
) -> dict[str, Any]:
    """The Messages request a Bedrock or Vertex body stands for: the model from the path, the
    ``anthropic_version`` checked and dropped. Raise ``InvalidRequest`` as those services would."""
    request = versioned_body(body, version)
    for key in ("model",) if stream_allowed else ("model", "stream"):
        if key in request:
            raise InvalidRequest(extra_keys_message.format(key))
    return {**request, "model": model}


def versioned_body(body: Any, version: str) -> dict[str, Any]:
    """``body`` without its ``anthropic_version``, which must be ``version``."""
    if not isinstance(body, dict):
        raise InvalidRequest("Input should be a valid dictionary or object")
    if "anthropic_version" not in body:
        raise InvalidRequest("anthropic_version: Field required")
    if body["anthropic_version"] != version:
        raise InvalidRequest(f"anthropic_version: Input should be '{version}'")
    return {key: value for key, value in body.items() if key != "anthropic_version"}


def sigv4_signature(record: RecordedRequest, signed: re.Match[str], credentials: Credentials) -> str:
    """The signature botocore computes for the request as received, over the headers it says it signed."""
    headers = {name: record.headers.get(name, "") for name in signed["signed"].split(";")}
    request = AWSRequest(method=record.method, url=record.url, headers=headers, data=record.raw)
    request.context["timestamp"] = record.headers["x-amz-date"]
    signer = SigV4Auth(credentials, signed["service"], signed["region"])
    return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _sse(message: dict[str, Any]) -> bytes:
    """The message as the API's server-sent event stream."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None, "stop_details": None,
             "usage": {**usage, "output_tokens": 1}}
    events = [("message_start", {"type": "message_start", "message": start}), ("ping", {"type": "ping"})]
    for index, block in enumerate(message["content"]):
        events += _block_events(index, block)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"],
             "stop_details": message["stop_details"]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()


def _block_events(index: int, block: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    kind = block.get("type")
    if kind == "text":
        opening, deltas = {**block, "text": ""}, [{"type": "text_delta", "text": t} for t in _halves(block["text"])]
    elif kind == "tool_use":
        opening = {**block, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in _halves(json.dumps(block["input"]))]
    elif kind == "thinking":
        opening = {**block, "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": t} for t in _halves(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    else:
        opening, deltas = block, []
    return (
        [("content_block_start", {"type": "content_block_start", "index": index, "content_block": opening})]
        + [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        + [("content_block_stop", {"type": "content_block_stop", "index": index})]
    )


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [part for part in (text[:middle], text[middle:]) if part]


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("fake anthropic: timed out waiting for uvicorn")
        time.sleep(0.01)
