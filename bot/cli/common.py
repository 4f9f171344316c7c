"""What every `component-bot` command shares: settings, logging and safe error messages."""

from __future__ import annotations

import json
from typing import Any

from githubkit.exception import RequestFailed
from sqlalchemy.exc import DBAPIError

from bot.config import Settings, load_settings
from bot.github.errors import describe
from bot.telemetry.logs import configure_logging, redact, register_secret


def prepare(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)
    for secret in (settings.private_key, settings.webhook_secret, settings.anthropic_api_key,
                   settings.github_client_secret, settings.dashboard_token):
        if secret is not None:
            register_secret(secret.get_secret_value())


def operator_settings() -> Settings:
    settings = load_settings()
    prepare(settings)
    return settings


def emit(text: str) -> None:
    print(redact(text))


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def github_error(exc: BaseException) -> str:
    """GitHub's answer (bot.github.errors.describe), or that it could not be reached."""
    return describe(exc) if isinstance(exc, RequestFailed) else f"cannot reach GitHub ({type(exc).__name__})"


def database_error(exc: DBAPIError) -> str:
    detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    hint = " (has `component-bot migrate` run?)" if "no such table" in detail or "does not exist" in detail else ""
    return f"cannot read the database: {redact(detail)}{hint}"
