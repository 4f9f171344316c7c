"""Structured logging: JSON lines when not on a terminal, each carrying the current delivery,
installation, repository, session and step, with every configured secret redacted.

`redact` (text) and `redact_data` (every string of a JSON-like value) are also what the database
stores through: interactions (bot/sessions/store.py) and transcripts (bot/runner.py)."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

CONTEXT_FIELDS = ("delivery_id", "installation_id", "repository", "session_id", "step")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_context", default={})
_secrets: set[str] = set()

# Tokens GitHub and Anthropic issue have recognisable shapes; redact them even when unknown to us.
# A GitHub App's JWT (RS256) is three base64url segments, the first two JSON objects: `eyJ…`.
_TOKEN_PATTERN = re.compile(
    r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-ant-[A-Za-z0-9_\-]{10,}"
    r"|eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
)
REDACTED = "[REDACTED]"


MIN_SECRET_LENGTH = 8  # a shorter "secret" would blank out ordinary words in every line


_longest_first: tuple[str, ...] = ()


def register_secret(value: str | None) -> None:
    """Make `value` (and each line of it, for PEM keys) disappear from every log line.

    Its escaped spellings are registered too: text that already holds JSON (an error quoting a
    request body, a transcript) or a `%r` carries the secret with `"` and `\\` escaped."""
    global _longest_first
    if value and len(value) >= MIN_SECRET_LENGTH:
        _secrets.update(escaped_forms(value))
        for line in value.splitlines():
            if len(line) >= 16 and not line.startswith("-----"):
                _secrets.update(escaped_forms(line))
        _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def escaped_forms(value: str) -> set[str]:
    """`value` as written raw, inside a JSON string (ASCII-only or not) and inside a Python repr."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1]}


def redact(text: str) -> str:
    text = _TOKEN_PATTERN.sub(REDACTED, text)  # first: whole PEM blocks, whoever's key they hold
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_data(value: Any) -> Any:
    """`value` with every string in it redacted, dict keys included, however deeply nested."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(key): redact_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_data(item) for item in value)
    return value


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach fields (delivery_id, repository, session_id, step…) to every log line inside the block."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line, every string in it redacted before encoding: `json.dumps` escapes
    `"`, `\\` and non-ASCII characters, and a secret so escaped would no longer be found."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value if isinstance(value, (int, float, bool)) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(redact_data(line))


class TextFormatter(logging.Formatter):
    """Plain text for a terminal. Nothing is escaped here, so redacting the finished line redacts
    each part of it (message, exception, context fields) as written."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if getattr(record, k, None) is not None)
        return redact(f"{text} [{fields}]" if fields else text)


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter() if use_json else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "aiosqlite", "alembic", "procrastinate"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
