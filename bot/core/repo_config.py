"""`.github/component-bot.yml`: what a repository tells the bot. Absent file → defaults."""

from __future__ import annotations

from enum import Enum

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_PATH = ".github/component-bot.yml"


class ConfigFileError(ValueError):
    """The repository's config file is not valid YAML or not a valid config. The message quotes why."""


class MergePolicy(str, Enum):
    manual = "manual"
    on_approval = "on_approval"
    auto = "auto"


class MergeMethod(str, Enum):
    merge = "merge"
    squash = "squash"
    rebase = "rebase"


class RepoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    max_fix_iterations: int = Field(default=3, ge=0, le=20)
    max_step_attempts: int = Field(default=3, ge=1, le=10)
    protected_paths: list[str] = Field(default_factory=list)
    required_checks: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    merge: MergePolicy = MergePolicy.manual
    merge_method: MergeMethod = MergeMethod.squash
    reviewers: list[str] = Field(default_factory=list)
    team_reviewers: list[str] = Field(default_factory=list)
    max_turns: int = Field(default=40, ge=1, le=500)
    token_budget: int = Field(default=2_000_000, ge=1_000)
    checks_appear_timeout: int = Field(default=600, ge=30, description="seconds")
    checks_timeout: int = Field(default=3600, ge=60, description="seconds")
    outage_max_wait: int = Field(default=6 * 3600, ge=60, description="seconds a session waits out an outage")
    report_max_bytes: int = Field(default=20_000, ge=1_000, le=200_000)
    branch_prefix: str = "component-bot/"

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_as_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


def parse_repo_config(text: str | None) -> RepoConfig:
    """The config from the file's text (None: the file does not exist → defaults)."""
    if text is None or not text.strip():
        return RepoConfig()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{CONFIG_PATH} is not valid YAML:\n{exc}") from None
    if data is None:
        return RepoConfig()
    if not isinstance(data, dict):
        raise ConfigFileError(f"{CONFIG_PATH} must be a mapping of settings, not {type(data).__name__}")
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"- `{'.'.join(map(str, e['loc']))}`: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigFileError(f"{CONFIG_PATH} has invalid settings:\n{problems}") from None
