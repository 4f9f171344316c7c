"""Structured logging: JSON lines when not on a terminal, each carrying the current delivery,
installation, repository, session and step, with every configured secret redacted."""

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

# Tokens GitHub and Anthropic issue have recognisable prefixes; redact them even when unknown to us.
_TOKEN_PATTERN = re.compile(
    r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-ant-[A-Za-z0-9_\-]{10,})"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
)
REDACTED = "[REDACTED]"


MIN_SECRET_LENGTH = 8  # a shorter "secret" would blank out ordinary words in every line


def register_secret(value: str | None) -> None:
    """Make `value` (and each line of it, for PEM keys) disappear from every log line."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        _secrets.add(value)
        _secrets.update(line for line in value.splitlines() if len(line) >= 16 and not line.startswith("-----"))


def redact(text: str) -> str:
    text = _TOKEN_PATTERN.sub(REDACTED, text)  # first: whole PEM blocks, whoever's key they hold
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


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
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, default=str))


class TextFormatter(logging.Formatter):
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
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
