"""The process's settings (env / `.env`). Each repository's `.github/component-bot.yml` is bot.core.repo_config."""

from bot.config.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_MODEL,
    ConfigError,
    Settings,
    async_database_url,
    describe_validation_error,
    load_settings,
)

__all__ = [
    "DEFAULT_DATABASE_URL", "DEFAULT_MODEL", "ConfigError", "Settings", "async_database_url",
    "describe_validation_error", "load_settings",
]
