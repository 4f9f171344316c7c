"""Process settings, read from the environment or a `.env` file.

Every failure to load them becomes a `ConfigError` whose message is one line naming the
setting; the value itself never appears in it, nor in `repr()`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./component-bot.sqlite3"
DEFAULT_MODEL = "claude-sonnet-5-5"
REGION_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class ConfigError(Exception):
    """A setting is missing or invalid. The message is safe to print."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    app_id: int | None = None
    private_key: SecretStr | None = None
    private_key_path: Path | None = None
    webhook_secret: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    # Where Claude runs. BOT_MODEL must be that provider's model id (README, "Model providers").
    bot_provider: Literal["anthropic", "bedrock", "vertex"] = "anthropic"
    bot_model: str = DEFAULT_MODEL
    # What each installation may spend on the model per calendar month (UTC), in US dollars; unset: no limit.
    bot_monthly_budget_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    # Amazon Bedrock: the region; credentials come from the AWS chain (environment, AWS_PROFILE, role).
    aws_region: str | None = Field(default=None, validation_alias=AliasChoices("aws_region", "aws_default_region"))
    anthropic_bedrock_base_url: str | None = None
    # Google Vertex AI: region and project; credentials are Google's application default credentials.
    vertex_region: str | None = Field(default=None, validation_alias=AliasChoices("vertex_region", "cloud_ml_region"))
    vertex_project_id: str | None = Field(
        default=None, validation_alias=AliasChoices("vertex_project_id", "anthropic_vertex_project_id"))
    anthropic_vertex_base_url: str | None = None
    bot_trigger_label: str = "implement-component"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    github_timeout: float = Field(default=30.0, gt=0)
    # Registration (the manifest flow, when the App settings above are absent) and the dashboard.
    public_url: str | None = None          # this server's address as GitHub and browsers reach it
    webhook_proxy_url: str | None = None   # e.g. a smee.io channel forwarding to this server
    github_client_id: str | None = None    # the App's OAuth client: dashboard sign-in with GitHub
    github_client_secret: SecretStr | None = None
    dashboard_token: SecretStr | None = None  # alternatively, a bearer token for the dashboard
    setup_token: SecretStr | None = Field(default=None, min_length=16)  # instead of the one setup logs
    env_file: Path | None = None           # where registration writes the App's settings (./.env)
    reconcile_interval: float = Field(default=60.0, gt=0, description="seconds between looks at waiting checks")
    # `serve` prunes, once a day, what is older than this many days (bot/retention.py); unset: never.
    retention_days: int | None = Field(default=None, gt=0)
    # Jobs a worker runs at once (PostgreSQL): `component-bot worker --concurrency`, and serve's own worker.
    worker_concurrency: int = Field(default=10, gt=0, le=1000)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("bot_provider", mode="before")
    @classmethod
    def _lower_provider(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("retention_days", "bot_monthly_budget_usd", "aws_region", "vertex_region", "vertex_project_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("aws_region", "vertex_region")
    @classmethod
    def _region_name(cls, value: str | None) -> str | None:
        """The region becomes part of the service's host name: a typo should fail here, not in DNS."""
        if value is not None and not REGION_NAME.fullmatch(value):
            raise ValueError("must be a region name such as us-east-1")
        return value

    @field_validator("github_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("public_url", "webhook_proxy_url", "anthropic_bedrock_base_url", "anthropic_vertex_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("private_key", mode="before")
    @classmethod
    def _unescape_newlines(cls, value: object) -> object:
        """Accept a PEM written on one line with literal `\\n`, as many hosts require."""
        if isinstance(value, str):
            return value.replace("\\n", "\n").strip() + "\n"
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_database_url(value)

    @model_validator(mode="after")
    def _read_private_key_file(self) -> Settings:
        if self.private_key is None and self.private_key_path is not None:
            try:
                pem = self.private_key_path.read_text()
            except OSError as exc:
                raise ValueError(f"PRIVATE_KEY_PATH: cannot read the file ({exc.strerror})") from None
            self.private_key = SecretStr(pem)
        if self.private_key is not None:
            check_private_key(self.private_key.get_secret_value())
        return self

    @model_validator(mode="after")
    def _provider_settings_present(self) -> Settings:
        missing = missing_provider_setting(self)
        if missing:
            raise ValueError(missing)
        return self

    @property
    def html_url(self) -> str:
        """GitHub's web address: github.com, or the GHES host behind `/api/v3`."""
        if self.github_api_url == "https://api.github.com":
            return "https://github.com"
        return self.github_api_url.removesuffix("/api/v3")

    @property
    def github_app_configured(self) -> bool:
        return self.app_id is not None and self.private_key is not None and self.webhook_secret is not None

    @property
    def github_app_partly_configured(self) -> bool:
        """Some App settings are present but not all: a mistake to report, not a fresh install."""
        present = (self.app_id, self.private_key or self.private_key_path, self.webhook_secret)
        return any(v is not None for v in present) and not self.github_app_configured

    @property
    def model_provider_configured(self) -> bool:
        """Whether the agent can call Claude: Bedrock and Vertex need no ANTHROPIC_API_KEY."""
        return self.bot_provider != "anthropic" or self.anthropic_api_key is not None

    @property
    def env_path(self) -> Path:
        return self.env_file or Path(".env")

    def require_github_app(self) -> None:
        """Raise `ConfigError` naming the first GitHub App setting that is missing."""
        if self.app_id is None:
            raise ConfigError("missing setting APP_ID (the GitHub App's id)")
        if self.private_key is None:
            raise ConfigError("missing setting PRIVATE_KEY or PRIVATE_KEY_PATH (the GitHub App's private key)")
        if self.webhook_secret is None:
            raise ConfigError("missing setting WEBHOOK_SECRET (the GitHub App's webhook secret)")


def missing_provider_setting(settings: Settings) -> str | None:
    """The one-line complaint about the first setting BOT_PROVIDER needs and does not have."""
    needed = {
        "bedrock": [("AWS_REGION", settings.aws_region, "the AWS region of Amazon Bedrock, e.g. us-east-1")],
        "vertex": [("VERTEX_REGION or CLOUD_ML_REGION", settings.vertex_region,
                    "the Google Cloud region of Vertex AI, e.g. us-east5 or global"),
                   ("VERTEX_PROJECT_ID or ANTHROPIC_VERTEX_PROJECT_ID", settings.vertex_project_id,
                    "the Google Cloud project that has Claude enabled")],
    }
    for name, value, meaning in needed.get(settings.bot_provider, []):
        if value is None:
            return f"missing setting {name} ({meaning}; required with BOT_PROVIDER={settings.bot_provider})"
    return None


def check_private_key(pem: str) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("PRIVATE_KEY: not a PEM-encoded private key") from None


def async_database_url(url: str) -> str:
    """Map the URL forms operators usually write to the async drivers we ship."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
        raise ValueError("must be a sqlite:// or postgresql:// URL")
    return url


def load_settings(**overrides: object) -> Settings:
    """Load settings, turning validation errors into one `ConfigError` line."""
    overrides.setdefault("_env_file", os.environ.get("ENV_FILE") or ".env")  # ENV_FILE: read where setup writes
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    names = [str(part) for part in first["loc"] if isinstance(part, str)]
    message = first["msg"].removeprefix("Value error, ")
    if message.startswith("missing setting "):
        return message
    if names:
        return f"invalid setting {names[0].upper()}: {message}"
    return f"invalid settings: {message}"
