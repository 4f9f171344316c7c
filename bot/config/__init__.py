"""Configuration: the process's settings (env / `.env`) and each repository's `.github/component-bot.yml`."""

from bot.core.repo_config import ConfigFileError, MergePolicy, RepoConfig, parse_repo_config
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
    "DEFAULT_DATABASE_URL", "DEFAULT_MODEL", "ConfigError", "ConfigFileError", "MergePolicy", "RepoConfig",
    "Settings", "async_database_url", "describe_validation_error", "load_settings", "parse_repo_config",
]
